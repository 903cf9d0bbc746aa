package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/nats.go/jetstream"
)

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
