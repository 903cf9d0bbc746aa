package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/examplestream"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/nats.go/jetstream"
)

// newExampleStream starts a private server with chapter 03's stream on it.
func newExampleStream(t *testing.T) (jetstream.JetStream, jetstream.Stream) {
	t.Helper()
	_, js := jstest.Connect(t, jstest.Server(t))
	stream, err := js.CreateStream(jstest.Context(t), examplestream.Config())
	if err != nil {
		t.Fatal(err)
	}
	return js, stream
}

// received runs the chapter's receive for n messages and returns its lines.
func received(t *testing.T, cons jetstream.Consumer, n int) []string {
	t.Helper()
	var out strings.Builder
	if err := receive(jstest.Context(t), cons, &out, "", n); err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(out.String()), "\n")
}

func want(subject string, from, to int) []string {
	var lines []string
	for i := from; i <= to; i++ {
		lines = append(lines, fmt.Sprintf("Received a message on '%s': Message %d (seq %d)", subject, i, i))
	}
	return lines
}

func equal(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("%s:\n%s\nwant:\n%s", what, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// C01: a subscriber that was not connected when the messages were published
// reads them later, in order, because the stream stored them.
func TestC01_OfflineSubscriberReadsLater(t *testing.T) {
	js, stream := newExampleStream(t)
	if err := publish(jstest.Context(t), js, io.Discard, "my.subject.test", 5, 0); err != nil {
		t.Fatal(err)
	}
	cons, err := subscribe(jstest.Context(t), stream, "my.subject.test", jetstream.DeliverAllPolicy)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "a subscriber that connected after publishing", received(t, cons, 5), want("my.subject.test", 1, 5))
}

// C07: a JetStream publish returns only after the stream stored the message,
// and its PubAck names the stream and the sequence. A subject no stream
// captures gets no PubAck: ErrNoStreamResponse, which the chapter explains.
func TestC07_PubAckSaysWhereTheMessageIsStored(t *testing.T) {
	js, stream := newExampleStream(t)
	ctx := jstest.Context(t)
	for i := uint64(1); i <= 5; i++ {
		ack, err := js.Publish(ctx, "my.subject.test", []byte("payload"))
		if err != nil {
			t.Fatal(err)
		}
		if ack.Stream != "example_stream" || ack.Sequence != i || ack.Duplicate {
			t.Fatalf("PubAck %+v, want stream example_stream, seq %d", ack, i)
		}
		info, err := stream.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.State.LastSeq != i {
			t.Fatalf("after PubAck %d the stream's last sequence is %d", i, info.State.LastSeq)
		}
	}
	if _, err := js.Publish(ctx, "nostream.here", nil); !errors.Is(err, jetstream.ErrNoStreamResponse) {
		t.Fatalf("publish with no stream: %v, want ErrNoStreamResponse", err)
	}
	err := publish(ctx, js, io.Discard, "orders.created", 1, 0)
	if err == nil || !strings.Contains(err.Error(), "no stream captures this subject") {
		t.Fatalf("chapter's publish with no stream: %v", err)
	}
}

// C27: several subscribers each get every message, because each has its own
// consumer: publish-subscribe, not load balancing.
func TestC27_EverySubscriberGetsEveryMessage(t *testing.T) {
	js, stream := newExampleStream(t)
	ctx := jstest.Context(t)
	var consumers []jetstream.Consumer
	for range 3 {
		cons, err := subscribe(ctx, stream, "my.subject.test", jetstream.DeliverAllPolicy)
		if err != nil {
			t.Fatal(err)
		}
		consumers = append(consumers, cons)
	}
	if err := publish(ctx, js, io.Discard, "my.subject.test", 6, 0); err != nil {
		t.Fatal(err)
	}
	for i, cons := range consumers {
		equal(t, fmt.Sprintf("subscriber %d", i+1), received(t, cons, 6), want("my.subject.test", 1, 6))
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Consumers != 3 {
		t.Fatalf("%d consumers, want one per subscriber", info.State.Consumers)
	}
}

// C28: the seed implies a subscriber sees only new messages. A consumer's
// default, DeliverAll, replays the whole stream first; DeliverNew (-new)
// starts with the first message published after it was created.
func TestC28_LateSubscriberReplaysUnlessNew(t *testing.T) {
	js, stream := newExampleStream(t)
	ctx := jstest.Context(t)
	if err := publish(ctx, js, io.Discard, "my.subject.test", 5, 0); err != nil {
		t.Fatal(err)
	}
	all, err := subscribe(ctx, stream, "my.subject.test", jetstream.DeliverAllPolicy)
	if err != nil {
		t.Fatal(err)
	}
	onlyNew, err := subscribe(ctx, stream, "my.subject.test", jetstream.DeliverNewPolicy)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "my.subject.test", []byte("Message 6")); err != nil {
		t.Fatal(err)
	}
	equal(t, "DeliverAll", received(t, all, 6), want("my.subject.test", 1, 6))
	equal(t, "DeliverNew", received(t, onlyNew, 1), want("my.subject.test", 6, 6))
}

// C29: a consumer without a name is ephemeral: the server deletes it once
// nobody has read from it for its InactiveThreshold (10 s in this chapter;
// 100 ms here to keep the test fast). A durable consumer stays.
func TestC29_EphemeralConsumersGoAway(t *testing.T) {
	_, stream := newExampleStream(t)
	ctx := jstest.Context(t)
	chapters, err := subscribe(ctx, stream, "my.subject.test", jetstream.DeliverAllPolicy)
	if err != nil {
		t.Fatal(err)
	}
	if got := chapters.CachedInfo().Config.InactiveThreshold; got != 10*time.Second {
		t.Fatalf("the chapter's subscriber consumer has InactiveThreshold %s, want 10s", got)
	}
	ephemeral, err := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{InactiveThreshold: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: "stays"}); err != nil {
		t.Fatal(err)
	}
	name := ephemeral.CachedInfo().Name
	jstest.Eventually(t, func() error {
		if _, err := stream.Consumer(ctx, name); !errors.Is(err, jetstream.ErrConsumerNotFound) {
			return fmt.Errorf("ephemeral consumer %s still there (%v)", name, err)
		}
		return nil
	})
	if _, err := stream.Consumer(ctx, "stays"); err != nil {
		t.Fatalf("durable consumer after the ephemeral one went: %v", err)
	}
}

