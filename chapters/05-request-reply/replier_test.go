package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/nats.go/jetstream"
)

// C35: a seed replier that fails never acks, so the request comes back after
// AckWait (30 s in nats-py, after the requester's 5 s are long over) without
// end. The chapter settles every delivery: Nak for a failure that may pass,
// Term for a request that can never succeed, and MaxDeliver as the backstop.
func TestC35_AFailingReplierDoesNotLoopForever(t *testing.T) {
	t.Parallel() // its crashed-replier case waits out the real AckWait
	t.Run("the seed's consumer redelivers without end", func(t *testing.T) {
		_, js, stream := newExampleStream(t)
		ctx := jstest.Context(t)
		cons := seedConsumer(t, stream)
		if got := cons.CachedInfo().Config.AckWait; got != 30*time.Second || got < defaultTimeout {
			t.Fatalf("the seed's AckWait is %s", got)
		}
		if got := cons.CachedInfo().Config.MaxDeliver; got != -1 {
			t.Fatalf("the seed's MaxDeliver is %d, want -1 (unlimited)", got)
		}
		cfg := cons.CachedInfo().Config
		cfg.AckWait = 50 * time.Millisecond // instead of 30 s, to keep the test fast
		if cons, err := stream.UpdateConsumer(ctx, cfg); err != nil {
			t.Fatal(err)
		} else if _, _, err := sendRequest(ctx, js.Conn(), js, io.Discard, requestSubject, helloRequest); err != nil {
			t.Fatal(err)
		} else {
			for want := uint64(1); want <= maxDeliver+2; want++ { // a failing replier: no ack
				_, meta := next(t, cons)
				if meta.Sequence.Stream != 1 || meta.NumDelivered != want {
					t.Fatalf("delivery: seq %d for the %d. time, want seq 1 for the %d. time", meta.Sequence.Stream, meta.NumDelivered, want)
				}
			}
		}
	})

	for _, failure := range []string{"crashes (no ack)", "Naks (-fail-first)"} {
		t.Run("MaxDeliver stops a request whose replier always "+failure, func(t *testing.T) {
			maxDeliverStopsRedelivery(t, failure == "Naks (-fail-first)")
		})
	}

	t.Run("Nak: a transient failure is retried after a delay", func(t *testing.T) {
		nc, js, stream := newExampleStream(t)
		ctx := jstest.Context(t)
		cons, err := replierConsumer(ctx, stream, requestSubject, "replier-1", false)
		if err != nil {
			t.Fatal(err)
		}
		responses, _, err := sendRequest(ctx, nc, js, io.Discard, requestSubject, helloRequest)
		if err != nil {
			t.Fatal(err)
		}
		var log strings.Builder
		r := &replier{name: "replier-1", nc: nc, out: &log, failFirst: 1}
		msg, _ := next(t, cons)
		nakked := time.Now()
		if err := r.handle(ctx, msg); err != nil {
			t.Fatal(err)
		}
		msg, meta := next(t, cons)
		if waited := time.Since(nakked); meta.NumDelivered != 2 || waited < retryDelay {
			t.Fatalf("after Nak: delivery %d after %s, want delivery 2 after at least %s", meta.NumDelivered, waited, retryDelay)
		}
		if err := r.handle(ctx, msg); err != nil {
			t.Fatal(err)
		}
		if err := collectResponses(ctx, responses, io.Discard, 1, 5*time.Second); err != nil {
			t.Fatal(err)
		}
		want := "replier-1 received request: Hello, Consumers! (seq 1)\n" +
			"replier-1: seq 1 failed for now (-fail-first 1): Nak, deliver it again in 250ms\n" +
			"replier-1 received request: Hello, Consumers! (seq 1, delivery 2 of at most 3)\n" +
			"replier-1 sending response: Response from replier-1 : HELLO, CONSUMERS!\n"
		if log.String() != want {
			t.Fatalf("replier printed:\n%s\nwant:\n%s", log.String(), want)
		}
	})

	t.Run("Term: a request that can never succeed is not delivered again", func(t *testing.T) {
		nc, js, stream := newExampleStream(t)
		ctx := jstest.Context(t)
		cons, err := replierConsumer(ctx, stream, requestSubject, "replier-1", false)
		if err != nil {
			t.Fatal(err)
		}
		cfg := cons.CachedInfo().Config
		cfg.AckWait = 50 * time.Millisecond // a request that was not settled would come back fast
		if cons, err = stream.UpdateConsumer(ctx, cfg); err != nil {
			t.Fatal(err)
		}
		terminated := advisories(t, nc, "MSG_TERMINATED")
		r := &replier{name: "replier-1", nc: nc, out: io.Discard}

		if err := nc.Publish(requestSubject, []byte("no header")); err != nil { // as 04-pubsub publish does
			t.Fatal(err)
		}
		msg, _ := next(t, cons)
		if err := r.handle(ctx, msg); err != nil {
			t.Fatal(err)
		}
		if a := nextAdvisory(t, terminated); a.StreamSeq != 1 || a.Reason != "no reply-to header" {
			t.Fatalf("advisory %+v, want seq 1 terminated for having no reply-to header", a)
		}

		responses, _, err := sendRequest(ctx, nc, js, io.Discard, requestSubject, "")
		if err != nil {
			t.Fatal(err)
		}
		msg, meta := next(t, cons)
		if meta.Sequence.Stream != 2 {
			t.Fatalf("after Term: seq %d delivered, want the next request, seq 2", meta.Sequence.Stream)
		}
		if err := r.handle(ctx, msg); err != nil {
			t.Fatal(err)
		}
		if a := nextAdvisory(t, terminated); a.StreamSeq != 2 || a.Reason != "empty request: nothing to upper-case" {
			t.Fatalf("advisory %+v, want seq 2 terminated as an empty request", a)
		}
		err = collectResponses(ctx, responses, io.Discard, 1, 5*time.Second)
		if err == nil || err.Error() != "the replier answered with an error: empty request: nothing to upper-case" {
			t.Fatalf("requester of an empty request: %v, want the replier's error reply", err)
		}

		if _, _, err := sendRequest(ctx, nc, js, io.Discard, requestSubject, "the next request"); err != nil {
			t.Fatal(err)
		}
		if _, meta := next(t, cons); meta.Sequence.Stream != 3 || meta.NumDelivered != 1 {
			t.Fatalf("after two Terms: seq %d delivery %d, want seq 3", meta.Sequence.Stream, meta.NumDelivered)
		}
	})

	// The real AckWait of 2 s here: the point is that it is shorter than the
	// requester's 5 s.
	t.Run("a crashed replier's request reaches another replier in time", func(t *testing.T) {
		if ackWait >= defaultTimeout {
			t.Fatalf("AckWait %s is not shorter than the requester's %s", ackWait, defaultTimeout)
		}
		nc, js, stream := newExampleStream(t)
		ctx := jstest.Context(t)
		cons, err := replierConsumer(ctx, stream, requestSubject, "replier-1", false)
		if err != nil {
			t.Fatal(err)
		}
		responses, _, err := sendRequest(ctx, nc, js, io.Discard, requestSubject, helloRequest)
		if err != nil {
			t.Fatal(err)
		}
		next(t, cons) // replier-1 takes the request and dies before it answers
		var log strings.Builder
		if err := (&replier{name: "replier-2", nc: nc, out: &log}).serve(ctx, cons, 1); err != nil {
			t.Fatal(err)
		}
		if err := collectResponses(ctx, responses, io.Discard, 1, defaultTimeout); err != nil {
			t.Fatalf("the requester, waiting its default %s: %v", defaultTimeout, err)
		}
		if want := "replier-2 received request: Hello, Consumers! (seq 1, delivery 2 of at most 3)\n"; !strings.HasPrefix(log.String(), want) {
			t.Fatalf("replier-2 printed %q, want %q first", log.String(), want)
		}
	})
}

