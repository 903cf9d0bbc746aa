package main

import (
	"testing"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
)

// Percentiles by nearest rank, as nats bench computes them: the p-th of n
// sorted samples is the ceil(p/100*n)-th, never an interpolation.
func TestPercentilesAreNearestRank(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[len(hundred)-1-i] = time.Duration(i + 1) // unsorted on purpose
	}
	if got, want := percentilesOf(hundred), (quantiles{50, 90, 99, 100}); got != want {
		t.Errorf("1..100: %+v, want %+v", got, want)
	}
	ten := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	if got, want := percentilesOf(ten), (quantiles{5, 9, 10, 10}); got != want {
		t.Errorf("1..10: %+v, want %+v", got, want)
	}
	if got := percentilesOf(nil); got != (quantiles{}) {
		t.Errorf("no samples: %+v, want zeros", got)
	}
}

// The pacer never sends early: sleepUntil returns at its time or later,
// even though signals cut a nanosleep short.
func TestSleepUntilNeverReturnsEarly(t *testing.T) {
	for range 200 {
		due := time.Now().Add(50 * time.Microsecond)
		sleepUntil(due)
		if now := time.Now(); now.Before(due) {
			t.Fatalf("returned %s early", due.Sub(now))
		}
	}
}

// Every message sent arrives and is a sample, on each path. Each sample
// counted from the due time exceeds the one from the send time by exactly
// how late the pacer sent that message: a slow pacer is counted, not hidden.
func TestLatencyCountsEachMessageFromItsDueTime(t *testing.T) {
	s := jstest.Server(t)
	for _, path := range []string{"core", "file", "memory"} {
		t.Run(path, func(t *testing.T) {
			r, err := measureLatency(jstest.Context(t), dialServer(t, s.URL()), latencyConfig{path: path, rate: 5000, msgs: 300, size: 64})
			if err != nil {
				t.Fatal(err)
			}
			if len(r.fromDue) != 300 || len(r.fromSent) != 300 || len(r.late) != 300 {
				t.Fatalf("%d, %d and %d samples, want 300 each", len(r.fromDue), len(r.fromSent), len(r.late))
			}
			for i := range r.late {
				if r.late[i] < 0 {
					t.Fatalf("message %d sent %s early", i+1, -r.late[i])
				}
				if extra := r.fromDue[i] - r.fromSent[i]; extra != r.late[i] {
					t.Fatalf("message %d: %s more from its due time than from its send, but it was sent %s late", i+1, extra, r.late[i])
				}
			}
		})
	}
}
