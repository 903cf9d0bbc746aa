// Retention side by side: the same steps on three streams, and what each stores ($NATS_URL).
package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"strings"
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

	fmt.Println("stored after:        publish  fetch  ack")
	for _, retention := range []jetstream.RetentionPolicy{jetstream.LimitsPolicy, jetstream.InterestPolicy, jetstream.WorkQueuePolicy} {
		// RETENTION_LIMITS on retention.limits, and so on: only Retention differs.
		name, subject := "RETENTION_"+strings.ToUpper(retention.String()), "retention."+strings.ToLower(retention.String())
		if err := js.DeleteStream(ctx, name); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			log.Fatalf("delete stream %s: %v", name, err) // a fresh stream, so every run prints the same
		}
		// In memory: a file stream deleted and made again at once can keep its old messages (2.15.2).
		stream, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{subject}, Retention: retention, Storage: jetstream.MemoryStorage})
		if err != nil {
			log.Fatalf("create stream %s: %v (is JetStream enabled? nats-server -js)", name, err)
		}
		stored := func() uint64 {
			info, err := stream.Info(ctx)
			if err != nil {
				log.Fatalf("read stream %s: %v", name, err)
			}
			return info.State.Msgs
		}

		if _, err := js.Publish(ctx, subject, []byte("first")); err != nil { // no consumer yet
			log.Fatalf("publish to %s: %v", subject, err)
		}
		cons, err := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: "reader", AckPolicy: jetstream.AckExplicitPolicy})
		if err != nil {
			log.Fatalf("create consumer on %s: %v", name, err)
		}
		if _, err := js.Publish(ctx, subject, []byte("second")); err != nil {
			log.Fatalf("publish to %s: %v", subject, err)
		}
		fmt.Printf("%-20s %-8d", name, stored())

		msg, err := cons.Next(jetstream.FetchMaxWait(time.Second)) // the oldest message it can see
		if err != nil {
			log.Fatalf("fetch from %s: %v", name, err)
		}
		fmt.Printf(" %-6d", stored())

		// DoubleAck waits for the server's answer. One server removes the message before it answers.
		if err := msg.DoubleAck(ctx); err != nil {
			log.Fatalf("ack on %s: %v", name, err)
		}
		fmt.Printf(" %d\n", stored())
	}
}
