package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Start a server on a store directory three times: each run publishes one
// message and finds all the earlier ones still there.
func Example_restart() {
	store, err := os.MkdirTemp("", "example-store-*")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(store)

	for run := 1; run <= 3; run++ {
		s, err := server.NewServer(&server.Options{
			Host:      "127.0.0.1",
			Port:      server.RANDOM_PORT, // -1 picks a free port; 0 would mean 4222
			JetStream: true,
			StoreDir:  store,
			NoSigs:    true,
		})
		if err != nil {
			log.Fatal(err)
		}
		s.Start()
		if !s.ReadyForConnections(5 * time.Second) {
			log.Fatal("server not ready")
		}

		nc, err := nats.Connect(s.ClientURL())
		if err != nil {
			log.Fatal(err)
		}
		js, err := jetstream.New(nc)
		if err != nil {
			log.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		stream, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: "diary", Subjects: []string{"diary"}})
		if err != nil {
			log.Fatal(err)
		}
		ack, err := js.Publish(ctx, "diary", fmt.Appendf(nil, "run %d was here", run))
		if err != nil {
			log.Fatal(err)
		}
		info, err := stream.Info(ctx)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("run %d: stored message %d, the stream holds %d\n", run, ack.Sequence, info.State.Msgs)

		cancel()
		nc.Close()
		s.Shutdown() // a clean stop flushes the store
	}
	// Output:
	// run 1: stored message 1, the stream holds 1
	// run 2: stored message 2, the stream holds 2
	// run 3: stored message 3, the stream holds 3
}
