package main

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
)

// The page quotes no number by hand: its tables are included from the
// committed results, testdata/results.txtar, that the bench role wrote on
// the machine it names. These tests hold the page's words to those
// results. Run the bench role again on another machine, and they say
// which words no longer hold.

// resultTable is one table of the results.
type resultTable struct {
	header []string
	rows   map[string][]string // by the first cell
}

var cellSep = regexp.MustCompile(`\s{2,}`)

func loadResults(t *testing.T) map[string]resultTable {
	t.Helper()
	data, err := os.ReadFile("testdata/results.txtar")
	if err != nil {
		t.Fatal(err)
	}
	tables := map[string]resultTable{}
	for _, f := range txtar.Parse(data).Files {
		table := resultTable{rows: map[string][]string{}}
		for _, line := range strings.Split(string(f.Data), "\n") {
			if line = strings.TrimSpace(line); line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			cells := cellSep.Split(line, -1)
			if table.header == nil && f.Name != "machine" {
				table.header = cells
				continue
			}
			table.rows[cells[0]] = cells
		}
		tables[f.Name] = table
	}
	return tables
}

// value reads the number in the column of table whose header is column,
// on the row that starts with row.
func value(t *testing.T, tables map[string]resultTable, table, row, column string) float64 {
	t.Helper()
	tb, ok := tables[table]
	if !ok {
		t.Fatalf("the results have no %s table", table)
	}
	cells, ok := tb.rows[row]
	if !ok {
		t.Fatalf("the %s table has no row %q", table, row)
	}
	for i, h := range tb.header {
		if h == column && i < len(cells) {
			v, err := strconv.ParseFloat(cells[i], 64)
			if err != nil {
				t.Fatalf("%s, row %q, column %q: %v", table, row, column, err)
			}
			return v
		}
	}
	t.Fatalf("the %s table has no column %q (it has %q)", table, column, tb.header)
	return 0
}

