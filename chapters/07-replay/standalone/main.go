// Replay: a stream keeps its messages, and each new consumer starts reading them
// where its DeliverPolicy says. It uses the server NATS_URL names (default localhost:4222).
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
	log.SetFlags(0) // an error is one plain line
	url := cmp.Or(os.Getenv("NATS_URL"), nats.DefaultURL)
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

	// A fresh stream with five events, so that every run prints the same. In
	// memory: a file stream deleted and made again at once can keep its old
	// messages on nats-server 2.15.2.
	if err := js.DeleteStream(ctx, "EVENTS"); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
		log.Fatalf("delete stream EVENTS: %v", err)
	}
	stream, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "EVENTS", Subjects: []string{"events.>"}, Storage: jetstream.MemoryStorage})
	if err != nil {
		log.Fatalf("create stream EVENTS: %v (is JetStream enabled? nats-server -js)", err)
	}
	for i := 1; i <= 5; i++ { // event i is stored as message i
		if _, err := js.Publish(ctx, "events.page", fmt.Appendf(nil, "%d", i)); err != nil {
			log.Fatalf("publish event %d: %v", i, err)
		}
	}

	// Four consumers on the same five events, each starting elsewhere.
	for _, cfg := range []jetstream.ConsumerConfig{
		{DeliverPolicy: jetstream.DeliverAllPolicy},
		{DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: 3},
		{DeliverPolicy: jetstream.DeliverLastPolicy},
		{DeliverPolicy: jetstream.DeliverNewPolicy},
	} {
		cfg.AckPolicy = jetstream.AckNonePolicy // only reading: nothing to acknowledge
		cons, err := stream.CreateConsumer(ctx, cfg)
		if err != nil {
			log.Fatalf("create a consumer (deliver %s): %v", cfg.DeliverPolicy, err)
		}
		batch, err := cons.FetchNoWait(10) // what is stored for it, without waiting for more
		if err != nil {
			log.Fatalf("fetch (deliver %s): %v", cfg.DeliverPolicy, err)
		}
		events := []string{}
		for msg := range batch.Messages() {
			events = append(events, string(msg.Data()))
		}
		if err := batch.Error(); err != nil {
			log.Fatalf("fetch (deliver %s): %v", cfg.DeliverPolicy, err)
		}
		fmt.Printf("deliver %-17s gets %v\n", cfg.DeliverPolicy, events)
	}
}
