package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/embedded"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/examplestream"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/nats.go/jetstream"
)

// newExampleStream starts a private server with chapter 03's stream on it.
func newExampleStream(t *testing.T) (*embedded.Server, jetstream.JetStream, jetstream.Stream) {
	t.Helper()
	s := jstest.Server(t)
	_, js := jstest.Connect(t, s)
	stream, err := js.CreateStream(jstest.Context(t), examplestream.Config())
	if err != nil {
		t.Fatal(err)
	}
	return s, js, stream
}

// publishFive stores the chapter's five messages: seq 1, 3, 5 on kitchen,
// seq 2, 4 on garden.
func publishFive(t *testing.T, js jetstream.JetStream) {
	t.Helper()
	if err := publish(jstest.Context(t), js, io.Discard, 5); err != nil {
		t.Fatal(err)
	}
}

func mustPosition(t *testing.T, from string) position {
	t.Helper()
	pos, err := parsePosition(from)
	if err != nil {
		t.Fatal(err)
	}
	return pos
}

func seqs(from, to uint64) []uint64 {
	var s []uint64
	for seq := from; seq <= to; seq++ {
		s = append(s, seq)
	}
	return s
}

// C03: replay ("메시지 재처리"). A consumer starts where its DeliverPolicy
// says, on the same stored messages; afterwards every one of them goes on
// with the messages that follow.
func TestC03_EachDeliverPolicyStartsWhereItSays(t *testing.T) {
	_, js, stream := newExampleStream(t)
	ctx := jstest.Context(t)
	publishFive(t, js)
	third, err := stream.GetMsg(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	at := third.Time.Format(time.RFC3339Nano)
	var started []jetstream.Consumer
	for _, tc := range []struct {
		from string
		want []uint64
	}{
		{"all", seqs(1, 5)},
		{"seq:3", seqs(3, 5)},
		{"time:" + at, seqs(3, 5)}, // the first message stored at or after that time
		{"last", []uint64{5}},
		{"last-per-subject", []uint64{4, 5}}, // garden's last, kitchen's last, in stream order
		{"new", nil},
	} {
		cons, err := replayConsumer(ctx, stream, "my.subject.*", mustPosition(t, tc.from), "", jetstream.ReplayInstantPolicy)
		if err != nil {
			t.Fatal(err)
		}
		got, err := fetchWaiting(ctx, cons)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("-from %s: %v, want %v", tc.from, got, tc.want)
		}
		started = append(started, cons)
	}
	if _, err := js.Publish(ctx, garden, []byte("Message 6")); err != nil {
		t.Fatal(err)
	}
	for _, cons := range started {
		if got, err := fetch(ctx, cons, 1); err != nil || !slices.Equal(got, []uint64{6}) {
			t.Errorf("consumer %s after one more publish: %v (%v), want seq 6", cons.CachedInfo().Config.DeliverPolicy, got, err)
		}
	}
}

// C03: a start time need not be a message's own time. The consumer starts at
// the first message stored at or after it; seq 3's time plus a nanosecond
// starts at seq 4.
func TestC03_StartTimeIsAtOrAfter(t *testing.T) {
	_, js, stream := newExampleStream(t)
	ctx := jstest.Context(t)
	publishFive(t, js)
	var times []time.Time
	for seq := uint64(1); seq <= 5; seq++ {
		msg, err := stream.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		times = append(times, msg.Time)
	}
	start := times[2].Add(time.Nanosecond)
	want := uint64(0)
	for i, ts := range times {
		if !ts.Before(start) {
			want = uint64(i + 1)
			break
		}
	}
	cons, err := replayConsumer(ctx, stream, "my.subject.*", mustPosition(t, "time:"+start.Format(time.RFC3339Nano)), "", jetstream.ReplayInstantPolicy)
	if err != nil {
		t.Fatal(err)
	}
	got, err := fetchWaiting(ctx, cons)
	if err != nil {
		t.Fatal(err)
	}
	if want != 4 || len(got) == 0 || got[0] != want {
		t.Fatalf("from seq 3's time + 1ns: %v, want to start at seq 4 (first stored at or after: %d)", got, want)
	}
}

