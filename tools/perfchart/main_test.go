package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var committedResults = filepath.Join("..", "..", "chapters", "13-performance", "testdata", "results.txtar")

// Each edition's committed chart is a drawing of the committed results; CI
// runs the same check with "go run ./tools/perfchart -check".
func TestCommittedChartsMatchTheCommittedResults(t *testing.T) {
	for _, c := range Charts {
		if err := run(committedResults, filepath.Join("..", "..", c.Path), c.Labels, true); err != nil {
			t.Error(err)
		}
	}
}

// Two drawings of the same results are the same bytes, so the check above
// can compare them.
func TestDrawingIsDeterministic(t *testing.T) {
	data, err := os.ReadFile(committedResults)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range Charts {
		a, err := Draw(data, c.Labels)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Draw(data, c.Labels)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s: two drawings differ", c.Path)
		}
	}
}

// The chart shows each row of the window and consume tables, with its
// rate and its ratio, and names the machine.
func TestTheChartShowsEveryRowAndTheMachine(t *testing.T) {
	svg, err := Draw([]byte(testResults), English)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"a test machine, idle", ">window 1<", "7.1k ×0.05", ">window 500<", "146k ×1.00<", "150k ×1.03, 12 of 100 refused (median)", ">sync<", ">Consume<", "3.7M ×1.00", ">1k<", ">10M<"} {
		if !strings.Contains(string(svg), want) {
			t.Errorf("the chart lacks %q:\n%s", want, svg)
		}
	}
	if _, err := Draw([]byte("-- window --\nwindow  messages  msgs/s\n"), English); err == nil {
		t.Error("results without a consume table: no error")
	}
}

// The Korean chart has the same bars, rates and ratios, and the same names
// of rows, machine and unit; its prose is Korean, with no English left.
func TestTheKoreanChartTranslatesOnlyItsProse(t *testing.T) {
	svg, err := Draw([]byte(testResults), Korean)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"a test machine, idle", ">창 1<", "7.1k ×0.05", ">창 500<", "146k ×1.00<", "150k ×1.03, 거부 12/100 (중앙값)", ">창 unbounded<", ">sync<", ">Consume<", "3.7M ×1.00", ">1k<", ">10M<", "msgs/s", "128 B 발행"} {
		if !strings.Contains(string(svg), want) {
			t.Errorf("the Korean chart lacks %q:\n%s", want, svg)
		}
	}
	for _, prose := range []string{"Publishing", "Consuming", "window", "refused", "median", "Medians", "log scale", "ratio", "measured"} {
		if strings.Contains(string(svg), prose) {
			t.Errorf("the Korean chart still says %q:\n%s", prose, svg)
		}
	}
	english, err := Draw([]byte(testResults), English)
	if err != nil {
		t.Fatal(err)
	}
	bars := regexp.MustCompile(`<rect x="190"[^>]*>`)
	if e, k := bars.FindAllString(string(english), -1), bars.FindAllString(string(svg), -1); !slices.Equal(e, k) {
		t.Errorf("the bars differ between the editions:\n%q\n%q", e, k)
	}
}

const testResults = `-- machine --
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
