package main

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// newStream starts a private server and creates one stream on it.
func newStream(t *testing.T, cfg jetstream.StreamConfig) (*nats.Conn, jetstream.JetStream, jetstream.Stream) {
	t.Helper()
	nc, js := jstest.Connect(t, jstest.Server(t))
	stream, err := js.CreateStream(jstest.Context(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return nc, js, stream
}

// publishN publishes Message 1..n to subject and returns the PubAcks.
func publishN(t *testing.T, js jetstream.JetStream, subject string, n int) []*jetstream.PubAck {
	t.Helper()
	var acks []*jetstream.PubAck
	for i := 1; i <= n; i++ {
		ack, err := js.Publish(jstest.Context(t), subject, fmt.Appendf(nil, "Message %d", i))
		if err != nil {
			t.Fatalf("publish Message %d to %s: %v", i, subject, err)
		}
		acks = append(acks, ack)
	}
	return acks
}

func state(t *testing.T, stream jetstream.Stream) jetstream.StreamState {
	t.Helper()
	info, err := stream.Info(jstest.Context(t))
	if err != nil {
		t.Fatal(err)
	}
	return info.State
}

// waitMsgs waits until the stream stores exactly n messages.
func waitMsgs(t *testing.T, stream jetstream.Stream, n uint64) {
	t.Helper()
	jstest.Eventually(t, func() error {
		if got := state(t, stream).Msgs; got != n {
			return fmt.Errorf("stream %s stores %d messages, want %d", stream.CachedInfo().Config.Name, got, n)
		}
		return nil
	})
}

// fetch delivers n messages from cons, and fails unless exactly n come.
func fetch(t *testing.T, cons jetstream.Consumer, n int) []jetstream.Msg {
	t.Helper()
	batch, err := cons.Fetch(n, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var msgs []jetstream.Msg
	for msg := range batch.Messages() {
		msgs = append(msgs, msg)
	}
	if len(msgs) != n {
		t.Fatalf("fetched %d messages, want %d (%v)", len(msgs), n, batch.Error())
	}
	return msgs
}

func seq(t *testing.T, msg jetstream.Msg) uint64 {
	t.Helper()
	meta, err := msg.Metadata()
	if err != nil {
		t.Fatal(err)
	}
	return meta.Sequence.Stream
}

func doubleAck(t *testing.T, msgs ...jetstream.Msg) {
	t.Helper()
	for _, msg := range msgs {
		if err := msg.DoubleAck(jstest.Context(t)); err != nil {
			t.Fatal(err)
		}
	}
}

// hasSeqs checks which of the stream's sequences are still stored.
func hasSeqs(t *testing.T, stream jetstream.Stream, want map[uint64]bool) {
	t.Helper()
	for s, kept := range want {
		_, err := stream.GetMsg(jstest.Context(t), s)
		switch {
		case kept && err != nil:
			t.Errorf("seq %d: %v, want it still stored", s, err)
		case !kept && !errors.Is(err, jetstream.ErrMsgNotFound):
			t.Errorf("seq %d: %v, want it removed", s, err)
		}
	}
}

func wantCode(t *testing.T, what string, err error, code jetstream.ErrorCode, description string) {
	t.Helper()
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode != code || apiErr.Description != description {
		t.Errorf("%s: %v, want error %d %q", what, err, code, description)
	}
}