// C30: subscriber.py listens on my.subject.*, and so receives the requests
// that requester.py publishes on my.subject.requests. The chapter filters on
// my.subject.test.
func TestC30_StarSubscriberAlsoGetsRequests(t *testing.T) {
	js, stream := newExampleStream(t)
	ctx := jstest.Context(t)
	if _, err := js.Publish(ctx, "my.subject.requests", []byte("Message 1")); err != nil {
		t.Fatal(err)
	}
	star, err := subscribe(ctx, stream, "my.subject.*", jetstream.DeliverAllPolicy)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "a my.subject.* subscriber", received(t, star, 1), want("my.subject.requests", 1, 1))
	test, err := subscribe(ctx, stream, "my.subject.test", jetstream.DeliverAllPolicy)
	if err != nil {
		t.Fatal(err)
	}
	info, err := test.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.NumPending != 0 {
		t.Fatalf("a my.subject.test subscriber has %d messages pending, want 0", info.NumPending)
	}
}

// C31: in nats-py, js.subscribe acks for you after the callback, so the
// seed's msg.ack() is redundant there. A Go consumer with AckExplicit must
// ack each message: unacked, it comes back after AckWait; acked twice, the
// second ack is refused.
func TestC31_EachMessageIsAckedOnce(t *testing.T) {
	js, stream := newExampleStream(t)
	ctx := jstest.Context(t)
	chapters, err := subscribe(ctx, stream, "my.subject.test", jetstream.DeliverAllPolicy)
	if err != nil {
		t.Fatal(err)
	}
	if got := chapters.CachedInfo().Config.AckWait; got != 30*time.Second {
		t.Fatalf("default AckWait %s, want 30s", got)
	}
	// 100 ms instead of the default 30 s keeps the redelivery below fast.
	cons, err := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{AckPolicy: jetstream.AckExplicitPolicy, AckWait: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "my.subject.test", []byte("Message 1")); err != nil {
		t.Fatal(err)
	}
	first, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	// Not acked: the same message is delivered again once AckWait has passed.
	again, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	m1, err := first.Metadata()
	if err != nil {
		t.Fatal(err)
	}
	m2, err := again.Metadata()
	if err != nil {
		t.Fatal(err)
	}
	if m2.Sequence.Stream != m1.Sequence.Stream || m2.NumDelivered != 2 {
		t.Fatalf("redelivery: seq %d delivered %d times, want seq %d twice", m2.Sequence.Stream, m2.NumDelivered, m1.Sequence.Stream)
	}
	if err := again.DoubleAck(ctx); err != nil {
		t.Fatal(err)
	}
	if err := again.Ack(); !errors.Is(err, jetstream.ErrMsgAlreadyAckd) {
		t.Fatalf("second ack: %v, want ErrMsgAlreadyAckd", err)
	}
}

// C44: publisher.py's one-second sleep is only pacing: each JetStream publish
// already waits for its PubAck. What the seed lacks is a message ID, which
// lets the stream drop a retried publish as a duplicate.
func TestC44_PublishWaitsForItsAckAndDedupesRetries(t *testing.T) {
	js, stream := newExampleStream(t)
	ctx := jstest.Context(t)
	if err := publish(ctx, js, io.Discard, "my.subject.test", 5, 0); err != nil {
		t.Fatal(err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 5 {
		t.Fatalf("right after publish returned, %d messages are stored, want 5", info.State.Msgs)
	}
	first, err := js.Publish(ctx, "my.subject.test", []byte("order 42"), jetstream.WithMsgID("order-42"))
	if err != nil {
		t.Fatal(err)
	}
	retry, err := js.Publish(ctx, "my.subject.test", []byte("order 42"), jetstream.WithMsgID("order-42"))
	if err != nil {
		t.Fatal(err)
	}
	if first.Duplicate || !retry.Duplicate || retry.Sequence != first.Sequence {
		t.Fatalf("first %+v, retry %+v: want the retry flagged Duplicate with the same sequence", first, retry)
	}
}
