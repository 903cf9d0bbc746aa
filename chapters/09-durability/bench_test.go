package main

// The benchmarks run only when asked for:
//
//	go test ./chapters/09-durability -run '^$' -bench . -count 7
//
// They measure this machine, not NATS: compare the ratios within one run.

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// docs:start sync-always
// startServer starts a JetStream server with its file store in a new
// temporary directory. syncAlways makes the file store write every message
// through to the disk (fsync) before the server acknowledges it, except in
// streams in AsyncPersistMode.
func startServer(tb testing.TB, syncAlways bool) *server.Server {
	tb.Helper()
	s, err := server.NewServer(&server.Options{
		Host:       "127.0.0.1",
		Port:       server.RANDOM_PORT,
		JetStream:  true,
		StoreDir:   tb.TempDir(),
		SyncAlways: syncAlways, // the config file's "sync_interval: always"
		NoSigs:     true,
	})
	if err != nil {
		tb.Fatal(err)
	}
	s.Start()
	if !s.ReadyForConnections(5 * time.Second) {
		tb.Fatal("server not ready")
	}
	tb.Cleanup(s.Shutdown)
	return s
}

// docs:end sync-always

// payload is what every benchmark publishes: 128 bytes, as in nats bench.
var payload = make([]byte, 128)

// benchStream starts a server with file_stream on it, in the persist mode
// given, and connects over TCP.
func benchStream(b *testing.B, syncAlways bool, persist jetstream.PersistModeType) (*nats.Conn, jetstream.JetStream) {
	b.Helper()
	s := startServer(b, syncAlways)
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		b.Fatal(err)
	}
	cfg := fileConfig
	cfg.PersistMode = persist
	if _, err := js.CreateStream(context.Background(), cfg); err != nil {
		b.Fatal(err)
	}
	return nc, js
}

// docs:start bench
// BenchmarkSyncPublish is the price of sync_interval: always, and what
// AsyncPersistMode saves: JetStream publishes one at a time, each waiting
// for its PubAck, to file storage.
func BenchmarkSyncPublish(b *testing.B) {
	for _, mode := range []struct {
		name       string
		syncAlways bool
		persist    jetstream.PersistModeType
	}{
		{"default", false, jetstream.DefaultPersistMode},
		{"always", true, jetstream.DefaultPersistMode},
		{"async-persist", false, jetstream.AsyncPersistMode},
		{"always+async-persist", true, jetstream.AsyncPersistMode}, // async persist turns always off
	} {
		b.Run(mode.name, func(b *testing.B) {
			_, js := benchStream(b, mode.syncAlways, mode.persist)
			ctx := context.Background()
			for b.Loop() {
				if _, err := js.Publish(ctx, messagesSubject, payload); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPublish compares ways to publish one message, default sync.
func BenchmarkPublish(b *testing.B) {
	b.Run("core", func(b *testing.B) { // fire and forget, to a subject no stream stores
		nc, _ := benchStream(b, false, jetstream.DefaultPersistMode)
		for b.Loop() {
			if err := nc.Publish("core.messages", payload); err != nil {
				b.Fatal(err)
			}
		}
		if err := nc.Flush(); err != nil {
			b.Fatal(err)
		}
	})
	b.Run("core+flush", func(b *testing.B) { // a round trip per message, nothing stored
		nc, _ := benchStream(b, false, jetstream.DefaultPersistMode)
		for b.Loop() {
			if err := nc.Publish("core.messages", payload); err != nil {
				b.Fatal(err)
			}
			if err := nc.Flush(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("jetstream", func(b *testing.B) { // stored, then acknowledged, one at a time
		_, js := benchStream(b, false, jetstream.DefaultPersistMode)
		ctx := context.Background()
		for b.Loop() {
			if _, err := js.Publish(ctx, messagesSubject, payload); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("jetstream-async", func(b *testing.B) { // stored and acknowledged, many in flight
		nc, _ := benchStream(b, false, jetstream.DefaultPersistMode)
		publishAsync(b, nc)
	})
}

// BenchmarkAsyncPublish is what AsyncPersistMode saves when many
// publishes are in flight: PublishAsync, PubAcks collected at the end.
func BenchmarkAsyncPublish(b *testing.B) {
	for _, mode := range []struct {
		name    string
		persist jetstream.PersistModeType
	}{{"default", jetstream.DefaultPersistMode}, {"async-persist", jetstream.AsyncPersistMode}} {
		b.Run(mode.name, func(b *testing.B) {
			nc, _ := benchStream(b, false, mode.persist)
			publishAsync(b, nc)
		})
	}
}

// publishAsync publishes with PublishAsync for b.N messages, then waits
// for every PubAck.
func publishAsync(b *testing.B, nc *nats.Conn) {
	b.Helper()
	var failed atomic.Int64
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncErrHandler(func(jetstream.JetStream, *nats.Msg, error) { failed.Add(1) }))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := js.PublishAsync(messagesSubject, payload); err != nil {
			b.Fatal(err)
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(30 * time.Second):
		b.Fatal("PubAcks still missing after 30 s")
	}
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d async publishes failed", n)
	}
}

// docs:end bench
