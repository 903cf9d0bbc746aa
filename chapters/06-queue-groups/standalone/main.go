// A queue group over a stream: workers share one durable consumer, so each task
// goes to one of them. It uses the server NATS_URL names (default localhost:4222).
package main

import (
	"cmp"
	"context"
	"fmt"
	"log"
	"os"
	"slices"
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
	defer nc.Close() // Close flushes what is still buffered, acks included
	js, err := jetstream.New(nc)
	if err != nil {
		log.Fatalf("create a JetStream context: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	stream, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: "TASKS", Subjects: []string{"tasks.>"}})
	if err != nil {
		log.Fatalf("create stream TASKS: %v (is JetStream enabled? nats-server -js)", err)
	}
	if err := stream.Purge(ctx); err != nil { // start empty, so that every run prints the same
		log.Fatalf("purge stream TASKS: %v", err)
	}
	for i := 1; i <= 6; i++ {
		if _, err := js.Publish(ctx, fmt.Sprintf("tasks.%d", i), nil); err != nil {
			log.Fatalf("publish task %d: %v", i, err)
		}
	}

	// ONE durable consumer for all the workers makes them a queue group; unacked tasks come back.
	cons, err := stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "workers", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		log.Fatalf("create consumer workers: %v", err)
	}
	done := make(chan string) // the subject of each task a worker finished
	for _, worker := range []string{"worker-1", "worker-2", "worker-3"} {
		cc, err := cons.Consume(func(msg jetstream.Msg) {
			if err := msg.Ack(); err != nil {
				log.Fatalf("%s: ack %s: %v", worker, msg.Subject(), err)
			}
			done <- msg.Subject()
		}, jetstream.PullMaxMessages(1)) // one task in hand at a time: the others take the rest
		if err != nil {
			log.Fatalf("%s: consume: %v", worker, err)
		}
		defer cc.Stop()
	}

	time.AfterFunc(10*time.Second, func() { log.Fatal("the workers did not finish the tasks within 10 s") })
	var tasks []string
	for range 6 {
		tasks = append(tasks, <-done)
	}
	slices.Sort(tasks) // in the order they were done, they differ from run to run
	fmt.Printf("the workers did %d tasks, each once: %v\n", len(tasks), tasks)
}
