// Package jstest gives tests a private JetStream server, a connection to it,
// and a way to wait on a condition with a deadline instead of sleeping.
package jstest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/embedded"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Deadline bounds every wait: long enough for a loaded CI machine, short
// enough that a broken claim fails the suite quickly.
const Deadline = 20 * time.Second

// Server starts a JetStream server with its store in t.TempDir(), stopped
// when the test ends.
func Server(t testing.TB) *embedded.Server {
	t.Helper()
	return ServerWith(t, embedded.Options{StoreDir: t.TempDir()})
}

// ServerWith starts a server with opts; an empty StoreDir becomes t.TempDir().
func ServerWith(t testing.TB, opts embedded.Options) *embedded.Server {
	t.Helper()
	if opts.StoreDir == "" && !opts.NoJetStream {
		opts.StoreDir = t.TempDir()
	}
	s, err := embedded.Start(opts)
	if err != nil {
		t.Fatalf("start a server: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

// Connect opens a connection to s, closed when the test ends.
func Connect(t testing.TB, s *embedded.Server, opts ...nats.Option) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := nats.Connect(s.URL(), opts...)
	if err != nil {
		t.Fatalf("connect to %s: %v", s.URL(), err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("create a JetStream context: %v", err)
	}
	return nc, js
}

// Context is a context that ends with the test or after Deadline.
func Context(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), Deadline)
	t.Cleanup(cancel)
	return ctx
}

// Eventually waits until check returns nil and fails the test if it still
// does not after Deadline, reporting check's last error.
func Eventually(t testing.TB, check func() error) {
	t.Helper()
	if err := WaitFor(Deadline, check); err != nil {
		t.Fatal(err)
	}
}

// WaitFor polls check until it returns nil, or returns its last error once
// limit has passed.
func WaitFor(limit time.Duration, check func() error) error {
	deadline := time.Now().Add(limit)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		err := check()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("still not true after %s: %w", limit, err)
		}
		<-tick.C
	}
}
