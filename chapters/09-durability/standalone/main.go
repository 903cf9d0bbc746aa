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

	// A fresh stream on disk, so that every run prints the same.
	if err := js.DeleteStream(ctx, "PAYMENTS"); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
		log.Fatalf("delete stream PAYMENTS: %v", err)
	}
	cfg := jetstream.StreamConfig{Name: "PAYMENTS", Subjects: []string{"payments.>"}, Storage: jetstream.FileStorage}
	if _, err := js.CreateStream(ctx, cfg); err != nil {
		log.Fatalf("create stream PAYMENTS: %v (is JetStream enabled? nats-server -js)", err)
	}

	for attempt := 1; attempt <= 2; attempt++ { // a retry after a lost PubAck: same message, same ID
		ack, err := js.Publish(ctx, "payments.in", []byte("pay 42"), jetstream.WithMsgID("payment-1"))
		if err != nil {
			log.Fatalf("publish payment-1: %v", err)
		}
		fmt.Printf("attempt %d: stored as message %d, duplicate: %t\n", attempt, ack.Sequence, ack.Duplicate)
	}

	// Two writers that both read "the last message is 1": the second write is stale.
	for _, text := range []string{"refund 42", "refund 42 again"} {
		ack, err := js.Publish(ctx, "payments.out", []byte(text), jetstream.WithExpectLastSequence(1))
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence {
			fmt.Printf("%q refused: %s\n", text, apiErr.Description)
		} else if err != nil {
			log.Fatalf("publish %q: %v", text, err)
		} else {
			fmt.Printf("%q stored as message %d\n", text, ack.Sequence)
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
