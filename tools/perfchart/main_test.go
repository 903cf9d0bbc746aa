package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var (
	committedResults = filepath.Join("..", "..", "chapters", "13-performance", "testdata", "results.txtar")
	committedChart   = filepath.Join("..", "..", "docs", "charts", "performance.svg")
)

// The committed chart is a drawing of the committed results; CI runs the
// same check with "go run ./tools/perfchart -check".
func TestCommittedChartMatchesTheCommittedResults(t *testing.T) {
	if err := run(committedResults, committedChart, true); err != nil {
		t.Fatal(err)
	}
}

// Two drawings of the same results are the same bytes, so the check above
// can compare them.
func TestDrawingIsDeterministic(t *testing.T) {
	data, err := os.ReadFile(committedResults)
	if err != nil {
		t.Fatal(err)
	}
	a, err := Draw(data)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Draw(data)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Error("two drawings differ")
	}
}

// The chart shows each row of the window and consume tables, with its
// rate and its ratio, and names the machine.
func TestTheChartShowsEveryRowAndTheMachine(t *testing.T) {
	results := `-- machine --
machine  a test machine, idle
cpus     2
-- window --
# a comment
window     messages  msgs/s  ÷ window 500  range      refused
1          100       7100    0.05          0.04-0.06  0
500        100       146000  1.00          1.00-1.00  0
unbounded  100       150000  1.03          0.90-1.10  12
sync    100       7000    0.05          0.04-0.06
-- consume --
way      messages  msgs/s   ÷ Consume  range
Consume  100       3700000  1.00       1.00-1.00
`
	svg, err := Draw([]byte(results))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"a test machine, idle", ">window 1<", "7.1k ×0.05", ">window 500<", "146k ×1.00<", "150k ×1.03, 12 of 100 refused (median)", ">sync<", ">Consume<", "3.7M ×1.00", ">1k<", ">10M<"} {
		if !strings.Contains(string(svg), want) {
			t.Errorf("the chart lacks %q:\n%s", want, svg)
		}
	}
	if _, err := Draw([]byte("-- window --\nwindow  messages  msgs/s\n")); err == nil {
		t.Error("results without a consume table: no error")
	}
}