// maxDeliverStopsRedelivery lets the chapter's consumer deliver a request
// maxDeliver times, each time unsettled (a crash) or Nak'd by the replier.
func maxDeliverStopsRedelivery(t *testing.T, nak bool) {
	nc, js, stream := newExampleStream(t)
	ctx := jstest.Context(t)
	cons, err := replierConsumer(ctx, stream, requestSubject, "replier-1", false)
	if err != nil {
		t.Fatal(err)
	}
	cfg := cons.CachedInfo().Config
	cfg.AckWait = 50 * time.Millisecond // instead of 2 s: a replier that crashes comes back fast
	if cons, err = stream.UpdateConsumer(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	gaveUp := advisories(t, nc, "MAX_DELIVERIES")
	if _, _, err := sendRequest(ctx, nc, js, io.Discard, requestSubject, helloRequest); err != nil {
		t.Fatal(err)
	}
	r := &replier{name: "replier-1", nc: nc, out: io.Discard, failFirst: maxDeliver + 1}
	for want := uint64(1); want <= maxDeliver; want++ {
		msg, meta := next(t, cons)
		if meta.Sequence.Stream != 1 || meta.NumDelivered != want {
			t.Fatalf("delivery: seq %d for the %d. time, want seq 1 for the %d. time", meta.Sequence.Stream, meta.NumDelivered, want)
		}
		if nak {
			if err := r.handle(ctx, msg); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A replier keeps pulling. Once seq 1 is due again (AckWait after a
	// crash, the Nak's delay), the next pull finds it out of deliveries: the
	// server reports it with an advisory and never delivers it again.
	if _, _, err := sendRequest(ctx, nc, js, io.Discard, requestSubject, "the next request"); err != nil {
		t.Fatal(err)
	}
	var delivered []uint64
	jstest.Eventually(t, func() error {
		batch, err := cons.Fetch(1, jetstream.FetchMaxWait(100*time.Millisecond))
		if err != nil {
			return err
		}
		for msg := range batch.Messages() {
			meta, err := msg.Metadata()
			if err != nil {
				return err
			}
			delivered = append(delivered, meta.Sequence.Stream)
			if err := msg.DoubleAck(ctx); err != nil {
				return err
			}
		}
		if pending, _, err := gaveUp.Pending(); err != nil || pending == 0 || len(delivered) == 0 {
			return fmt.Errorf("delivered %v, and no MAX_DELIVERIES advisory yet (%v)", delivered, err)
		}
		return nil
	})
	if !slices.Equal(delivered, []uint64{2}) {
		t.Fatalf("after MaxDeliver, the replier was given seqs %v, want only the next request, seq 2", delivered)
	}
	if a := nextAdvisory(t, gaveUp); a.StreamSeq != 1 || a.Deliveries != maxDeliver {
		t.Fatalf("advisory %+v, want seq 1 after %d deliveries", a, maxDeliver)
	}
}

// blockingWriter stands in for a replier busy with a slow request: its
// first write signals busy, then blocks until release is closed.
type blockingWriter struct {
	busy, release chan struct{}
	once          bool
}

func (w *blockingWriter) Write(p []byte) (int, error) {
	if !w.once {
		w.once = true
		close(w.busy)
		<-w.release
	}
	return len(p), nil
}

// The chapter says that PullMaxMessages(1) keeps a busy replier from sitting
// on requests that an idle replier sharing the consumer could answer.
func TestBusyReplierHoldsNoQueuedRequests(t *testing.T) {
	nc, js, stream := newExampleStream(t)
	ctx, cancel := context.WithCancel(jstest.Context(t))
	defer cancel()
	cons, err := replierConsumer(ctx, stream, requestSubject, "replier-1", false)
	if err != nil {
		t.Fatal(err)
	}
	busy := &blockingWriter{busy: make(chan struct{}), release: make(chan struct{})}
	done := make(chan error, 2)
	go func() { done <- (&replier{name: "replier-1", nc: nc, out: busy}).serve(ctx, cons, 0) }()
	if _, _, err := sendRequest(ctx, nc, js, io.Discard, requestSubject, "a slow request"); err != nil {
		t.Fatal(err)
	}
	<-busy.busy // replier-1 is handling it, and stays busy
	go func() { done <- (&replier{name: "replier-2", nc: nc, out: io.Discard}).serve(ctx, cons, 0) }()
	jstest.Eventually(t, func() error {
		info, err := cons.Info(ctx)
		if err != nil {
			return err
		}
		if info.NumWaiting != 1 {
			return fmt.Errorf("%d pull requests waiting, want replier-2's only", info.NumWaiting)
		}
		return nil
	})
	for i := range 4 { // well within AckWait: no redelivery can help
		var out strings.Builder
		if err := streamRequest(ctx, nc, js, &out, requestSubject, helloRequest, 1, ackWait/2); err != nil {
			t.Fatalf("request %d while replier-1 is busy: %v", i+1, err)
		}
		if !strings.Contains(out.String(), "Response from replier-2") {
			t.Fatalf("request %d: %s", i+1, out.String())
		}
	}
	close(busy.release)
	cancel()
	for range 2 {
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatal(err)
		}
	}
}

// The page: a consumer's DeliverPolicy applies when it is created and cannot
// be changed. A replier asking for another policy on the existing consumer
// gets the server's refusal, not a consumer that starts elsewhere.
func TestDeliverPolicyCannotChange(t *testing.T) {
	_, _, stream := newExampleStream(t)
	ctx := jstest.Context(t)
	cons, err := replierConsumer(ctx, stream, requestSubject, "replier-1", false)
	if err != nil {
		t.Fatal(err)
	}
	cfg := cons.CachedInfo().Config
	cfg.DeliverPolicy = jetstream.DeliverAllPolicy
	if _, err := stream.CreateOrUpdateConsumer(ctx, cfg); err == nil || !strings.Contains(err.Error(), "deliver policy can not be updated") {
		t.Fatalf("CreateOrUpdateConsumer with DeliverAll on the DeliverNew consumer: %v, want deliver policy can not be updated", err)
	}
	if _, err := replierConsumer(ctx, stream, requestSubject, "replier-1", false); err != nil {
		t.Fatalf("the same configuration again: %v", err)
	}
}

// The code comment in handle: a request in hand is finished even after
// Ctrl+C. Here the context ends while the replier is handling a request: the
// response still reaches the requester, and the ack reaches the server.
func TestARequestInHandIsFinishedAfterCtrlC(t *testing.T) {
	nc, js, stream := newExampleStream(t)
	ctx := jstest.Context(t)
	cons, err := replierConsumer(ctx, stream, requestSubject, "replier-1", false)
	if err != nil {
		t.Fatal(err)
	}
	responses, ack, err := sendRequest(ctx, nc, js, io.Discard, requestSubject, helloRequest)
	if err != nil {
		t.Fatal(err)
	}
	busy := &blockingWriter{busy: make(chan struct{}), release: make(chan struct{})}
	replierCtx, ctrlC := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- (&replier{name: "replier-1", nc: nc, out: busy}).serve(replierCtx, cons, 0) }()
	<-busy.busy // handle has the request
	ctrlC()
	close(busy.release)
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("serve after Ctrl+C: %v, want context.Canceled once the request in hand is done", err)
	}
	if err := collectResponses(ctx, responses, io.Discard, 1, 5*time.Second); err != nil {
		t.Fatalf("the requester: %v", err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.AckFloor.Stream != ack.Sequence || info.NumAckPending != 0 {
		t.Fatalf("ack floor %d with %d acks pending, want %d and 0", info.AckFloor.Stream, info.NumAckPending, ack.Sequence)
	}
}

// The page: Messages() with its defaults asks for up to 500 messages ahead,
// so a replier busy with one request also holds every request that arrives
// meanwhile: the server has delivered them to it, and none is left for a
// replier sharing the consumer. TestBusyReplierHoldsNoQueuedRequests shows
// the fix, PullMaxMessages(1).
func TestDefaultMessagesHoldsQueuedRequests(t *testing.T) {
	if jetstream.DefaultMaxMessages != 500 {
		t.Fatalf("jetstream.DefaultMaxMessages is %d, want 500", jetstream.DefaultMaxMessages)
	}
	nc, js, stream := newExampleStream(t)
	ctx := jstest.Context(t)
	cons, err := replierConsumer(ctx, stream, requestSubject, "replier-1", false)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := cons.Messages() // the defaults
	if err != nil {
		t.Fatal(err)
	}
	defer msgs.Stop()
	if _, _, err := sendRequest(ctx, nc, js, io.Discard, requestSubject, "a slow request"); err != nil {
		t.Fatal(err)
	}
	inHand, err := msgs.Next(jetstream.NextContext(ctx)) // busy with it, not acked yet
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, _, err := sendRequest(ctx, nc, js, io.Discard, requestSubject, helloRequest); err != nil {
			t.Fatal(err)
		}
	}
	jstest.Eventually(t, func() error {
		info, err := cons.Info(ctx)
		if err != nil {
			return err
		}
		if info.NumAckPending != 4 || info.NumPending != 0 {
			return fmt.Errorf("%d requests delivered and unacked, %d waiting for a replier; want 4 and 0", info.NumAckPending, info.NumPending)
		}
		return nil
	})
	if err := inHand.DoubleAck(ctx); err != nil {
		t.Fatal(err)
	}
}
