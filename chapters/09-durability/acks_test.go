package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/nats.go/jetstream"
)

// The page says: Ack does not wait for the server, so it cannot report
// that nobody recorded it; DoubleAck waits for the server's confirmation.
func TestDoubleAckReportsWhatAckCannot(t *testing.T) {
	_, js, stream := newFileStream(t)
	ctx := jstest.Context(t)
	cons, err := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: "gone", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	for n := 1; n <= 2; n++ {
		if _, err := js.Publish(ctx, messagesSubject, []byte(message(n))); err != nil {
			t.Fatal(err)
		}
	}
	batch, err := cons.Fetch(2, jetstream.FetchMaxWait(jstest.Deadline))
	if err != nil {
		t.Fatal(err)
	}
	var msgs []jetstream.Msg
	for msg := range batch.Messages() {
		msgs = append(msgs, msg)
	}
	if len(msgs) != 2 {
		t.Fatalf("fetched %d messages, want 2", len(msgs))
	}
	// The consumer goes away before the acks arrive: nobody records them.
	if err := stream.DeleteConsumer(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	if err := msgs[0].Ack(); err != nil {
		t.Fatalf("Ack with nobody to record it: %v, want nil: Ack cannot know", err)
	}
	if err := msgs[1].DoubleAck(ctx); err == nil {
		t.Fatal("DoubleAck with nobody to record it succeeded, want an error")
	}
}

// The page says: InProgress restarts AckWait, so a slow handler keeps its
// message. Here AckWait is 500 ms and the handler holds the message for
// three times that, reporting progress every 100 ms or so.
func TestInProgressExtendsAckWait(t *testing.T) {
	t.Parallel()
	_, js, stream := newFileStream(t)
	ctx := jstest.Context(t)
	const ackWait = 500 * time.Millisecond
	cons, err := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: "slow", AckPolicy: jetstream.AckExplicitPolicy, AckWait: ackWait})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, messagesSubject, []byte("slow work")); err != nil {
		t.Fatal(err)
	}
	msg, err := cons.Next(jetstream.FetchMaxWait(jstest.Deadline))
	if err != nil {
		t.Fatal(err)
	}
	for start := time.Now(); time.Since(start) < 3*ackWait; {
		if err := msg.InProgress(); err != nil {
			t.Fatal(err)
		}
		// A pull request waits meanwhile: a redelivery would arrive here.
		batch, err := cons.Fetch(1, jetstream.FetchMaxWait(100*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		for again := range batch.Messages() {
			meta, err := again.Metadata()
			if err != nil {
				t.Fatal(err)
			}
			t.Fatalf("redelivered (delivery %d) while the handler reported progress", meta.NumDelivered)
		}
	}
	if err := msg.DoubleAck(ctx); err != nil {
		t.Fatal(err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.AckFloor.Stream != 1 || info.NumRedelivered != 0 || info.Delivered.Consumer != 1 {
		t.Fatalf("ack floor %d, %d redelivered, %d deliveries; want 1, 0, 1", info.AckFloor.Stream, info.NumRedelivered, info.Delivered.Consumer)
	}
}

// The demo's acknowledgements leave the poison message where the advisory
// says, and nothing unacknowledged: checked here apart from the printed
// lines, which the Example checks.
func TestAcknowledgementsSettleEveryTask(t *testing.T) {
	_, js, stream := newFileStream(t)
	ctx := jstest.Context(t)
	var out strings.Builder
	if err := acknowledgements(ctx, js, stream, &out); err != nil {
		t.Fatal(err)
	}
	cons, err := stream.Consumer(ctx, tasksConsumer)
	if err != nil {
		t.Fatal(err)
	}
	info := cons.CachedInfo()
	if info.NumAckPending != 0 || info.NumPending != 0 || info.Delivered.Stream != 5 {
		t.Fatalf("tasks: %d unacked, %d pending, delivered up to seq %d; want 0, 0, 5", info.NumAckPending, info.NumPending, info.Delivered.Stream)
	}
	// Each line is one delivery: 1 + 1 + 1 + 2 (Nak, Term) + 3 (poison).
	if got := strings.Count(out.String(), ", delivery "); got != 8 {
		t.Fatalf("%d deliveries printed, want 8:\n%s", got, &out)
	}
	if !strings.Contains(out.String(), fmt.Sprintf("delivered %d times", maxDeliver)) {
		t.Fatalf("no MAX_DELIVERIES line:\n%s", &out)
	}
}

// The page says: a delivery takes one final answer. After an Ack, a
// DoubleAck, a Nak or a Term (or their variants), nats.go refuses every
// other answer on the same delivery; InProgress may come any number of
// times before. nats.go keeps this rule itself, in the message, so each
// first answer gets a delivery of its own.
func TestOneFinalAnswerPerDelivery(t *testing.T) {
	_, js, stream := newFileStream(t)
	ctx := jstest.Context(t)
	cons, err := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: "once", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	type answer struct {
		name string
		send func(jetstream.Msg) error
	}
	answers := []answer{
		{"Ack", func(m jetstream.Msg) error { return m.Ack() }},
		{"DoubleAck", func(m jetstream.Msg) error { return m.DoubleAck(ctx) }},
		{"Nak", func(m jetstream.Msg) error { return m.Nak() }},
		{"NakWithDelay", func(m jetstream.Msg) error { return m.NakWithDelay(time.Minute) }},
		{"Term", func(m jetstream.Msg) error { return m.Term() }},
		{"TermWithReason", func(m jetstream.Msg) error { return m.TermWithReason("done") }},
	}
	afterwards := append(slices.Clone(answers), answer{"InProgress", func(m jetstream.Msg) error { return m.InProgress() }})
	for n := 1; n <= len(answers); n++ {
		if _, err := js.Publish(ctx, messagesSubject, []byte(message(n))); err != nil {
			t.Fatal(err)
		}
	}
	for _, first := range answers {
		// A fresh delivery: the next message, or one a Nak sent back.
		msg, err := cons.Next(jetstream.FetchMaxWait(jstest.Deadline))
		if err != nil {
			t.Fatalf("a delivery to answer %s first: %v", first.name, err)
		}
		for range 3 {
			if err := msg.InProgress(); err != nil {
				t.Fatalf("InProgress before %s: %v", first.name, err)
			}
		}
		if err := first.send(msg); err != nil {
			t.Fatalf("%s as the first answer: %v", first.name, err)
		}
		for _, then := range afterwards {
			if err := then.send(msg); !errors.Is(err, jetstream.ErrMsgAlreadyAckd) {
				t.Errorf("%s after %s: %v, want ErrMsgAlreadyAckd", then.name, first.name, err)
			}
		}
	}
}
