package main

import (
	"bytes"
	"context"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
)

// What nats bench v0.5.0 prints at the end of a run (recorded on this
// machine), and what the bench role reads from it.
func TestParseNatsBench(t *testing.T) {
	out := "15:33:35 Starting JetStream fast batch publisher benchmark [batch=500]\n" +
		"NATS JetStream fast batch publisher stats: 166,520 msgs/sec ~ 20 MiB/sec ~ min: 1,460.32us ~ avg: 2,989.73us ~ max: 25,907.41us ~ P50: 1,759.71us ~ P90: 5,381.62us ~ P99: 25,907.41us ~ P99.9: 25,907.41us\n"
	got, err := parseNatsBench(out)
	if err != nil {
		t.Fatal(err)
	}
	if want := (sample{"rate": 166520, "p50": 1759.71, "p99": 25907.41}); !equalSamples(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	got, err = parseNatsBench("stats: 7 msgs/sec ~ P50: 1.5ms ~ P99: 2s")
	if err != nil {
		t.Fatal(err)
	}
	if want := (sample{"rate": 7, "p50": 1500, "p99": 2e6}); !equalSamples(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if _, err := parseNatsBench("nats: error: could not create the stream"); err == nil {
		t.Error("no stats line, no error")
	}
}

func equalSamples(a, b sample) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || v-w > 1e-6 || w-v > 1e-6 {
			return false
		}
	}
	return true
}

// The bench role reads back what the publish role prints.
func TestParsePublishRoleReadsReportPublish(t *testing.T) {
	var out bytes.Buffer
	cfg := basePublish
	cfg.mode = "sync"
	reportPublish(&out, cfg, publishResult{msgs: 4, elapsed: time.Second,
		latencies: []time.Duration{100 * time.Microsecond, 200 * time.Microsecond, 300 * time.Microsecond, 400 * time.Microsecond}})
	got, err := parsePublishRole(out.String())
	if err != nil {
		t.Fatal(err)
	}
	if want := (sample{"rate": 4, "p50": 200, "p99": 400}); !equalSamples(got, want) {
		t.Errorf("got %v from:\n%s", got, out.String())
	}
}

// Each repetition runs every measurement once, starting one further along:
// none always runs first, or always right after the same other one.
func TestInterleaveTurnsTheOrderEachRepetition(t *testing.T) {
	b := &bench{benchConfig: benchConfig{reps: 4}, log: io.Discard}
	var order []string
	_, err := b.interleave(context.Background(), []string{"a", "b", "c"}, nil, func(_ context.Context, name string) (sample, error) {
		order = append(order, name)
		return sample{"rate": 1}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(order, ""), "abcbcacababc"; got != want {
		t.Errorf("order %s, want %s", got, want)
	}
}

// Ratios are taken repetition by repetition; the table gives their median.
func TestRatiosAreTakenWithinARepetition(t *testing.T) {
	r := ratios(series{10, 20, 40}, series{10, 10, 10})
	if !slices.Equal(r, series{1, 2, 4}) || r.median() != 2 || (series{1, 2, 3, 4}).median() != 2.5 {
		t.Errorf("ratios %v, median %v", r, r.median())
	}
}

// Without the real binaries the bench role says what to install.
func TestBenchNeedsTheRealBinaries(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	err := runBench(context.Background(), benchConfig{reps: 1, scale: 1, steps: []string{"pacer"}}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "nats-server is not on PATH") || !strings.Contains(err.Error(), "go install github.com/nats-io/nats-server/v2@v2.15.2") {
		t.Errorf("err = %v, want how to install nats-server", err)
	}
}

func TestSizesReadAndWriteTheSame(t *testing.T) {
	for text, n := range map[string]int{"16": 16, "128B": 128, "1KiB": 1024, "64KiB": 65536, "1MiB": 1 << 20} {
		got, err := parseSize(text)
		if err != nil || got != n {
			t.Errorf("parseSize(%q) = %d, %v; want %d", text, got, err, n)
		}
		if back, err := parseSize(formatSize(n)); err != nil || back != n {
			t.Errorf("formatSize(%d) = %q, which reads back as %d, %v", n, formatSize(n), back, err)
		}
	}
	for _, bad := range []string{"", "B", "-1", "1.5KiB", "9MiB"} {
		if _, err := parseSize(bad); err == nil {
			t.Errorf("parseSize(%q): no error", bad)
		}
	}
}
