package main

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/examplestream"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/nats.go/jetstream"
)

// C06 (a): one publisher's messages get strictly increasing stream
// sequences in the order it published them, also with PublishAsync, which
// does not wait for each acknowledgement, as long as the stream answers
// every publish (TestC06_PublishAsyncRetryCanReorder shows when it does
// not). Two publishers at once each keep their own order; how their
// messages interleave is arrival order.
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

// C06 (b): the server takes one consumer's acks and naks in the order they
// arrive (one queue per consumer: pushAck and processInboundAcks in
// nats-server's consumer.go). Once it has confirmed a DoubleAck sent after a
// Nak, the Nak'd message is ready again: a fetch that does not wait gets it.
// Example_redeliveryOrder's fixed output rests on this.
func TestC06_AcksAndNaksAreTakenInOrder(t *testing.T) {
	_, js, stream := newExampleStream(t)
	ctx := jstest.Context(t)
	cons, err := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	fetch := func(batch jetstream.MessageBatch, err error) []jetstream.Msg {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		var msgs []jetstream.Msg
		for msg := range batch.Messages() {
			msgs = append(msgs, msg)
		}
		if err := batch.Error(); err != nil {
			t.Fatal(err)
		}
		return msgs
	}
	for round := range 20 {
		for range 2 {
			if _, err := js.Publish(ctx, kitchen, []byte("task")); err != nil {
				t.Fatal(err)
			}
		}
		pair := fetch(cons.Fetch(2, jetstream.FetchMaxWait(5*time.Second)))
		if len(pair) != 2 {
			t.Fatalf("round %d: fetched %d messages, want 2", round, len(pair))
		}
		if err := pair[0].Nak(); err != nil {
			t.Fatal(err)
		}
		if err := pair[1].DoubleAck(ctx); err != nil {
			t.Fatal(err)
		}
		again := fetch(cons.FetchNoWait(1))
		if len(again) != 1 {
			t.Fatalf("round %d: the Nak'd message was not ready once the ack after it was confirmed", round)
		}
		meta, err := again[0].Metadata()
		if err != nil {
			t.Fatal(err)
		}
		if want := uint64(2*round + 1); meta.Sequence.Stream != want || meta.NumDelivered != 2 {
			t.Fatalf("round %d: got seq %d on delivery %d, want seq %d on delivery 2", round, meta.Sequence.Stream, meta.NumDelivered, want)
		}
		if err := again[0].DoubleAck(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// C06 (c): with several workers on one consumer, the order in which
// messages are finished is nobody's. The consumer hands seq 2 to worker 2
// while worker 1 still holds seq 1, and the server records seq 2 as done
// while seq 1 is not: finished 2, then 1.
func TestC06_SeveralWorkersFinishInNoOneOrder(t *testing.T) {
	s, js, stream := newExampleStream(t)
	ctx := jstest.Context(t)
	publishFive(t, js)
	shared, err := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: "workers", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	take := func() (jetstream.Msg, uint64) { // a worker of its own, on its own connection
		_, wjs := jstest.Connect(t, s)
		cons, err := wjs.Consumer(ctx, examplestream.Name, "workers")
		if err != nil {
			t.Fatal(err)
		}
		msg, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second))
		if err != nil {
			t.Fatal(err)
		}
		meta, err := msg.Metadata()
		if err != nil {
			t.Fatal(err)
		}
		return msg, meta.Sequence.Stream
	}
	state := func() string {
		info, err := shared.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("acked up to %d, %d unacked", info.AckFloor.Stream, info.NumAckPending)
	}
	slow, slowSeq := take() // worker 1 is still busy with it...
	fast, fastSeq := take() // ...while worker 2 takes the next one
	if slowSeq != 1 || fastSeq != 2 {
		t.Fatalf("workers got seq %d and %d, want 1 and 2", slowSeq, fastSeq)
	}
	if err := fast.DoubleAck(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := state(), "acked up to 0, 1 unacked"; got != want {
		t.Fatalf("after worker 2 finished seq 2: %s, want %s (seq 2 done, seq 1 not)", got, want)
	}
	if err := slow.DoubleAck(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := state(), "acked up to 2, 0 unacked"; got != want {
		t.Fatalf("after worker 1 finished seq 1: %s, want %s", got, want)
	}
}

// C06 (a), its limit: PublishAsync publishes a message again, after a
// wait, when it got "no responders" (503), as when no stream captures its
// subject yet, or a clustered stream is electing its leader. Messages
// published during that wait are stored first. A sync Publish retries too,
// but returns only afterwards, so its order holds.
func TestC06_PublishAsyncRetryCanReorder(t *testing.T) {
	// About a second of waiting, spent alongside the other tests.
	t.Parallel()
	if jetstream.DefaultPubRetryWait != 250*time.Millisecond || jetstream.DefaultPubRetryAttempts != 2 {
		t.Fatalf("nats.go retries %d times, %s apart; the page says twice, 250ms", jetstream.DefaultPubRetryAttempts, jetstream.DefaultPubRetryWait)
	}
	stored := func(t *testing.T, stream jetstream.Stream) []string {
		t.Helper()
		var data []string
		for seq := uint64(1); seq <= 3; seq++ {
			msg, err := stream.GetMsg(jstest.Context(t), seq)
			if err != nil {
				t.Fatal(err)
			}
			data = append(data, string(msg.Data))
		}
		return data
	}
	config := jetstream.StreamConfig{Name: "ORDER", Subjects: []string{"order.>"}, Storage: jetstream.MemoryStorage}

	t.Run("async", func(t *testing.T) {
		t.Parallel()
		_, js := jstest.Connect(t, jstest.Server(t))
		ctx := jstest.Context(t)
		// docs:start publish-async
		// One connection: the server takes "1" (no stream yet: 503), the
		// stream's creation, "2" and "3" in this order. A retry wait of a
		// second, not the default 250ms, keeps a loaded machine from
		// resending "1" before "2" and "3" are out.
		first, err := js.PublishAsync("order.x", []byte("1"), jetstream.WithRetryWait(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		stream, err := js.CreateStream(ctx, config)
		if err != nil {
			t.Fatal(err)
		}
		for _, data := range []string{"2", "3"} {
			if _, err := js.PublishAsync("order.x", []byte(data)); err != nil {
				t.Fatal(err)
			}
		}
		select {
		case <-js.PublishAsyncComplete():
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		}
		select {
		case ack := <-first.Ok():
			if ack.Sequence != 3 {
				t.Errorf("\"1\" was stored at seq %d, want 3", ack.Sequence)
			}
		case err := <-first.Err():
			t.Fatalf("\"1\" was not stored: %v", err)
		}
		if got := stored(t, stream); !slices.Equal(got, []string{"2", "3", "1"}) {
			t.Fatalf("published 1, 2, 3 with PublishAsync; stored %q, want 2, 3, 1", got)
		}
		// docs:end publish-async
	})

	t.Run("sync", func(t *testing.T) {
		t.Parallel()
		s := jstest.Server(t)
		_, js := jstest.Connect(t, s)
		pubConn, pubJS := jstest.Connect(t, s)
		ctx := jstest.Context(t)
		published := make(chan error, 1)
		go func() {
			for _, data := range []string{"1", "2", "3"} {
				// Retry often enough to outlast the stream's creation.
				if _, err := pubJS.Publish(ctx, "order.x", []byte(data), jetstream.WithRetryWait(50*time.Millisecond), jetstream.WithRetryAttempts(100)); err != nil {
					published <- fmt.Errorf("publish %s: %w", data, err)
					return
				}
			}
			published <- nil
		}()
		jstest.Eventually(t, func() error { // the 503 for "1" has come back
			if pubConn.Stats().InMsgs == 0 {
				return errors.New("no answer to the first publish yet")
			}
			return nil
		})
		stream, err := js.CreateStream(ctx, config)
		if err != nil {
			t.Fatal(err)
		}
		if err := <-published; err != nil {
			t.Fatal(err)
		}
		if got := stored(t, stream); !slices.Equal(got, []string{"1", "2", "3"}) {
			t.Fatalf("published 1, 2, 3 with Publish; stored %q, want 1, 2, 3", got)
		}
	})
}