// C03: DeliverLastPerSubject needs a subject filter; without one the server
// refuses the consumer (10094). The chapter's reader always has one.
func TestC03_LastPerSubjectNeedsAFilter(t *testing.T) {
	_, _, stream := newExampleStream(t)
	_, err := stream.CreateConsumer(jstest.Context(t), jetstream.ConsumerConfig{DeliverPolicy: jetstream.DeliverLastPerSubjectPolicy})
	if !hasCode(err, 10094) {
		t.Fatalf("last per subject without a filter: %v, want error 10094", err)
	}
}

// C03: two consumers on one stream each keep their own position. Acks on
// one do not move the other, and a durable one resumes where it was, also
// from another connection.
func TestC03_TwoConsumersKeepTheirOwnPositions(t *testing.T) {
	s, js, stream := newExampleStream(t)
	ctx := jstest.Context(t)
	publishFive(t, js)
	all := position{policy: jetstream.DeliverAllPolicy}
	a, err := replayConsumer(ctx, stream, "my.subject.*", all, "reader-a", jetstream.ReplayInstantPolicy)
	if err != nil {
		t.Fatal(err)
	}
	b, err := replayConsumer(ctx, stream, "my.subject.*", all, "reader-b", jetstream.ReplayInstantPolicy)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := fetch(ctx, a, 4); err != nil || !slices.Equal(got, seqs(1, 4)) {
		t.Fatalf("reader-a: %v (%v)", got, err)
	}
	if got, err := fetch(ctx, b, 2); err != nil || !slices.Equal(got, seqs(1, 2)) {
		t.Fatalf("reader-b: %v (%v)", got, err)
	}
	for _, c := range []struct {
		cons             jetstream.Consumer
		acked, remaining uint64
	}{{a, 4, 1}, {b, 2, 3}} {
		info, err := c.cons.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.AckFloor.Stream != c.acked || info.NumPending != c.remaining {
			t.Errorf("%s: acked up to %d with %d pending, want %d and %d", info.Name, info.AckFloor.Stream, info.NumPending, c.acked, c.remaining)
		}
	}

	// A new connection, as when the reader starts again: reader-b goes on at seq 3.
	_, js2 := jstest.Connect(t, s)
	again, err := js2.Consumer(ctx, examplestream.Name, "reader-b")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := fetch(ctx, again, 1); err != nil || !slices.Equal(got, []uint64{3}) {
		t.Fatalf("reader-b again: %v (%v), want seq 3", got, err)
	}
}

// C03: ReplayOriginal delivers stored messages with the gaps they were
// published with; ReplayInstant (the default) at once. The sleep between
// the two publishes is the gap under test.
func TestC03_ReplayOriginalKeepsTheGaps(t *testing.T) {
	_, js, stream := newExampleStream(t)
	ctx := jstest.Context(t)
	plain, err := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{}) // no ReplayPolicy
	if err != nil {
		t.Fatal(err)
	}
	if got := plain.CachedInfo().Config.ReplayPolicy; got != jetstream.ReplayInstantPolicy {
		t.Fatalf("a consumer created without a ReplayPolicy has %s, want instant", got)
	}
	const gap = 100 * time.Millisecond
	if _, err := js.Publish(ctx, kitchen, []byte("Message 1")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(gap) // the gap itself is under test: ReplayOriginal must reproduce it
	if _, err := js.Publish(ctx, kitchen, []byte("Message 2")); err != nil {
		t.Fatal(err)
	}
	between := func(replay jetstream.ReplayPolicy) time.Duration {
		cons, err := replayConsumer(ctx, stream, kitchen, position{policy: jetstream.DeliverAllPolicy}, "", replay)
		if err != nil {
			t.Fatal(err)
		}
		msgs, err := cons.Messages()
		if err != nil {
			t.Fatal(err)
		}
		defer msgs.Stop()
		var at []time.Time
		for range 2 {
			msg, err := msgs.Next(jetstream.NextContext(ctx))
			if err != nil {
				t.Fatal(err)
			}
			at = append(at, time.Now())
			if err := msg.Ack(); err != nil {
				t.Fatal(err)
			}
		}
		return at[1].Sub(at[0])
	}
	original, instant := between(jetstream.ReplayOriginalPolicy), between(jetstream.ReplayInstantPolicy)
	t.Logf("published %s apart; delivered %s apart with original, %s with instant", gap, original, instant)
	if original < gap/2 {
		t.Errorf("ReplayOriginal delivered the two %s apart, want about %s", original, gap)
	}
	if instant >= gap/2 {
		t.Errorf("ReplayInstant delivered the two %s apart, want at once", instant)
	}
}

