// Safe retries, a conditional publish and a confirmed ack, on the server NATS_URL names.
package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func main() {
	log.SetFlags(0)                                       // an error is one plain line
	url := cmp.Or(os.Getenv("NATS_URL"), nats.DefaultURL) // the first that is not empty
	nc, err := nats.Connect(url)
	if err != nil {
		log.Fatalf("connect to %s: %v (start a server with: nats-server -js)", url, err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		log.Fatalf("create a JetStream context: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// A file stream, made if missing and emptied, so that every run prints the same.
	stream, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: "PAYMENTS", Subjects: []string{"payments.>"}, Storage: jetstream.FileStorage})
	if err != nil {
		log.Fatalf("create stream PAYMENTS: %v (is JetStream enabled? nats-server -js)", err)
	}
	if err := stream.Purge(ctx); err != nil {
		log.Fatalf("purge stream PAYMENTS: %v", err)
	}

	id := fmt.Sprintf("payment-%d", time.Now().UnixNano()) // a new payment each run
	var acks []*jetstream.PubAck
	for attempt := 1; attempt <= 2; attempt++ { // a retry after a lost PubAck: same message, same ID
		ack, err := js.Publish(ctx, "payments.in", []byte("pay 42"), jetstream.WithMsgID(id))
		if err != nil {
			log.Fatalf("publish %s: %v", id, err)
		}
		fmt.Printf("attempt %d: duplicate: %t\n", attempt, ack.Duplicate)
		acks = append(acks, ack)
	}
	first := acks[0] // the payment, stored once: both PubAcks name it
	fmt.Printf("both PubAcks name the same message: %t\n", acks[1].Sequence == first.Sequence)

	// Two writers that both read "the last message is the payment": the second write is stale.
	for _, text := range []string{"refund 42", "refund 42 again"} {
		_, err := js.Publish(ctx, "payments.out", []byte(text), jetstream.WithExpectLastSequence(first.Sequence))
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence {
			fmt.Printf("%q refused: the stream has moved on (error %d)\n", text, apiErr.ErrorCode)
		} else if err != nil {
			log.Fatalf("publish %q: %v", text, err)
		} else {
			fmt.Printf("%q stored\n", text)
		}
	}

	cons, err := js.CreateOrUpdateConsumer(ctx, "PAYMENTS", jetstream.ConsumerConfig{Durable: "ledger", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		log.Fatalf("create consumer ledger: %v", err)
	}
	msg, err := cons.Next(jetstream.FetchContext(ctx))
	if err != nil {
		log.Fatalf("read a payment: %v", err)
	}
	if err := msg.DoubleAck(ctx); err != nil { // returns once the server has recorded the ack
		log.Fatalf("ack %q: %v", msg.Data(), err)
	}
	fmt.Printf("ledger acked %q, and the server confirmed it\n", msg.Data())
}
