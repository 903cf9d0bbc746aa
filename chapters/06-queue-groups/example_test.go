package main

import (
	"context"
	"fmt"
	"log"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/embedded"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/examplestream"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func TestMain(m *testing.M) {
	// The Examples show the embedded default, whatever the reader's shell says.
	os.Unsetenv("NATS_URL")
	os.Exit(m.Run())
}

// startExample starts an embedded server with chapter 03's stream on it, as
// the chapter's run does, and returns a connection and the stream.
func startExample() (*nats.Conn, jetstream.JetStream, jetstream.Stream, func()) {
	s, err := embedded.Start(embedded.Options{})
	if err != nil {
		log.Fatal(err)
	}
	nc, err := nats.Connect(s.URL())
	if err != nil {
		log.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stream, err := js.CreateStream(ctx, examplestream.Config())
	if err != nil {
		log.Fatal(err)
	}
	return nc, js, stream, func() { nc.Close(); s.Stop() }
}

// A worker that takes a task and dies before acking it loses nothing while
// the stream holds the task: once AckWait has passed, the server hands it to
// another worker.
func Example_redelivery() {
	_, js, stream, stop := startExample()
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// AckWait of 100 ms instead of 30 s keeps the example fast.
	cons, err := sharedConsumer(ctx, stream, 100*time.Millisecond)
	if err != nil {
		log.Fatal(err)
	}
	if err := publish(ctx, js, os.Stdout, tasksSubject, 1, 0); err != nil {
		log.Fatal(err)
	}

	// worker-1 takes the task, then crashes: no ack, no Nak, no progress.
	msg, err := cons.Next(jetstream.FetchContext(ctx))
	if err != nil {
		log.Fatal(err)
	}
	meta, err := msg.Metadata()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(task{worker: "worker-1", subject: msg.Subject(), data: string(msg.Data()), seq: meta.Sequence.Stream, delivery: meta.NumDelivered})
	fmt.Println("worker-1 crashes before acking it.")

	// worker-2 is waiting, and gets the same task after AckWait.
	w := worker{name: "worker-2", limit: 1, received: func(t task) { fmt.Println(t) }}
	finished, err := w.run(ctx, cons)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("worker-2 finished %d task: nothing was lost, but Message 1 was started twice.\n", finished)
	// Output:
	// Published: Message 1 (stream example_stream, seq 1)
	// [worker-1] Received a message on 'my.subject.tasks': Message 1 (seq 1)
	// worker-1 crashes before acking it.
	// [worker-2] Received a message on 'my.subject.tasks': Message 1 (seq 1, delivery 2)
	// worker-2 finished 1 task: nothing was lost, but Message 1 was started twice.
}

// The seed's worker.py in nats.go terms. nats-py's js.subscribe(subject,
// queue="workers") makes a push consumer whose durable name and deliver
// group are both "workers"; each subscription joins the group, and the
// server pushes each message to one member. Unlike nats-py, the deliver
// subject here is fixed, so every worker sends the same configuration.
func Example_pushDeliverGroup() {
	_, js, _, stop := startExample()
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	config := jetstream.ConsumerConfig{
		Durable:        queueGroup,        // nats-py: durable = queue
		DeliverGroup:   queueGroup,        // nats-py: deliver_group = queue
		DeliverSubject: "deliver.workers", // nats-py: a new random inbox per call (C37)
		FilterSubject:  tasksSubject,      // the seed: my.subject.*, which replays everything (C43)
		AckPolicy:      jetstream.AckExplicitPolicy,
	}

	var mu sync.Mutex
	takenBy := map[string][]string{} // task → the workers that got it
	allTaken := make(chan struct{})
	for _, name := range []string{"worker-1", "worker-2"} {
		cons, err := js.CreateOrUpdatePushConsumer(ctx, examplestream.Name, config)
		if err != nil {
			log.Fatal(err)
		}
		// With a DeliverGroup, Consume is a queue subscription on the deliver subject.
		cc, err := cons.Consume(func(msg jetstream.Msg) {
			if err := msg.Ack(); err != nil {
				log.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			takenBy[string(msg.Data())] = append(takenBy[string(msg.Data())], name)
			if len(takenBy) == 5 {
				close(allTaken)
			}
		})
		if err != nil {
			log.Fatal(err)
		}
		defer cc.Stop()
	}
	if err := publish(ctx, js, os.Stdout, tasksSubject, 5, 0); err != nil {
		log.Fatal(err)
	}
	select {
	case <-allTaken:
	case <-ctx.Done():
		log.Fatal("the tasks did not all arrive")
	}

	mu.Lock()
	defer mu.Unlock()
	for _, data := range slices.Sorted(maps.Keys(takenBy)) {
		fmt.Printf("%s went to %d worker\n", data, len(takenBy[data]))
	}
	names, err := consumerNames(ctx, js)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("Consumers on %s: %s\n", examplestream.Name, names)
	// Output:
	// Published: Message 1 (stream example_stream, seq 1)
	// Published: Message 2 (stream example_stream, seq 2)
	// Published: Message 3 (stream example_stream, seq 3)
	// Published: Message 4 (stream example_stream, seq 4)
	// Published: Message 5 (stream example_stream, seq 5)
	// Message 1 went to 1 worker
	// Message 2 went to 1 worker
	// Message 3 went to 1 worker
	// Message 4 went to 1 worker
	// Message 5 went to 1 worker
	// Consumers on example_stream: [workers]
}

// Core NATS has queue groups of its own, with no stream and no consumer:
// nc.QueueSubscribe. Each message goes to one member of the group, but
// nothing is stored, so a task published while no worker listens is gone.
func Example_coreQueueGroup() {
	nc, _, _, stop := startExample()
	defer stop()
	const subject = "tasks.core" // no stream captures it: plain NATS

	if err := nc.Publish(subject, []byte("Message 0")); err != nil {
		log.Fatal(err)
	}
	fmt.Println("Published Message 0 while no worker listened.")

	received := make(chan string, 10)
	for range 2 {
		sub, err := nc.QueueSubscribe(subject, queueGroup, func(msg *nats.Msg) { received <- string(msg.Data) })
		if err != nil {
			log.Fatal(err)
		}
		defer sub.Unsubscribe()
	}
	// Flush: the server knows both subscriptions before the next publish.
	if err := nc.Flush(); err != nil {
		log.Fatal(err)
	}
	for i := 1; i <= 5; i++ {
		if err := nc.Publish(subject, fmt.Appendf(nil, "Message %d", i)); err != nil {
			log.Fatal(err)
		}
	}
	// A second Flush returns after the server has sent back every delivery.
	if err := nc.Flush(); err != nil {
		log.Fatal(err)
	}
	var got []string
	for range 5 {
		select {
		case data := <-received:
			got = append(got, data)
		case <-time.After(5 * time.Second):
			log.Fatal("a task did not arrive")
		}
	}
	slices.Sort(got)
	fmt.Printf("The two workers received, between them: %s\n", strings.Join(got, ", "))
	fmt.Printf("Nothing else arrived (%d more): Message 0 is gone.\n", len(received))
	// Output:
	// Published Message 0 while no worker listened.
	// The two workers received, between them: Message 1, Message 2, Message 3, Message 4, Message 5
	// Nothing else arrived (0 more): Message 0 is gone.
}

// consumerNames lists the consumers of example_stream, sorted.
func consumerNames(ctx context.Context, js jetstream.JetStream) ([]string, error) {
	stream, err := js.Stream(ctx, examplestream.Name)
	if err != nil {
		return nil, err
	}
	var names []string
	list := stream.ConsumerNames(ctx)
	for name := range list.Name() {
		names = append(names, name)
	}
	slices.Sort(names)
	return names, list.Err()
}
