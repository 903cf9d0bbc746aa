package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/connect"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/examplestream"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/nats.go"
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

// C29: a consumer without Durable is ephemeral: the server deletes it once
// nobody has read from it for its InactiveThreshold (10 s in this chapter;
// 100 ms here to keep the test fast). A Name alone does not make a consumer
// durable: it still gets the ephemeral default threshold of 5 s. A durable
// consumer stays, unless it has an InactiveThreshold too.
func TestC29_EphemeralConsumersGoAway(t *testing.T) {
	_, stream := newExampleStream(t)
	ctx := jstest.Context(t)
	chapters, err := subscribe(ctx, stream, "my.subject.test", jetstream.DeliverAllPolicy)
	if err != nil {
		t.Fatal(err)
	}
	if cfg := chapters.CachedInfo().Config; cfg.InactiveThreshold != 10*time.Second || cfg.Durable != "" {
		t.Fatalf("the chapter's subscriber consumer has Durable %q, InactiveThreshold %s; want none and 10s", cfg.Durable, cfg.InactiveThreshold)
	}
	ephemeral, err := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{InactiveThreshold: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	named, err := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{Name: "named"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg := named.CachedInfo().Config; cfg.Durable != "" || cfg.InactiveThreshold != 5*time.Second {
		t.Fatalf("a consumer with only a Name: Durable %q, InactiveThreshold %s; want an ephemeral with the default 5s", cfg.Durable, cfg.InactiveThreshold)
	}
	stays, err := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: "stays"})
	if err != nil {
		t.Fatal(err)
	}
	if got := stays.CachedInfo().Config.InactiveThreshold; got != 0 {
		t.Fatalf("a durable without a threshold got InactiveThreshold %s, want 0", got)
	}
	if _, err := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: "idle", InactiveThreshold: 100 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{ephemeral.CachedInfo().Name, "idle"} {
		jstest.Eventually(t, func() error {
			if _, err := stream.Consumer(ctx, name); !errors.Is(err, jetstream.ErrConsumerNotFound) {
				return fmt.Errorf("consumer %s still there (%v)", name, err)
			}
			return nil
		})
	}
	if _, err := stream.Consumer(ctx, "stays"); err != nil {
		t.Fatalf("durable consumer after the others went: %v", err)
	}
}