func TestTheResultsBackThePage(t *testing.T) {
	r := loadResults(t)
	v := func(table, row, column string) float64 { t.Helper(); return value(t, r, table, row, column) }

	t.Run("every table names its load", func(t *testing.T) {
		if m := r["machine"].rows["machine"]; len(m) < 2 || strings.Contains(m[1], "not described") {
			t.Errorf("the machine is not described: %q", m)
		}
		for name, table := range r {
			if name == "machine" || name == "reference-latency" {
				continue
			}
			for _, row := range table.rows {
				if load := row[len(row)-1]; !regexp.MustCompile(`^\d+\.\d-\d+\.\d$`).MatchString(load) {
					t.Errorf("%s, row %q: load %q", name, row[0], load)
				}
			}
		}
	})
	// The bars: a sliding window at 1.1 times nats bench's async
	// publisher at least, a sync publish at 0.95 times its sync publisher.
	t.Run("async keeps pace with nats bench", func(t *testing.T) {
		if got := v("reference", "async", "Go ÷ nb"); got < 1.1 {
			t.Errorf("a window of 500 at %.2f× nats bench js pub async --batch 500, want 1.1× at least", got)
		}
	})
	t.Run("sync keeps pace with nats bench", func(t *testing.T) {
		if got := v("reference", "sync", "Go ÷ nb"); got < 0.95 {
			t.Errorf("a sync publish at %.2f× nats bench js pub sync, want 0.95× at least", got)
		}
	})
	t.Run("a window of 1 is no faster than sync", func(t *testing.T) {
		one, sync := v("window", "1", "msgs/s"), v("window", "sync", "msgs/s")
		if one > 1.5*sync {
			t.Errorf("a window of 1 at %.0f msgs/s, sync at %.0f", one, sync)
		}
		if got := v("window", "1", "÷ window 500"); got > 0.25 {
			t.Errorf("a window of 1 at %.2f× a window of 500: not many times slower", got)
		}
	})
	t.Run("one message a round trip is slow", func(t *testing.T) {
		for _, way := range []string{"Next", "Fetch(1)"} {
			if got := v("consume", way, "÷ Consume"); got > 0.25 {
				t.Errorf("%s at %.2f× Consume", way, got)
			}
		}
		if ten, batch := v("consume", "Fetch(10)", "msgs/s"), v("consume", "Fetch(500)", "msgs/s"); ten >= batch {
			t.Errorf("Fetch(10) at %.0f msgs/s, Fetch(500) at %.0f", ten, batch)
		}
	})
	t.Run("jetstream takes longer than core", func(t *testing.T) {
		for _, path := range []string{"file", "memory"} {
			if got := v("latency", path, "p50 ÷ core"); got <= 1 {
				t.Errorf("%s p50 at %.2f× core NATS", path, got)
			}
		}
	})
	t.Run("size", func(t *testing.T) {
		if got := v("size", "1KiB async", "÷ 128B"); got < 0.6 {
			t.Errorf("1 KiB at %.2f× the rate of 128 B", got)
		}
		if got := v("size", "64KiB async", "÷ 128B"); got > 0.3 {
			t.Errorf("64 KiB at %.2f× the rate of 128 B", got)
		}
		if big, mid := v("size", "64KiB async", "MB/s"), v("size", "4KiB async", "MB/s"); big < mid {
			t.Errorf("64 KiB at %.0f MB/s, below 4 KiB at %.0f", big, mid)
		}
	})
	t.Run("publishers", func(t *testing.T) {
		sync, async := v("publishers", "4 sync", "÷ 1"), v("publishers", "4 async", "÷ 1")
		if sync < 1.5 || async >= sync {
			t.Errorf("4 publishers: sync at %.2f×, async at %.2f× one", sync, async)
		}
	})
	t.Run("sync_interval always", func(t *testing.T) {
		async, sync := v("storage", "always async", "÷ file"), v("storage", "always sync", "÷ file")
		if async > 0.2 || sync >= 1 || async >= sync {
			t.Errorf("sync_interval always: async at %.2f×, sync at %.2f× of the default", async, sync)
		}
	})
	t.Run("r3", func(t *testing.T) {
		if sync, async := v("replicas", "R3 sync", "÷ R1"), v("replicas", "R3 async", "÷ R1"); sync >= 1 || sync >= async {
			t.Errorf("R3 at %.2f× R1 for sync, %.2f× for async", sync, async)
		}
	})
	t.Run("unbounded loses messages", func(t *testing.T) {
		if got := v("window", "unbounded", "most refused"); got == 0 {
			t.Error("no repetition of an unbounded window had a publish refused")
		}
	})
	t.Run("settings", func(t *testing.T) {
		for _, variant := range []string{"async-fresh-payload", "sync-ctx-per-msg", "sync-fresh-payload"} {
			if got := v("settings", variant, "÷ without"); got < 0.85 {
				t.Errorf("%s at %.2f× the loop without it", variant, got)
			}
		}
	})
	t.Run("in process", func(t *testing.T) {
		tcp, mem, async := v("inprocess", "embedded-tcp sync", "÷ binary"), v("inprocess", "embedded-inprocess sync", "÷ binary"), v("inprocess", "embedded-tcp async", "÷ binary")
		if tcp <= 1 || mem <= 1 || async >= tcp {
			t.Errorf("embedded sync over TCP at %.2f×, in memory at %.2f×, async over TCP at %.2f× the binary", tcp, mem, async)
		}
	})
	t.Run("pacer", func(t *testing.T) {
		if sleep, nano := v("pacer", "time.Sleep", "late p50"), v("pacer", "sleepUntil", "late p50"); sleep <= nano {
			t.Errorf("time.Sleep late by %.0f µs, sleepUntil by %.0f", sleep, nano)
		}
	})
	t.Run("batch", func(t *testing.T) {
		if fast, window, atomic := v("batch", "fast", "÷ nb async"), v("batch", "window", "÷ nb async"), v("batch", "atomic", "÷ nb async"); atomic >= window || window < 1 || fast <= 1 {
			t.Errorf("fast at %.2f×, the window at %.2f×, atomic at %.2f× nats bench's async", fast, window, atomic)
		}
	})
}
