package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
)

// C09: the seed says JetStream "scales well, and still guarantees
// low-latency messaging". NATS guarantees no latency, so the claim cannot
// be tested as stated. The errata's row says instead what the chapter
// measured, on the machine it names, and this test keeps its numbers equal
// to the committed results: rerun the bench role, and it says what the row
// should say.
func TestC09_TheErrataRowQuotesTheResults(t *testing.T) {
	r := loadResults(t)
	cell := func(table, row, column string) string {
		t.Helper()
		return fmt.Sprintf("%.0f", value(t, r, table, row, column))
	}
	ratio := func(table, row, column string) string {
		t.Helper()
		return fmt.Sprintf("%.2f", value(t, r, table, row, column))
	}
	machine := r["machine"].rows["machine"][1]
	loads := regexp.MustCompile(`[\d.]+`).FindAllString(r["machine"].rows["load"][1], -1)
	if len(loads) < 3 { // "1-minute load average X at the start, Y at the end"
		t.Fatalf("no load average in the machine table: %q", r["machine"].rows["load"])
	}
	measured := fmt.Sprintf("Unfalsifiable as a guarantee: NATS promises no latency. Measured in chapter 13 "+
		"(128 B messages, one nats-server binary over loopback, on this machine: %s; load average %s at the start, %s at the end): "+
		"a JetStream message reached its consumer in p50 %s µs, p99 %s µs at 2000 msgs/s, core NATS in p50 %s µs, p99 %s µs; "+
		"a sync publish waited p50 %s µs for its `PubAck`; a window of 500 published %s msgs/s, %s× `nats bench`; "+
		"4 sync publishers published %s× as much as one, and an R3 stream took %s× R1's sync rate",
		machine, loads[1], loads[2],
		cell("latency", "file", "p50"), cell("latency", "file", "p99"), cell("latency", "core", "p50"), cell("latency", "core", "p99"),
		cell("reference-latency", "p50", "Go µs"), cell("reference", "async", "Go msgs/s"), ratio("reference", "async", "Go ÷ nb"),
		ratio("publishers", "4 sync", "÷ 1"), ratio("replicas", "R3 sync", "÷ R1"))

	errata, err := os.ReadFile(filepath.Join("..", "..", "docs", "errata.md"))
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile(`(?m)^\| C09 \| .*$`).FindString(string(errata))
	cells := strings.Split(row, " | ")
	if len(cells) != 6 {
		t.Fatalf("docs/errata.md has no C09 row of six cells: %q", row)
	}
	if verdict := cells[3]; !strings.HasPrefix(verdict, measured) {
		t.Errorf("the C09 verdict in docs/errata.md does not quote the committed results. It should begin:\n%s\nit says:\n%s", measured, verdict)
	}
	if !strings.Contains(cells[5], "(13-performance.md#the-seeds-claims-in-this-chapter)") {
		t.Errorf("the C09 row links %s, want chapter 13's claims", cells[5])
	}
}

// nats.go v1.55.0 knows the stream settings of batch publishing, and has no
// batch publisher: no code of it writes a Nats-Batch header.
func TestNatsGoHasNoBatchPublisher(t *testing.T) {
	cfg := reflect.TypeFor[jetstream.StreamConfig]()
	for _, field := range []string{"AllowAtomicPublish", "AllowBatchPublish"} {
		if _, ok := cfg.FieldByName(field); !ok {
			t.Errorf("jetstream.StreamConfig has no %s", field)
		}
	}
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/nats-io/nats.go").Output()
	if err != nil {
		t.Fatal(err)
	}
	dir := strings.TrimSpace(string(out))
	files, err := filepath.Glob(filepath.Join(dir, "*.go")) // the legacy JetStream API
	if err != nil {
		t.Fatal(err)
	}
	more, err := filepath.Glob(filepath.Join(dir, "jetstream", "*.go"))
	if err != nil || len(more) == 0 {
		t.Fatalf("no sources in %s: %v", dir, err)
	}
	files = append(files, more...)
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(src), "Nats-Batch") {
			t.Errorf("%s writes a Nats-Batch header: nats.go may publish batches now", file)
		}
	}
}
