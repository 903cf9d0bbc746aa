package main

import (
	"errors"
	"fmt"
	"io"
	"regexp"
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
	// Without a NamePrefix, nats.go picks a random one for each (a NUID).
	var names []string
	for range 2 {
		unnamed, err := orderedConsumer(ctx, stream, "my.subject.*", position{policy: jetstream.DeliverAllPolicy}, jetstream.ReplayInstantPolicy, "")
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, unnamed.CachedInfo().Name)
	}
	nuidThenOne := regexp.MustCompile(`^[0-9A-Za-z]{22}_1$`)
	if !nuidThenOne.MatchString(names[0]) || !nuidThenOne.MatchString(names[1]) || names[0] == names[1] {
		t.Fatalf("ordered consumers without a prefix are named %q, want two random prefixes, each with _1", names)
	}
}

// C06 (d), its limit: until an ordered consumer has handed over a message,
// a replacement starts where the original DeliverPolicy says at that moment
// (nats.go's jetstream/ordered.go, getConsumerConfig), not after a cursor.
// With new or last, a message stored while the consumer was gone is
// skipped; with all, or a start sequence, nothing is. The consumer is deleted before the first
// Next, so no pull request waits on it and no "consumer deleted" status can
// come: the client finds out only from the missing heartbeats.
func TestC06_OrderedConsumerBeforeItsFirstMessage(t *testing.T) {
	// About a second of waiting, spent alongside the other tests.
	t.Parallel()
	const heartbeat = 500 * time.Millisecond // missed twice: a reset (the default is 5 s)
	for _, tc := range []struct {
		from position
		want []string
	}{
		{position{policy: jetstream.DeliverNewPolicy}, []string{"after"}},                  // "gap" is skipped
		{position{policy: jetstream.DeliverLastPolicy}, []string{"gap", "after"}},          // "before" is skipped
		{position{policy: jetstream.DeliverAllPolicy}, []string{"before", "gap", "after"}}, // nothing is
		// "new" as a sequence: the one after the last stored, seq 2. Nothing is skipped.
		{position{policy: jetstream.DeliverByStartSequencePolicy, seq: 2}, []string{"gap", "after"}},
	} {
		t.Run(tc.from.policy.String(), func(t *testing.T) {
			t.Parallel()
			_, js, stream := newExampleStream(t)
			ctx := jstest.Context(t)
			if _, err := js.Publish(ctx, kitchen, []byte("before")); err != nil {
				t.Fatal(err)
			}
			cons, err := orderedConsumer(ctx, stream, "my.subject.*", tc.from, jetstream.ReplayInstantPolicy, "o")
			if err != nil {
				t.Fatal(err)
			}
			msgs, err := cons.Messages(jetstream.PullHeartbeat(heartbeat))
			if err != nil {
				t.Fatal(err)
			}
			defer msgs.Stop()
			deleted := time.Now()
			if err := stream.DeleteConsumer(ctx, "o_1"); err != nil {
				t.Fatal(err)
			}
			if _, err := js.Publish(ctx, kitchen, []byte("gap")); err != nil {
				t.Fatal(err)
			}

			type result struct {
				data []string
				err  error
			}
			got := make(chan result, 1)
			go func() { // Next blocks until the reset, so it reads on its own
				var r result
				defer func() { got <- r }()
				for {
					msg, err := msgs.Next(jetstream.NextContext(ctx))
					if err != nil {
						r.err = err
						return
					}
					r.data = append(r.data, string(msg.Data()))
					if string(msg.Data()) == "after" {
						return
					}
				}
			}()
			jstest.Eventually(t, func() error { // the replacement, made inside Next
				_, err := stream.Consumer(ctx, "o_2")
				return err
			})
			if took := time.Since(deleted); took < 2*heartbeat {
				t.Errorf("o_2 came %s after the deletion; a reset on missing heartbeats takes at least %s", took, 2*heartbeat)
			}
			if _, err := js.Publish(ctx, kitchen, []byte("after")); err != nil {
				t.Fatal(err)
			}
			r := <-got
			if r.err != nil || !slices.Equal(r.data, tc.want) {
				t.Fatalf("%s, consumer deleted before its first message: got %q (%v), want %q", tc.from.policy, r.data, r.err, tc.want)
			}
		})
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
