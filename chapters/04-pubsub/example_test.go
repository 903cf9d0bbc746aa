package main

import (
	"context"
	"fmt"
	"log"
	"os"
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

// With no role and no NATS_URL, the whole scenario runs on an embedded server.
func Example() {
	if err := run(context.Background(), nil, os.Stdout); err != nil {
		log.Fatal(err)
	}
	// Output:
	// Created stream "example_stream" as chapter 03 does (it did not exist yet).
	// 3 subscribers are listening on 'my.subject.test', each with its own consumer.
	// Published: Message 1 (stream example_stream, seq 1)
	// Published: Message 2 (stream example_stream, seq 2)
	// Published: Message 3 (stream example_stream, seq 3)
	// Published: Message 4 (stream example_stream, seq 4)
	// Published: Message 5 (stream example_stream, seq 5)
	// [subscriber 1] Received a message on 'my.subject.test': Message 1 (seq 1)
	// [subscriber 1] Received a message on 'my.subject.test': Message 2 (seq 2)
	// [subscriber 1] Received a message on 'my.subject.test': Message 3 (seq 3)
	// [subscriber 1] Received a message on 'my.subject.test': Message 4 (seq 4)
	// [subscriber 1] Received a message on 'my.subject.test': Message 5 (seq 5)
	// [subscriber 2] Received a message on 'my.subject.test': Message 1 (seq 1)
	// [subscriber 2] Received a message on 'my.subject.test': Message 2 (seq 2)
	// [subscriber 2] Received a message on 'my.subject.test': Message 3 (seq 3)
	// [subscriber 2] Received a message on 'my.subject.test': Message 4 (seq 4)
	// [subscriber 2] Received a message on 'my.subject.test': Message 5 (seq 5)
	// [subscriber 3] Received a message on 'my.subject.test': Message 1 (seq 1)
	// [subscriber 3] Received a message on 'my.subject.test': Message 2 (seq 2)
	// [subscriber 3] Received a message on 'my.subject.test': Message 3 (seq 3)
	// [subscriber 3] Received a message on 'my.subject.test': Message 4 (seq 4)
	// [subscriber 3] Received a message on 'my.subject.test': Message 5 (seq 5)
	// A subscriber started after the publisher finished still gets everything:
	// [late subscriber] Received a message on 'my.subject.test': Message 1 (seq 1)
	// [late subscriber] Received a message on 'my.subject.test': Message 2 (seq 2)
	// [late subscriber] Received a message on 'my.subject.test': Message 3 (seq 3)
	// [late subscriber] Received a message on 'my.subject.test': Message 4 (seq 4)
	// [late subscriber] Received a message on 'my.subject.test': Message 5 (seq 5)
}

// The seed's subscriber listens on my.subject.*, which also matches chapter
// 05's requests on my.subject.requests. A filter of my.subject.test does not.
func Example_subjectOverlap() {
	s, err := embedded.Start(embedded.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Stop()
	nc, err := nats.Connect(s.URL())
	if err != nil {
		log.Fatal(err)
	}
	defer nc.Close()
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
	if err := publish(ctx, js, os.Stdout, "my.subject.test", 1, 0); err != nil {
		log.Fatal(err)
	}
	if _, err := js.Publish(ctx, "my.subject.requests", []byte("Hello, Consumers!")); err != nil {
		log.Fatal(err)
	}

	for _, filter := range []string{"my.subject.*", "my.subject.test"} {
		cons, err := subscribe(ctx, stream, filter, jetstream.DeliverAllPolicy)
		if err != nil {
			log.Fatal(err)
		}
		info, err := cons.Info(ctx)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("A subscriber on %s has %d messages waiting:\n", filter, info.NumPending)
		if err := receive(ctx, cons, os.Stdout, "  ", int(info.NumPending)); err != nil {
			log.Fatal(err)
		}
	}
	// Output:
	// Published: Message 1 (stream example_stream, seq 1)
	// A subscriber on my.subject.* has 2 messages waiting:
	//   Received a message on 'my.subject.test': Message 1 (seq 1)
	//   Received a message on 'my.subject.requests': Hello, Consumers! (seq 2)
	// A subscriber on my.subject.test has 1 messages waiting:
	//   Received a message on 'my.subject.test': Message 1 (seq 1)
}
