package main

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/nats.go/jetstream"
)

// C35, beyond chapter 05's replier (TestC35_AFailingReplierDoesNotLoopForever):
// a poison message that is never acknowledged is delivered MaxDeliver
// times, BackOff apart, and then no more. BackOff's last step repeats. The
// server says so in a MAX_DELIVERIES advisory, and the message stays in the
// stream.
func TestC35_APoisonMessageIsDeliveredMaxDeliverTimesThenNoMore(t *testing.T) {
	nc, js, stream := newFileStream(t)
	ctx := jstest.Context(t)
	const maxDeliver = 4
	backOff := []time.Duration{50 * time.Millisecond, 150 * time.Millisecond}
	cons, err := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:       "poison",
		FilterSubject: tasksSubject,
		AckPolicy:     jetstream.AckExplicitPolicy,
		MaxDeliver:    maxDeliver,
		BackOff:       backOff, // wait 50 ms after delivery 1, then 150 ms after each later one
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := cons.CachedInfo().Config.AckWait; got != backOff[0] {
		t.Fatalf("AckWait with a BackOff is %s, want BackOff's first step %s", got, backOff[0])
	}
	gaveUp, err := nc.SubscribeSync("$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES." + fileStream + ".poison")
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, tasksSubject, []byte("poison")); err != nil {
		t.Fatal(err)
	}

	// When the server sent each delivery, by its own clock: the consumer's
	// last delivery time, read before the next pull request lets it deliver
	// again. (The client's clock would add the time each delivery took.)
	var sent []time.Time
	for delivery := uint64(1); delivery <= maxDeliver; delivery++ {
		msg, err := cons.Next(jetstream.FetchMaxWait(jstest.Deadline))
		if err != nil {
			t.Fatal(err)
		}
		meta, err := msg.Metadata()
		if err != nil {
			t.Fatal(err)
		}
		if meta.Sequence.Stream != 1 || meta.NumDelivered != delivery {
			t.Fatalf("seq %d delivery %d, want seq 1 delivery %d", meta.Sequence.Stream, meta.NumDelivered, delivery)
		}
		info, err := cons.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		sent = append(sent, *info.Delivered.Last)
		// No ack: the handler crashed, or failed without saying so.
	}
	// The wait after delivery k is BackOff[k-1], and its last step for every
	// delivery after that: delivery 4 waits 150 ms, not AckWait's 50 ms.
	for k := 1; k < len(sent); k++ {
		step := backOff[min(k-1, len(backOff)-1)]
		if waited := sent[k].Sub(sent[k-1]); waited < step {
			t.Errorf("delivery %d came %s after delivery %d, before its BackOff step of %s", k+1, waited, k, step)
		}
	}

	// The server gives up when it would deliver it once more, which it
	// checks when a pull request is waiting: keep one waiting, expect nothing.
	jstest.Eventually(t, func() error {
		batch, err := cons.Fetch(1, jetstream.FetchMaxWait(100*time.Millisecond))
		if err != nil {
			return err
		}
		for msg := range batch.Messages() {
			t.Fatalf("delivered after MaxDeliver: %q", msg.Data())
		}
		if pending, _, err := gaveUp.Pending(); err != nil || pending == 0 {
			return fmt.Errorf("no MAX_DELIVERIES advisory yet (%v)", err)
		}
		return nil
	})
	msg, err := gaveUp.NextMsg(jstest.Deadline)
	if err != nil {
		t.Fatal(err)
	}
	var advisory struct {
		Time       time.Time `json:"timestamp"`
		StreamSeq  uint64    `json:"stream_seq"`
		Deliveries uint64    `json:"deliveries"`
	}
	if err := json.Unmarshal(msg.Data, &advisory); err != nil {
		t.Fatal(err)
	}
	if advisory.StreamSeq != 1 || advisory.Deliveries != maxDeliver {
		t.Fatalf("advisory %s, want stream_seq 1 after %d deliveries", msg.Data, maxDeliver)
	}
	// Giving up waits out the last step too.
	if waited, step := advisory.Time.Sub(sent[len(sent)-1]), backOff[len(backOff)-1]; waited < step {
		t.Errorf("the server gave up %s after the last delivery, before the last BackOff step of %s", waited, step)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Nothing waits for an ack any more; NumRedelivered still counts it.
	if info.NumAckPending != 0 || info.NumPending != 0 || info.NumRedelivered != 1 {
		t.Fatalf("consumer: %d unacked, %d pending, %d redelivered; want 0, 0, 1", info.NumAckPending, info.NumPending, info.NumRedelivered)
	}
	kept, err := stream.GetMsg(ctx, advisory.StreamSeq)
	if err != nil || string(kept.Data) != "poison" {
		t.Fatalf("seq %d after the server gave up: %v %v, want it still stored", advisory.StreamSeq, kept, err)
	}
}
