package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/nats.go/jetstream"
)

// C10 says JetStream suits event sourcing. Chapter 07 keeps each account's
// events in a stream; this chapter keeps the current balances in a bucket,
// derived from those events.

// appendEvents appends n changes, spread over three accounts, as chapter
// 07's deposit role does, and returns each account's final balance.
func appendEvents(t *testing.T, js jetstream.JetStream, stream jetstream.Stream, n int) map[string]int {
	t.Helper()
	ctx := jstest.Context(t)
	want := map[string]int{}
	names := []string{"alice", "bob", "carol"}
	for i := range n {
		name := names[i%len(names)]
		_, ev, err := appendEvent(ctx, js, stream, name, 10+i%7)
		if err != nil {
			t.Fatal(err)
		}
		want[name] = ev.Balance
	}
	return want
}

// readBalances reads every account's balance from the bucket.
func readBalances(t *testing.T, kv jetstream.KeyValue) map[string]int {
	t.Helper()
	ctx := jstest.Context(t)
	got := map[string]int{}
	for _, name := range []string{"alice", "bob", "carol"} {
		entry, err := kv.Get(ctx, name)
		if err != nil {
			t.Fatalf("balance of %s: %v", name, err)
		}
		var b balance
		if err := json.Unmarshal(entry.Value(), &b); err != nil {
			t.Fatal(err)
		}
		got[name] = b.Balance
	}
	return got
}

// C10: two projectors that fold the same events into one bucket at the
// same time apply each event exactly once between them (compare-and-swap,
// and the last folded sequence kept with each balance), and the balances
// are the ones chapter 07 reads from each account's last event.
func TestC10_AProjectionFoldsEachEventOnce(t *testing.T) {
	t.Parallel()
	s := jstest.Server(t)
	_, js := jstest.Connect(t, s)
	ctx := jstest.Context(t)
	stream, err := ensureAccounts(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	const events = 60
	want := appendEvents(t, js, stream, events)
	if _, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "balances"}); err != nil {
		t.Fatal(err)
	}

	applied := make([]int, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range applied {
		_, pjs := jstest.Connect(t, s) // each projector a process of its own
		pstream, err := pjs.Stream(ctx, accountsStream)
		if err != nil {
			t.Fatal(err)
		}
		balances, err := pjs.KeyValue(ctx, "balances")
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() { applied[i], errs[i] = project(ctx, pstream, balances) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	balances, err := js.KeyValue(ctx, "balances")
	if err != nil {
		t.Fatal(err)
	}
	again, err := project(ctx, stream, balances)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("projector 1 applied %d events, projector 2 %d, a third run %d", applied[0], applied[1], again)
	if applied[0]+applied[1] != events || again != 0 {
		t.Fatalf("applied %d + %d, then %d; want %d in all, each event once", applied[0], applied[1], again, events)
	}
	if got := readBalances(t, balances); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("balances %v, want the last events' %v", got, want)
	}
}

// C10: the events stay, the bucket forgets. The accounts stream keeps every
// event; the bucket keeps the last revision of each balance (at most 64),
// and can be deleted and rebuilt from the stream at any time.
func TestC10_TheStreamKeepsTheEventsTheBucketOnlyTheState(t *testing.T) {
	t.Parallel()
	_, js := jstest.Connect(t, jstest.Server(t))
	ctx := jstest.Context(t)
	stream, err := ensureAccounts(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	want := appendEvents(t, js, stream, 30)
	balances, err := freshBucket(ctx, js, jetstream.KeyValueConfig{Bucket: "balances"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := project(ctx, stream, balances); err != nil {
		t.Fatal(err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 30 || info.Config.MaxMsgsPerSubject != -1 || info.Config.MaxAge != 0 {
		t.Fatalf("accounts holds %d events (per subject %d, max age %s), want all 30 and no limit", info.State.Msgs, info.Config.MaxMsgsPerSubject, info.Config.MaxAge)
	}
	history, err := balances.History(ctx, "alice")
	if err != nil || len(history) != 1 {
		t.Fatalf("alice's balance keeps %d revisions (%v), want 1 of her 10", len(history), err)
	}
	if _, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "all", History: 65}); !errors.Is(err, jetstream.ErrHistoryTooLarge) {
		t.Fatalf("a bucket with history 65: %v, want ErrHistoryTooLarge", err)
	}

	if err := js.DeleteKeyValue(ctx, "balances"); err != nil {
		t.Fatal(err)
	}
	rebuilt, err := freshBucket(ctx, js, jetstream.KeyValueConfig{Bucket: "balances"})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := project(ctx, stream, rebuilt); err != nil || n != 30 {
		t.Fatalf("rebuilding applied %d events (%v), want 30", n, err)
	}
	if got := readBalances(t, rebuilt); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("rebuilt balances %v, want %v", got, want)
	}
}

// C10: a bucket's writes are chapter 07's publishes. Put is a plain publish
// to $KV.<bucket>.<key>, and Update is a publish that expects the key's
// last sequence: the header Nats-Expected-Last-Subject-Sequence, refused
// with 10071 when stale, whichever API sends it.
func TestC10_UpdateIsChapter07sExpectedSequencePublish(t *testing.T) {
	t.Parallel()
	js, kv := newBucket(t, jetstream.KeyValueConfig{Bucket: "balances", History: 5})
	ctx := jstest.Context(t)
	if _, err := js.Publish(ctx, "$KV.balances.alice", []byte("100")); err != nil {
		t.Fatal(err)
	}
	read, err := kv.Get(ctx, "alice")
	if err != nil || string(read.Value()) != "100" {
		t.Fatalf("kv.Get of a plain publish: %v", err)
	}
	rev, err := kv.Update(ctx, "alice", []byte("70"), read.Revision())
	if err != nil {
		t.Fatal(err)
	}
	stream, err := js.Stream(ctx, "KV_balances")
	if err != nil {
		t.Fatal(err)
	}
	msg, err := stream.GetMsg(ctx, rev)
	if err != nil {
		t.Fatal(err)
	}
	if got := msg.Header.Get("Nats-Expected-Last-Subject-Sequence"); got != strconv.FormatUint(read.Revision(), 10) {
		t.Fatalf("Update's header Nats-Expected-Last-Subject-Sequence: %q, want %d", got, read.Revision())
	}
	_, err = js.Publish(ctx, "$KV.balances.alice", []byte("50"), jetstream.WithExpectLastSequencePerSubject(read.Revision()))
	if apiCode(err) != jetstream.JSErrCodeStreamWrongLastSequence {
		t.Fatalf("chapter 07's publish with a stale sequence: %v, want 10071", err)
	}
	if _, err := kv.Update(ctx, "alice", []byte("50"), read.Revision()); apiCode(err) != jetstream.JSErrCodeStreamWrongLastSequence {
		t.Fatalf("Update with the same stale revision: %v, want 10071", err)
	}
}
