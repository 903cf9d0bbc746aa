package main

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// testTimeout bounds a whole cluster test: two elections and a restart fit
// in it many times over, even on a loaded machine.
const testTimeout = 90 * time.Second

// newCluster starts the chapter's three nodes, with their stores in
// t.TempDir(), waits until they are ready, and connects to all three.
func newCluster(t *testing.T) (context.Context, *cluster, jetstream.JetStream) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	c, err := startCluster(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.shutdown)
	if _, err := c.waitReady(ctx); err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(c.urls(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return ctx, c, js
}

// newOrders creates ORDERS on a new cluster.
func newOrders(t *testing.T) (context.Context, *cluster, jetstream.JetStream, jetstream.Stream) {
	t.Helper()
	ctx, c, js := newCluster(t)
	stream, err := ensureStream(ctx, js, io.Discard, testLog{t})
	if err != nil {
		t.Fatal(err)
	}
	return ctx, c, js, stream
}

// testLog sends what the chapter writes to stderr to the test's log.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(string(p))
	return len(p), nil
}
