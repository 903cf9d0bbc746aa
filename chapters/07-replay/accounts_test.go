package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/nats.go/jetstream"
)

// newAccounts starts a server with the chapter's event store.
func newAccounts(t *testing.T) (jetstream.JetStream, jetstream.Stream) {
	t.Helper()
	_, js := jstest.Connect(t, jstest.Server(t))
	stream, err := ensureAccounts(jstest.Context(t), js, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return js, stream
}

func change(t *testing.T, js jetstream.JetStream, stream jetstream.Stream, name string, amount int) account {
	t.Helper()
	ctx := jstest.Context(t)
	acc, err := readAccount(ctx, stream, name)
	if err != nil {
		t.Fatal(err)
	}
	after, err := appendEvent(ctx, js, acc, amount)
	if err != nil {
		t.Fatal(err)
	}
	return after
}

// C10: event sourcing. The last event of each account's subject, fetched
// with DeliverLastPerSubject, is the current state; replaying one account's
// events from the first gives the same balance.
func TestC10_LastPerSubjectRebuildsCurrentState(t *testing.T) {
	js, stream := newAccounts(t)
	ctx := jstest.Context(t)
	for _, c := range []struct {
		name   string
		amount int
	}{{"alice", 100}, {"bob", 20}, {"alice", -30}, {"carol", 5}, {"bob", 7}, {"alice", -50}} {
		change(t, js, stream, c.name, c.amount)
	}
	got, err := balances(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	want := []account{{"carol", 5, 4}, {"bob", 27, 5}, {"alice", 20, 6}} // in stream order of their last events
	if !slices.Equal(got, want) {
		t.Fatalf("balances %+v, want %+v", got, want)
	}
	for _, acc := range want {
		events, err := history(ctx, stream, acc.name)
		if err != nil {
			t.Fatal(err)
		}
		sum := 0
		for _, ev := range events {
			sum += ev.Change
		}
		if sum != acc.balance {
			t.Errorf("%s's history adds up to %d, its last event says %d", acc.name, sum, acc.balance)
		}
	}
}

// C10: optimistic concurrency. A publish that expects the account's last
// sequence succeeds when it is current and is rejected with 10071 when it
// is stale, and nothing is stored then. Expecting 0 means "no events yet".
func TestC10_StaleExpectedSequenceIsRejected(t *testing.T) {
	js, stream := newAccounts(t)
	ctx := jstest.Context(t)
	change(t, js, stream, "alice", 70)
	stale, err := readAccount(ctx, stream, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := appendEvent(ctx, js, stale, -50); err != nil {
		t.Fatalf("with the current sequence: %v", err)
	}
	_, err = appendEvent(ctx, js, stale, -50)
	if !errors.Is(err, errConflict) || !strings.Contains(err.Error(), "wrong last sequence: 2, error 10071") {
		t.Fatalf("with a stale sequence: %v, want a conflict with error 10071", err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 2 {
		t.Fatalf("%d events stored, want 2: the rejected one is not", info.State.Msgs)
	}
	// Expect 0: only an account without events.
	if _, err := appendEvent(ctx, js, account{name: "alice"}, 10); !errors.Is(err, errConflict) {
		t.Fatalf("opening alice again: %v, want a conflict", err)
	}
	if _, err := appendEvent(ctx, js, account{name: "dave"}, 10); err != nil {
		t.Fatalf("opening dave: %v", err)
	}
	// The plain API, as any client would see it: an APIError with code 10071.
	_, err = js.Publish(ctx, "accounts.dave", []byte(`{}`), jetstream.WithExpectLastSequencePerSubject(1))
	if !hasCode(err, jetstream.JSErrCodeStreamWrongLastSequence) {
		t.Fatalf("plain publish with a stale sequence: %v, want error 10071", err)
	}
}

// C10: without the expected sequence, two writers that read the same state
// both succeed, and the second silently undoes the first: the log says
// alice has 20 although 100 was withdrawn from her 70.
func TestC10_WithoutTheCheckAnUpdateIsLost(t *testing.T) {
	js, stream := newAccounts(t)
	ctx := jstest.Context(t)
	change(t, js, stream, "alice", 70)
	read1, err := readAccount(ctx, stream, "alice")
	if err != nil {
		t.Fatal(err)
	}
	read2 := read1 // the second writer read the same state
	for _, read := range []account{read1, read2} {
		data := fmt.Appendf(nil, `{"change":-50,"balance":%d}`, read.balance-50)
		if _, err := js.Publish(ctx, "accounts.alice", data); err != nil { // no WithExpectLastSequencePerSubject
			t.Fatal(err)
		}
	}
	events, err := history(ctx, stream, "alice")
	if err != nil {
		t.Fatal(err)
	}
	last, err := readAccount(ctx, stream, "alice")
	if err != nil {
		t.Fatal(err)
	}
	sum := 0
	for _, ev := range events {
		sum += ev.Change
	}
	if last.balance != 20 || sum != -30 {
		t.Fatalf("last event says %d, history adds up to %d; want the lost update: 20 and -30", last.balance, sum)
	}
}

// C10: writers that retry on conflict (the deposit role) lose no update,
// however their reads and writes interleave.
func TestC10_RetryingWritersLoseNothing(t *testing.T) {
	s := jstest.Server(t)
	_, js := jstest.Connect(t, s)
	ctx := jstest.Context(t)
	if _, err := ensureAccounts(ctx, js, io.Discard); err != nil {
		t.Fatal(err)
	}
	const writers, deposits = 3, 10
	var wg sync.WaitGroup
	errs := make([]error, writers)
	logs := make([]strings.Builder, writers)
	for i := range writers {
		_, wjs := jstest.Connect(t, s)
		stream, err := wjs.Stream(ctx, accountsStream)
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			for range deposits {
				if err := changeRole(ctx, wjs, stream, &logs[i], "alice", 1, nil); err != nil {
					errs[i] = err
					return
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	conflicts := 0
	for i := range logs {
		conflicts += strings.Count(logs[i].String(), "reading it again")
	}
	t.Logf("conflicts: %d, each followed by a new read and a retry", conflicts)
	stream, err := js.Stream(ctx, accountsStream)
	if err != nil {
		t.Fatal(err)
	}
	acc, err := readAccount(ctx, stream, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if acc.balance != writers*deposits || acc.lastSeq != writers*deposits {
		t.Fatalf("alice: balance %d after %d events, want %d after %d", acc.balance, acc.lastSeq, writers*deposits, writers*deposits)
	}
}

// C10: an event store must not forget. The chapter's accounts stream keeps
// the default limits: no maximum age, count or size, unlike example_stream
// (nine seconds, 1000 messages).
func TestC10_TheEventStoreHasNoLimits(t *testing.T) {
	_, stream := newAccounts(t)
	cfg := stream.CachedInfo().Config
	if cfg.MaxAge != 0 || cfg.MaxMsgs != -1 || cfg.MaxBytes != -1 || cfg.MaxMsgsPerSubject != -1 || cfg.Retention != jetstream.LimitsPolicy || cfg.Storage != jetstream.FileStorage {
		t.Fatalf("accounts: max age %s, max msgs %d, max bytes %d, per subject %d, %s, %s; want no limits, file storage",
			cfg.MaxAge, cfg.MaxMsgs, cfg.MaxBytes, cfg.MaxMsgsPerSubject, cfg.Retention, cfg.Storage)
	}
}
