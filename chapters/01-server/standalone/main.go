// A JetStream server inside a Go program: it starts one on a free port with a
// store of its own, stores a message through it, and shuts it down.
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

func main() {
	log.SetFlags(0) // an error is one plain line
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func run() error {
	store, err := os.MkdirTemp("", "jetstream-store-*")
	if err != nil {
		return fmt.Errorf("create a store directory: %w (set TMPDIR to a writable directory)", err)
	}
	defer os.RemoveAll(store) // a real server keeps its store, to restart with it

	s, err := server.NewServer(&server.Options{
		Host:      "127.0.0.1",        // this machine only
		Port:      server.RANDOM_PORT, // a free port; 0 would mean 4222
		JetStream: true,               // nats-server -js
		StoreDir:  store,              // nats-server -sd
		NoSigs:    true,               // Ctrl+C belongs to this program, not the server
	})
	if err != nil {
		return fmt.Errorf("configure the server: %w", err)
	}
	s.Start() // does not block: the server runs in goroutines of its own
	defer s.Shutdown()
	if !s.ReadyForConnections(5 * time.Second) {
		return fmt.Errorf("the server was not ready within 5 s")
	}
	fmt.Printf("nats-server %s is running in this process, with JetStream\n", server.VERSION)

	nc, err := nats.Connect(s.ClientURL()) // any other program could connect here too
	if err != nil {
		return fmt.Errorf("connect to %s: %w", s.ClientURL(), err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("create a JetStream context: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "GREETINGS", Subjects: []string{"greetings.>"}}); err != nil {
		return fmt.Errorf("create stream GREETINGS: %w", err)
	}
	ack, err := js.Publish(ctx, "greetings.hello", []byte("hello, JetStream"))
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	fmt.Printf("stream %s stored the greeting as message %d\n", ack.Stream, ack.Sequence)
	return nil // the deferred calls close the connection, then shut the server down
}