// C06 (a): one publisher's messages get strictly increasing stream
// sequences in the order it published them, even when it does not wait for
// each acknowledgement (PublishAsync). Two publishers at once each keep
// their own order; how their messages interleave is arrival order.
func TestC06_OnePublishersOrderIsTheStreamsOrder(t *testing.T) {
	s, _, stream := newExampleStream(t)
	ctx := jstest.Context(t)
	const n = 100
	publishers := []string{garden, kitchen}
	var wg sync.WaitGroup
	errs := make([]error, len(publishers))
	for i, subject := range publishers {
		_, pjs := jstest.Connect(t, s) // a connection each: two publishers
		wg.Go(func() {
			for k := 1; k <= n; k++ {
				if _, err := pjs.PublishAsync(subject, []byte(strconv.Itoa(k))); err != nil {
					errs[i] = err
					return
				}
			}
			select {
			case <-pjs.PublishAsyncComplete():
			case <-ctx.Done():
				errs[i] = ctx.Err()
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	last := map[string]int{}
	for seq := uint64(1); seq <= 2*n; seq++ {
		msg, err := stream.GetMsg(ctx, seq)
		if err != nil {
			t.Fatalf("seq %d: %v (the sequences must have no gaps)", seq, err)
		}
		k, err := strconv.Atoi(string(msg.Data))
		if err != nil {
			t.Fatal(err)
		}
		if k != last[msg.Subject]+1 {
			t.Fatalf("seq %d holds %s message %d after message %d: out of its publisher's order", seq, msg.Subject, k, last[msg.Subject])
		}
		last[msg.Subject] = k
	}
	if last[garden] != n || last[kitchen] != n {
		t.Fatalf("stored %v, want %d of each", last, n)
	}
}

// C06 (b): a redelivery breaks the delivery order. Fetch 3, Nak the first,
// ack the others, publish a 4th: the processing order is 1,2,3,1,4, the
// second 1 on its second delivery.
func TestC06_RedeliveryChangesTheProcessingOrder(t *testing.T) {
	_, js, stream := newExampleStream(t)
	ctx := jstest.Context(t)
	for i := 1; i <= 3; i++ {
		if _, err := js.Publish(ctx, kitchen, []byte("task")); err != nil {
			t.Fatal(err)
		}
	}
	cons, err := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	take := func(n int) []jetstream.Msg {
		batch, err := cons.Fetch(n, jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		var msgs []jetstream.Msg
		for msg := range batch.Messages() {
			meta, err := msg.Metadata()
			if err != nil {
				t.Fatal(err)
			}
			order = append(order, fmt.Sprintf("%d/%d", meta.Sequence.Stream, meta.NumDelivered))
			msgs = append(msgs, msg)
		}
		if err := batch.Error(); err != nil {
			t.Fatal(err)
		}
		return msgs
	}
	first := take(3)
	if err := first[0].Nak(); err != nil {
		t.Fatal(err)
	}
	for _, msg := range first[1:] {
		if err := msg.DoubleAck(ctx); err != nil { // confirmed: so is the Nak before it
			t.Fatal(err)
		}
	}
	if _, err := js.Publish(ctx, kitchen, []byte("task")); err != nil {
		t.Fatal(err)
	}
	take(2)
	if want := []string{"1/1", "2/1", "3/1", "1/2", "4/1"}; !slices.Equal(order, want) {
		t.Fatalf("processing order (seq/delivery) %v, want %v", order, want)
	}
}

// C06 (c): with several workers on one consumer, the order in which
// messages are finished is nobody's: here worker 1 holds seq 1 while
// worker 2 takes and finishes seq 2.
func TestC06_SeveralWorkersFinishInNoOneOrder(t *testing.T) {
	_, js, stream := newExampleStream(t)
	ctx := jstest.Context(t)
	publishFive(t, js)
	shared, err := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: "workers", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	next := func() (jetstream.Msg, uint64) {
		msg, err := shared.Next(jetstream.FetchMaxWait(5 * time.Second))
		if err != nil {
			t.Fatal(err)
		}
		meta, err := msg.Metadata()
		if err != nil {
			t.Fatal(err)
		}
		return msg, meta.Sequence.Stream
	}
	var finished []uint64
	slow, slowSeq := next() // worker 1 is still busy with it...
	fast, fastSeq := next() // ...while worker 2 takes the next one and finishes first
	for _, m := range []struct {
		msg jetstream.Msg
		seq uint64
	}{{fast, fastSeq}, {slow, slowSeq}} {
		if err := m.msg.DoubleAck(ctx); err != nil {
			t.Fatal(err)
		}
		finished = append(finished, m.seq)
	}
	if !slices.Equal(finished, []uint64{2, 1}) {
		t.Fatalf("finished %v, want 2 before 1", finished)
	}
}

// C06 (d): an ordered consumer delivers in stream order with no acks
// (AckNone). When its consumer disappears on the server, the client makes
// a new one (prefix_2) that goes on after the last delivered message: no
// gap, no repeat.
func TestC06_OrderedConsumerKeepsStreamOrder(t *testing.T) {
	_, js, stream := newExampleStream(t)
	ctx := jstest.Context(t)
	publishFive(t, js)
	cons, err := orderedConsumer(ctx, stream, "my.subject.*", position{policy: jetstream.DeliverAllPolicy}, jetstream.ReplayInstantPolicy, "ordered")
	if err != nil {
		t.Fatal(err)
	}
	if info := cons.CachedInfo(); info.Name != "ordered_1" || info.Config.AckPolicy != jetstream.AckNonePolicy || !info.Config.MemoryStorage {
		t.Fatalf("ordered consumer %s: ack %s, memory %t; want ordered_1, AckNone, memory", info.Name, info.Config.AckPolicy, info.Config.MemoryStorage)
	}
	msgs, err := cons.Messages()
	if err != nil {
		t.Fatal(err)
	}
	defer msgs.Stop()
	var got []uint64
	read := func(n int) {
		for range n {
			msg, err := msgs.Next(jetstream.NextContext(ctx))
			if err != nil {
				t.Fatal(err)
			}
			meta, err := msg.Metadata()
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, meta.Sequence.Stream)
		}
	}
	read(5)
	if err := stream.DeleteConsumer(ctx, "ordered_1"); err != nil {
		t.Fatal(err)
	}
	if err := publish(ctx, js, io.Discard, 3); err != nil {
		t.Fatal(err)
	}
	read(3)
	if !slices.Equal(got, seqs(1, 8)) {
		t.Fatalf("ordered consumer delivered %v, want seq 1 to 8 once each, in order", got)
	}
	if name := cons.CachedInfo().Name; name != "ordered_2" {
		t.Fatalf("after the deletion the client reads through %s, want ordered_2", name)
	}
}

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

func hasCode(err error, code jetstream.ErrorCode) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == code
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
	t.Logf("%d conflicts, each followed by a new read and a retry", conflicts)
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
