// Who may do what, on a server of its own, in nats-server's config syntax (NATS_URL plays no part).
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

const config = `listen: "127.0.0.1:-1", jetstream: {store_dir: %q}   # this machine only, a free port
authorization: {users: [{user: publisher, password: %q, permissions: {
  publish: ["orders.>", "$JS.API.STREAM.CREATE.ORDERS"]   # its stream's subjects; creating that stream
  subscribe: "_INBOX.>"                                    # where the stream's answers arrive
}}]}`

func main() {
	log.SetFlags(0) // an error is one plain line
	store, err := os.MkdirTemp("", "security-store-*")
	if err != nil {
		log.Fatalf("create a store directory: %v", err)
	}
	defer os.RemoveAll(store)
	password, opts := rand.Text(), &server.Options{} // a new password on every run, never printed
	if err := opts.ProcessConfigString(fmt.Sprintf(config, store, password)); err != nil {
		log.Fatalf("read the configuration: %v", err)
	}
	opts.NoSigs = true // Ctrl+C stops this program, and the server with it
	s, err := server.NewServer(opts)
	if err != nil {
		log.Fatalf("start the server: %v", err)
	}
	s.Start()
	defer s.Shutdown()
	if !s.ReadyForConnections(5 * time.Second) {
		log.Fatal("the server did not start within 5s")
	}

	// A refusal never answers a call: it goes to the error handler, which here ends the calls' context.
	refused, stop := context.WithCancelCause(context.Background())
	defer stop(nil)
	nc, err := nats.Connect(s.ClientURL(), nats.UserInfo("publisher", password),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { stop(err) }))
	if err != nil {
		log.Fatalf("connect as publisher: %v", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		log.Fatalf("create a JetStream context: %v", err)
	}
	if _, err := js.CreateStream(refused, jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}}); err != nil {
		log.Fatalf("create stream ORDERS: %v", err)
	}
	ack, err := js.Publish(refused, "orders.new", []byte("1 book"))
	if err != nil {
		log.Fatalf("publish to orders.new: %v", err)
	}
	fmt.Printf("orders.new: stored as message %d of %s\n", ack.Sequence, ack.Stream)

	_, err = js.Publish(refused, "payments.new", []byte("100 EUR"))
	if !errors.Is(context.Cause(refused), nats.ErrPermissionViolation) {
		log.Fatalf("publish to payments.new: %v, want a permissions violation", err)
	}
	fmt.Printf("payments.new: %v\n", context.Cause(refused))

	_, err = nats.Connect(s.ClientURL(), nats.UserInfo("publisher", "a guess"))
	fmt.Printf("a wrong password: %v\n", err)
}
