package main

import (
	"errors"
	"io"
	"slices"
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

func hasCode(err error, code jetstream.ErrorCode) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == code
}

// C03: a consumer's DeliverPolicy is fixed when it is created, but
// nats-server 2.14 and later can move an existing consumer to another
// sequence (ResetConsumerToSequence), within what its DeliverPolicy allows:
// anywhere with all, not below OptStartSeq, and nowhere with new.
func TestC03_AConsumerCanBeResetToAnEarlierSequence(t *testing.T) {
	_, js, stream := newExampleStream(t)
	ctx := jstest.Context(t)
	publishFive(t, js)
	all, err := replayConsumer(ctx, stream, "my.subject.*", position{policy: jetstream.DeliverAllPolicy}, "rewind", jetstream.ReplayInstantPolicy)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := fetch(ctx, all, 5); err != nil || !slices.Equal(got, seqs(1, 5)) {
		t.Fatalf("first read: %v (%v)", got, err)
	}
	reset, err := stream.ResetConsumerToSequence(ctx, "rewind", 2)
	if err != nil || reset.ResetSeq != 2 {
		t.Fatalf("reset to seq 2: %+v (%v)", reset, err)
	}
	if got, err := fetch(ctx, all, 4); err != nil || !slices.Equal(got, seqs(2, 5)) {
		t.Fatalf("after the reset to seq 2: %v (%v), want seq 2 to 5 again", got, err)
	}

	for _, tc := range []struct{ from, name string }{{"seq:3", "from-three"}, {"new", "only-new"}} {
		if _, err := replayConsumer(ctx, stream, "my.subject.*", mustPosition(t, tc.from), tc.name, jetstream.ReplayInstantPolicy); err != nil {
			t.Fatal(err)
		}
		if _, err := stream.ResetConsumerToSequence(ctx, tc.name, 2); !errors.Is(err, jetstream.ErrConsumerInvalidReset) || !hasCode(err, 10204) {
			t.Errorf("-from %s, reset to seq 2: %v, want error 10204 (invalid reset)", tc.from, err)
		}
	}
}
