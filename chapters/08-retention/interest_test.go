package main

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/nats.go/jetstream"
)

// C16: interest retention does not keep messages "while active subscribers
// exist". With no consumer, a publish still gets a PubAck with a sequence,
// but nothing is stored, even though a core subscriber received it live: a
// core subscriber is no interest. A consumer filtered on another subject is
// none either.
func TestC16_NoConsumerNothingStored(t *testing.T) {
	nc, js, stream := newStream(t, jetstream.StreamConfig{Name: "interest", Subjects: []string{"interest.*"}, Retention: jetstream.InterestPolicy})
	ctx := jstest.Context(t)
	live, err := nc.SubscribeSync("interest.orders")
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	acks := publishN(t, js, "interest.orders", 2)
	if acks[0].Stream != "interest" || acks[0].Sequence != 1 || acks[1].Sequence != 2 {
		t.Fatalf("PubAcks %+v %+v, want seq 1 and 2 from stream interest", acks[0], acks[1])
	}
	for i := 1; i <= 2; i++ {
		msg, err := live.NextMsg(5 * time.Second)
		if err != nil {
			t.Fatalf("the core subscriber did not get Message %d: %v", i, err)
		}
		if want := fmt.Sprintf("Message %d", i); string(msg.Data) != want {
			t.Fatalf("core subscriber got %q, want %q", msg.Data, want)
		}
	}
	if s := state(t, stream); s.Msgs != 0 || s.LastSeq != 2 || s.Consumers != 0 {
		t.Fatalf("%d messages stored, last seq %d, %d consumers; want 0 stored, last seq 2, no consumer", s.Msgs, s.LastSeq, s.Consumers)
	}

	if _, err := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: "payments", FilterSubject: "interest.payments"}); err != nil {
		t.Fatal(err)
	}
	publishN(t, js, "interest.orders", 1)
	publishN(t, js, "interest.payments", 1)
	if s := state(t, stream); s.Msgs != 1 || s.FirstSeq != 4 {
		t.Fatalf("with a consumer on interest.payments: %d messages from seq %d, want only seq 4 (the payment)", s.Msgs, s.FirstSeq)
	}
}

// C16: a durable consumer counts as interest even while no program reads
// from it: the messages wait for it. They go once it acks them.
func TestC16_DurableWithNobodyConnectedHoldsMessages(t *testing.T) {
	_, js, stream := newStream(t, jetstream.StreamConfig{Name: "interest", Subjects: []string{"interest"}, Retention: jetstream.InterestPolicy})
	ctx := jstest.Context(t)
	if _, err := durable(ctx, stream, "offline"); err != nil {
		t.Fatal(err)
	}
	publishN(t, js, "interest", 3)
	if got := state(t, stream).Msgs; got != 3 {
		t.Fatalf("%d messages held for a durable nobody reads, want 3", got)
	}
	// Later, a program connects to the durable and acks.
	cons, err := stream.Consumer(ctx, "offline")
	if err != nil {
		t.Fatal(err)
	}
	doubleAck(t, fetch(t, cons, 3)...)
	waitMsgs(t, stream, 0)
}

// C16: a message goes only when every consumer acked it. The counts are
// read right after each DoubleAck, which on one server returns after any
// removal its ack caused (TestDoubleAckReturnsAfterTheRemoval): so a count
// of 3 after the reader's acks means they removed nothing.
func TestC16_EveryConsumerMustAck(t *testing.T) {
	_, js, stream := newStream(t, jetstream.StreamConfig{Name: "interest", Subjects: []string{"interest"}, Retention: jetstream.InterestPolicy})
	ctx := jstest.Context(t)
	reader, err := durable(ctx, stream, "reader")
	if err != nil {
		t.Fatal(err)
	}
	auditor, err := durable(ctx, stream, "auditor")
	if err != nil {
		t.Fatal(err)
	}
	publishN(t, js, "interest", 3)
	doubleAck(t, fetch(t, reader, 3)...)
	if got := state(t, stream).Msgs; got != 3 {
		t.Fatalf("%d messages after the reader acked all three, want 3 (the auditor has acked none)", got)
	}
	audited := fetch(t, auditor, 3)
	doubleAck(t, audited[2])
	if got := state(t, stream).Msgs; got != 2 {
		t.Fatalf("%d messages after both acked seq 3, want 2", got)
	}
	hasSeqs(t, stream, map[uint64]bool{1: true, 2: true, 3: false})
	doubleAck(t, audited[:2]...)
	if got := state(t, stream).Msgs; got != 0 {
		t.Fatalf("%d messages after both acked all, want 0", got)
	}
}

// C16: deleting a consumer removes its interest. Messages that only it still
// had to ack go with it, whether the consumer is deleted on purpose or an
// ephemeral consumer's InactiveThreshold runs out (chapter 04, C29).
func TestC16_DeletingTheLastConsumerReleasesItsMessages(t *testing.T) {
	_, js, stream := newStream(t, jetstream.StreamConfig{Name: "interest", Subjects: []string{"interest"}, Retention: jetstream.InterestPolicy})
	ctx := jstest.Context(t)
	if _, err := durable(ctx, stream, "deleted"); err != nil {
		t.Fatal(err)
	}
	publishN(t, js, "interest", 2)
	if got := state(t, stream).Msgs; got != 2 {
		t.Fatalf("%d messages held for the durable, want 2", got)
	}
	if err := stream.DeleteConsumer(ctx, "deleted"); err != nil {
		t.Fatal(err)
	}
	waitMsgs(t, stream, 0)

	ephemeral, err := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{InactiveThreshold: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	publishN(t, js, "interest", 2)
	if got := state(t, stream).Msgs; got != 2 {
		t.Fatalf("%d messages held for the ephemeral consumer, want 2", got)
	}
	name := ephemeral.CachedInfo().Name
	jstest.Eventually(t, func() error {
		if _, err := stream.Consumer(ctx, name); !errors.Is(err, jetstream.ErrConsumerNotFound) {
			return fmt.Errorf("ephemeral consumer still there (%v)", err)
		}
		return nil
	})
	waitMsgs(t, stream, 0)
}

// C16: an AckNone consumer on an interest stream gives up its interest on
// delivery: there is no ack to wait for.
func TestC16_AckNoneReleasesOnDelivery(t *testing.T) {
	_, js, stream := newStream(t, jetstream.StreamConfig{Name: "interest", Subjects: []string{"interest"}, Retention: jetstream.InterestPolicy})
	cons, err := stream.CreateConsumer(jstest.Context(t), jetstream.ConsumerConfig{Durable: "fire", AckPolicy: jetstream.AckNonePolicy})
	if err != nil {
		t.Fatal(err)
	}
	publishN(t, js, "interest", 2)
	if got := state(t, stream).Msgs; got != 2 {
		t.Fatalf("%d messages before delivery, want 2", got)
	}
	fetch(t, cons, 2)
	waitMsgs(t, stream, 0)
}
