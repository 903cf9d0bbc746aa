// Publish-subscribe over a stream: each subscriber reads every message through a
// consumer of its own. It uses the server NATS_URL names (default localhost:4222).
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func main() {
	log.SetFlags(0) // an error is one plain line
	url := os.Getenv("NATS_URL")
	if url == "" {
		url = nats.DefaultURL
	}
	nc, err := nats.Connect(url)
	if err != nil {
		log.Fatalf("connect to %s: %v (start a server with: nats-server -js)", url, err)
	}
	defer nc.Close() // Close flushes what is still buffered, acks included
	js, err := jetstream.New(nc)
	if err != nil {
		log.Fatalf("create a JetStream context: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// The stream for news.>, made if missing and emptied, so that every run prints the same.
	stream, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: "NEWS", Subjects: []string{"news.>"}})
	if err != nil {
		log.Fatalf("create stream NEWS: %v (is JetStream enabled? nats-server -js)", err)
	}
	if err := stream.Purge(ctx); err != nil {
		log.Fatalf("purge stream NEWS: %v", err)
	}

	// Publish before anyone subscribes: the stream keeps the messages.
	for _, text := range []string{"first", "second", "third"} {
		ack, err := js.Publish(ctx, "news.tech", []byte(text))
		if err != nil {
			log.Fatalf("publish %q: %v", text, err)
		}
		fmt.Printf("published %q, stored by stream %s\n", text, ack.Stream)
	}

	// Two subscribers, two consumers: each one reads every message.
	for _, reader := range []string{"alice", "bob"} {
		cons, err := stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
			Durable:   reader,
			AckPolicy: jetstream.AckExplicitPolicy, // a message not acked comes back
		})
		if err != nil {
			log.Fatalf("create consumer %s: %v", reader, err)
		}
		batch, err := cons.FetchNoWait(10) // what is stored now, without waiting for more
		if err != nil {
			log.Fatalf("fetch for %s: %v", reader, err)
		}
		for msg := range batch.Messages() {
			fmt.Printf("%s received %q\n", reader, msg.Data())
			if err := msg.Ack(); err != nil {
				log.Fatalf("ack: %v", err)
			}
		}
		if err := batch.Error(); err != nil {
			log.Fatalf("fetch for %s: %v", reader, err)
		}
	}
}