// C29, the exception: an ephemeral consumer whose reader left holding a
// message it did not ack stays until that message's AckWait has passed, and
// only then counts its threshold. With the chapter's subscriber (10 s, the
// default AckWait of 30 s) that is more than a minute; here the threshold is
// 100 ms and AckWait 2 s, so without the unacked message the consumer would
// go within about 1.1 s. A Name-only consumer that nobody reads goes after
// the default threshold, 5 s.
func TestC29_AnUnackedMessageKeepsAnEphemeralConsumer(t *testing.T) {
	t.Parallel()
	s := jstest.Server(t)
	_, js := jstest.Connect(t, s)
	ctx := jstest.Context(t)
	stream, err := js.CreateStream(ctx, examplestream.Config())
	if err != nil {
		t.Fatal(err)
	}
	namedSince := time.Now()
	named, err := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{Name: "named"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "my.subject.test", []byte("Message 1")); err != nil {
		t.Fatal(err)
	}
	holder, err := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{
		InactiveThreshold: 100 * time.Millisecond,
		AckWait:           2 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}

	// A reader on a connection of its own takes the message and leaves.
	heldSince := time.Now() // before the delivery, so the bound below is safe
	nc, readerJS := jstest.Connect(t, s)
	reader, err := readerJS.Consumer(ctx, examplestream.Name, holder.CachedInfo().Name)
	if err != nil {
		t.Fatal(err)
	}
	batch, err := reader.Fetch(1)
	if err != nil {
		t.Fatal(err)
	}
	for range batch.Messages() {
		// not acked
	}
	if err := batch.Error(); err != nil {
		t.Fatal(err)
	}
	nc.Close()

	gone := func(name string) func() error {
		return func() error {
			if _, err := stream.Consumer(ctx, name); !errors.Is(err, jetstream.ErrConsumerNotFound) {
				return fmt.Errorf("consumer %s still there (%v)", name, err)
			}
			return nil
		}
	}
	jstest.Eventually(t, gone(holder.CachedInfo().Name))
	if took := time.Since(heldSince); took < 2*time.Second {
		t.Fatalf("the consumer went %s after delivering a message nobody acked, before that message's AckWait of 2 s", took)
	}
	jstest.Eventually(t, gone(named.CachedInfo().Name))
	if took := time.Since(namedSince); took < 5*time.Second {
		t.Fatalf("a Name-only consumer nobody read went after %s, before the default threshold of 5 s", took)
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

// The page: nats.go's jetstream package never acks for you, while its legacy
// JetStreamContext.Subscribe with a callback acks after the callback
// returns, as nats-py's js.subscribe does.
func TestOnlyTheLegacyAPIAcksForYou(t *testing.T) {
	s := jstest.Server(t)
	nc, js := jstest.Connect(t, s)
	ctx := jstest.Context(t)
	stream, err := js.CreateStream(ctx, examplestream.Config())
	if err != nil {
		t.Fatal(err)
	}
	ackFloor := func(name string) uint64 {
		t.Helper()
		if err := nc.Flush(); err != nil { // acks the handlers sent are on the wire
			t.Fatal(err)
		}
		list := stream.ListConsumers(ctx) // push and pull alike
		for info := range list.Info() {
			if info.Name == name {
				return info.AckFloor.Stream
			}
		}
		if err := list.Err(); err != nil {
			t.Fatal(err)
		}
		t.Fatalf("no consumer %s", name)
		return 0
	}

	// jetstream: Consume's handler returns without acking message 1. Once
	// it is handed message 2, its return from message 1 is behind it.
	cons, err := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: "modern", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	handled := make(chan uint64, 2)
	consuming, err := cons.Consume(func(msg jetstream.Msg) {
		meta, err := msg.Metadata()
		if err != nil {
			t.Error(err)
			return
		}
		handled <- meta.Sequence.Stream
	})
	if err != nil {
		t.Fatal(err)
	}
	defer consuming.Stop()
	for i := 1; i <= 2; i++ {
		if _, err := js.Publish(ctx, "my.subject.test", []byte(fmt.Sprintf("Message %d", i))); err != nil {
			t.Fatal(err)
		}
		select {
		case <-handled:
		case <-ctx.Done():
			t.Fatalf("the handler never got message %d", i)
		}
	}
	if floor := ackFloor("modern"); floor != 0 {
		t.Fatalf("jetstream's Consume acked up to %d without an Ack", floor)
	}

	// legacy: js.Subscribe with a callback acks message 1 after the callback.
	legacy, err := nc.JetStream()
	if err != nil {
		t.Fatal(err)
	}
	sub, err := legacy.Subscribe("my.subject.test", func(*nats.Msg) {}, nats.Durable("legacy"), nats.DeliverAll())
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := sub.Unsubscribe(); err != nil {
			t.Error(err)
		}
	}()
	jstest.Eventually(t, func() error {
		if floor := ackFloor("legacy"); floor != 2 {
			return fmt.Errorf("the legacy subscription acked up to %d, want 2", floor)
		}
		return nil
	})
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

// The page: if the server goes away while a subscriber waits, nats.go tries
// to reconnect ten times, half a second apart, and the subscriber then stops
// with "lost the connection" (exit status 1 from main): within seconds, not
// minutes. The bound here is generous, 15 s.
func TestSubscriberStopsWhenTheServerIsGone(t *testing.T) {
	t.Parallel()
	s := jstest.Server(t)
	out := &lockedBuilder{}
	done := make(chan error, 1)
	go func() { done <- run(context.Background(), []string{"subscribe", "-server", s.URL()}, out) }()
	// Stop the server only once the subscriber is listening, not while its
	// consumer is being created (that fails too, with the API call's timeout).
	jstest.Eventually(t, func() error {
		if !strings.Contains(out.String(), "Press Ctrl+C to exit.") {
			return errors.New("the subscriber is not listening yet")
		}
		return nil
	})

	stopped := time.Now()
	s.Stop()
	select {
	case err := <-done:
		took := time.Since(stopped)
		if !errors.Is(err, connect.ErrConnectionLost) {
			t.Fatalf("subscriber ended with %v, want ErrConnectionLost\n%s", err, out)
		}
		if took > 15*time.Second {
			t.Fatalf("the subscriber stopped %s after the server, want at most 15 s", took)
		}
		t.Logf("the subscriber stopped %s after the server", took.Round(10*time.Millisecond))
	case <-time.After(jstest.Deadline):
		t.Fatalf("the subscriber still runs %s after the server stopped", jstest.Deadline)
	}
}

// lockedBuilder is a strings.Builder that a test may read while run writes.
type lockedBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuilder) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuilder) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
