package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// C09: "scales well and guarantees low latency" cannot be tested: there is
// no latency guarantee to test. What is true: a JetStream publish is a
// request that waits for the stream's answer, and a core publish is not.
func TestC09_AJetStreamPublishWaitsForTheStreamACorePublishDoesNot(t *testing.T) {
	t.Run("the JetStream publish carries a reply subject for its PubAck", func(t *testing.T) {
		nc, js, stream := newFileStream(t)
		ctx := jstest.Context(t)
		watch, err := nc.SubscribeSync(messagesSubject)
		if err != nil {
			t.Fatal(err)
		}
		if err := nc.Flush(); err != nil {
			t.Fatal(err)
		}
		if _, err := js.Publish(ctx, messagesSubject, []byte("JetStream publish")); err != nil {
			t.Fatal(err)
		}
		if err := nc.Publish(messagesSubject, []byte("core publish")); err != nil {
			t.Fatal(err)
		}
		jetStream, err := watch.NextMsg(jstest.Deadline)
		if err != nil {
			t.Fatal(err)
		}
		core, err := watch.NextMsg(jstest.Deadline)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(jetStream.Reply, nats.InboxPrefix) || core.Reply != "" {
			t.Fatalf("reply subjects: JetStream publish %q, core publish %q; want an inbox and none", jetStream.Reply, core.Reply)
		}
		jstest.Eventually(t, func() error { // the stream stores both; only one publisher heard so
			info, err := stream.Info(ctx)
			if err != nil {
				return err
			}
			if info.State.Msgs != 2 {
				return fmt.Errorf("%d messages stored, want 2", info.State.Msgs)
			}
			return nil
		})
	})

	t.Run("a refusal reaches the JetStream publisher only", func(t *testing.T) {
		nc, js := jstest.Connect(t, jstest.Server(t))
		ctx := jstest.Context(t)
		full, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "full", MaxMsgs: 1, Discard: jetstream.DiscardNew})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := js.Publish(ctx, "full", []byte("1")); err != nil {
			t.Fatal(err)
		}
		if _, err := js.Publish(ctx, "full", []byte("2")); apiErrorCode(err) != 10077 {
			t.Fatalf("JetStream publish to a full stream: %v, want error 10077", err)
		}
		if err := nc.Publish("full", []byte("3")); err != nil {
			t.Fatalf("core publish to a full stream: %v, want no error: nobody tells it", err)
		}
		if err := nc.Flush(); err != nil {
			t.Fatal(err)
		}
		info, err := full.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.State.Msgs != 1 {
			t.Fatalf("the full stream holds %d messages, want 1", info.State.Msgs)
		}
	})

	t.Run("no server: the core publish returns nil, the JetStream publish fails", func(t *testing.T) {
		s := jstest.Server(t)
		nc, err := nats.Connect(s.URL(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		js, err := jetstream.New(nc)
		if err != nil {
			t.Fatal(err)
		}
		s.Stop()
		jstest.Eventually(t, func() error {
			if status := nc.Status(); status != nats.RECONNECTING {
				return fmt.Errorf("connection %v, want reconnecting", status)
			}
			return nil
		})
		// Buffered in the client: sent if a server comes back, lost if not.
		if err := nc.Publish(messagesSubject, []byte("core publish")); err != nil {
			t.Fatalf("core publish with the server gone: %v, want nil", err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		if _, err := js.Publish(ctx, messagesSubject, []byte("JetStream publish")); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("JetStream publish with the server gone: %v, want context.DeadlineExceeded", err)
		}
	})
}
