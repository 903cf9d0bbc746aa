package main

// C02's fsync half, shown by the fsync calls themselves: strace records each
// fsync the child's server makes, and the child marks each PubAck it gets
// (process_test.go). Without strace these tests are skipped.

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// fsyncsPerAck returns, for each of the child's PubAcks, how many times the
// stream's message block was synced since the previous PubAck (since the
// stream was created, for the first).
func fsyncsPerAck(t *testing.T, events []event, count int) []int {
	t.Helper()
	var perAck []int
	counting, n := false, 0
	for _, e := range events {
		switch {
		case e.marker == "created":
			counting = true
		case strings.HasPrefix(e.marker, "pubacked-"):
			perAck, n = append(perAck, n), 0
		case counting && isBlock(e.fsync):
			n++
		}
	}
	if len(perAck) != count {
		t.Fatalf("the trace holds %d PubAcks, want %d", len(perAck), count)
	}
	return perAck
}

// docs:start fsync-per-ack
// C02: "sync_interval: always" makes the file store sync the message block
// to disk before each PubAck, whether it comes from the config file or from
// server.Options. By default nothing is synced while publishing, and a
// stream in AsyncPersistMode gives "always" up.
func TestC02_SyncIntervalAlwaysSyncsBeforeEachAck(t *testing.T) {
	requireStrace(t)
	const count = 5
	for _, mode := range []struct {
		name     string
		child    child
		wantSync bool
	}{
		{"default", child{}, false},
		{"sync_interval: always in sync-always.conf", child{Conf: "testdata/sync-always.conf"}, true},
		{"SyncAlways in server.Options", child{SyncAlways: true}, true},
		{"SyncAlways, stream in AsyncPersistMode", child{SyncAlways: true, Persist: jetstream.AsyncPersistMode}, false},
	} {
		t.Run(mode.name, func(t *testing.T) {
			c := mode.child
			c.Store, c.Count = t.TempDir(), count
			perAck := fsyncsPerAck(t, traceChild(t, c), count)
			t.Logf("fsyncs of the message block before each PubAck: %v", perAck)
			for i, n := range perAck {
				if mode.wantSync && n == 0 {
					t.Errorf("PubAck %d came with no fsync of the message block before it", i+1)
				}
				if !mode.wantSync && n > 0 {
					t.Errorf("the message block was synced %d times before PubAck %d, want none", n, i+1)
				}
			}
		})
	}
}

// docs:end fsync-per-ack

// C02: by default the file store syncs on a timer instead: every
// SyncInterval (two minutes unless set, chapter 01's
// TestC02_FileStoreSyncsEveryTwoMinutesByDefault), the first time at a
// random point between half the interval and the interval after the store
// opened. Here the interval is 500 ms and the child publishes for a second;
// DURABILITY_SLOW=1 runs it with the default two minutes instead.
func TestC02_TheFileStoreSyncsOnATimer(t *testing.T) {
	c := child{Store: t.TempDir(), SyncInterval: 500 * time.Millisecond, Count: 40, Every: 25 * time.Millisecond, Linger: 500 * time.Millisecond}
	interval := c.SyncInterval
	if os.Getenv("DURABILITY_SLOW") == "1" {
		c.SyncInterval, c.Count, c.Every, c.Linger = 0, 130, time.Second, 0
		interval = 2 * time.Minute
	}
	var creating time.Time
	var syncs []time.Time
	acks := 0
trace:
	for _, e := range traceChild(t, c) {
		switch {
		case e.marker == "creating": // before the store opened
			creating = e.at
		case e.marker == "stopping": // a clean shutdown syncs too
			break trace
		case strings.HasPrefix(e.marker, "pubacked-"):
			acks++
		case isBlock(e.fsync):
			syncs = append(syncs, e.at)
		}
	}
	if len(syncs) == 0 {
		t.Fatalf("%d PubAcks and no fsync of the message block, with a %s interval", acks, interval)
	}
	if first := syncs[0].Sub(creating); first < interval/2 {
		t.Errorf("the first fsync came %s after the store opened, before half the %s interval", first, interval)
	}
	for i := 1; i < len(syncs); i++ {
		if gap := syncs[i].Sub(syncs[i-1]); gap < interval {
			t.Errorf("fsync %d came %s after the one before, sooner than the %s interval", i+1, gap, interval)
		}
	}
	t.Logf("%d PubAcks, %d fsyncs of the message block: the first %s after the store opened", acks, len(syncs), syncs[0].Sub(creating).Round(time.Millisecond))
}
