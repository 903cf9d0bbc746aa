package main

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The window of an async publisher, as nats.go v1.55.0 keeps it: no speed
// is measured here, only what happens at its edges.

// silentSubject has a core subscriber that never answers, so an async
// publish to it waits for its PubAck for ever, as behind a stream that has
// not answered yet. It fills the window deterministically.
func silentSubject(t *testing.T, nc *nats.Conn) string {
	t.Helper()
	const subject = "perf.silent"
	if _, err := nc.Subscribe(subject, func(*nats.Msg) {}); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return subject
}

// nats.go refuses an unbounded window: a bound below 1 is an error.
func TestAWindowCannotBeUnbounded(t *testing.T) {
	nc, _ := jstest.Connect(t, jstest.Server(t))
	for _, bound := range []int{0, -1} {
		if _, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(bound)); !errors.Is(err, jetstream.ErrInvalidOption) {
			t.Errorf("WithPublishAsyncMaxPending(%d): %v, want ErrInvalidOption", bound, err)
		}
	}
}

// A full window holds exactly its bound: the next PublishMsgAsync waits
// for a place (200 ms unless WithStallWait says otherwise), then returns
// ErrTooManyStalledMsgs and sends nothing. The default bound is 4000.
func TestAFullWindowRefusesTheNextPublishAfterItsStallWait(t *testing.T) {
	for _, tc := range []struct {
		name   string
		opts   []jetstream.JetStreamOpt
		window int
	}{
		{"WithPublishAsyncMaxPending(8)", []jetstream.JetStreamOpt{jetstream.WithPublishAsyncMaxPending(8)}, 8},
		{"the default", nil, 4000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nc, _ := jstest.Connect(t, jstest.Server(t))
			subject := silentSubject(t, nc)
			js, err := jetstream.New(nc, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			for i := range tc.window {
				if _, err := js.PublishAsync(subject, []byte("x")); err != nil {
					t.Fatalf("publish %d of a window of %d: %v", i+1, tc.window, err)
				}
			}
			if n := js.PublishAsyncPending(); n != tc.window {
				t.Fatalf("%d awaiting their PubAck, want %d", n, tc.window)
			}
			const stall = 20 * time.Millisecond
			began := time.Now()
			_, err = js.PublishAsync(subject, []byte("one too many"), jetstream.WithStallWait(stall))
			if !errors.Is(err, jetstream.ErrTooManyStalledMsgs) {
				t.Fatalf("publish %d: %v, want ErrTooManyStalledMsgs", tc.window+1, err)
			}
			if waited := time.Since(began); waited < stall { // a lower bound only: it waits at least that long
				t.Errorf("refused after %s, before its stall wait of %s", waited, stall)
			}
			if n := js.PublishAsyncPending(); n != tc.window {
				t.Errorf("%d awaiting their PubAck after the refusal, want %d", n, tc.window)
			}
		})
	}
}

// startServerWith starts a JetStream server with options changed by
// change, stopped at the end of the test.
func startServerWith(t *testing.T, change func(*server.Options)) *nats.Conn {
	t.Helper()
	opts := &server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, JetStream: true, StoreDir: t.TempDir(), NoSigs: true}
	change(opts)
	s, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("server not ready")
	}
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// A stream queues what arrives before it stores it: at most 100,000
// messages or 128 MiB (jetstream { max_buffered_msgs, max_buffered_size }).
// A message that does not fit is dropped, and its publisher gets a 429,
// error 10167. Here the queue holds less than one message.
func TestAnIngestQueueOverflowIsA429(t *testing.T) {
	nc := startServerWith(t, func(o *server.Options) { o.StreamMaxBufferedSize = 1 })
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := jstest.Context(t)
	cfg := basePublish
	stream, err := freshStream(ctx, js, cfg.streamConfig())
	if err != nil {
		t.Fatal(err)
	}
	_, err = js.Publish(ctx, cfg.subject, make([]byte, 128))
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != 429 || apiErr.ErrorCode != 10167 {
		t.Fatalf("publish: %v, want a 429 with error code 10167", err)
	}
	msg := &nats.Msg{Subject: cfg.subject, Data: make([]byte, 128)}
	r, err := publishAsync(ctx, nc, 500, 10, func(int) *nats.Msg { return msg })
	if err != nil {
		t.Fatal(err)
	}
	if r.refused != 10 || !errors.As(r.firstErr, &apiErr) || apiErr.ErrorCode != 10167 {
		t.Fatalf("async: %d of 10 refused, the first with %v; want all, with 10167", r.refused, r.firstErr)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 0 {
		t.Errorf("the stream holds %d messages, want none", info.State.Msgs)
	}
}

// One publisher whose window is no larger than the ingest queue never
// overflows it: the server takes a message off the queue before it sends
// its PubAck, so the queue never holds more than the window. Here both are
// 16, and every one of thousands of publishes is stored.
func TestAWindowWithinTheIngestQueueIsNeverRefused(t *testing.T) {
	const queue, messages = 16, 5000
	nc := startServerWith(t, func(o *server.Options) { o.StreamMaxBufferedMsgs = queue })
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := jstest.Context(t)
	stream, err := freshStream(ctx, js, basePublish.streamConfig())
	if err != nil {
		t.Fatal(err)
	}
	msg := &nats.Msg{Subject: basePublish.subject, Data: make([]byte, 128)}
	r, err := publishAsync(ctx, nc, queue, messages, func(int) *nats.Msg { return msg })
	if err != nil {
		t.Fatal(err)
	}
	if r.refused != 0 {
		t.Fatalf("%d refused (the first: %v), want none", r.refused, r.firstErr)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != messages {
		t.Errorf("the stream holds %d messages, want %d", info.State.Msgs, messages)
	}
}

// A window larger than the queue can overflow it: the same queue of 16,
// and a window with no bound. Whether a given run overflows depends on
// how fast the server drains the queue, so this sends rounds of messages
// until one is refused, with a deadline.
func TestAWindowLargerThanTheIngestQueueCanBeRefused(t *testing.T) {
	const queue = 16
	nc := startServerWith(t, func(o *server.Options) { o.StreamMaxBufferedMsgs = queue })
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := jstest.Context(t)
	if _, err := freshStream(ctx, js, basePublish.streamConfig()); err != nil {
		t.Fatal(err)
	}
	msg := &nats.Msg{Subject: basePublish.subject, Data: make([]byte, 128)}
	jstest.Eventually(t, func() error {
		r, err := publishAsync(ctx, nc, noBound, 5000, func(int) *nats.Msg { return msg })
		if err != nil {
			return err
		}
		if r.refused == 0 {
			return fmt.Errorf("5000 publishes with a queue of %d, none refused yet", queue)
		}
		var apiErr *jetstream.APIError
		if !errors.As(r.firstErr, &apiErr) || apiErr.ErrorCode != 10167 {
			t.Fatalf("refused with %v, want error 10167", r.firstErr)
		}
		return nil
	})
}
