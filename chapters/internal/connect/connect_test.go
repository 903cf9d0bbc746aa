package connect_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/connect"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Chapter 02's page: To sets chapter 02's options, and only the reconnect
// pair differs from nats.go's defaults (the dial timeout is the default).
func TestToSetsChapter02sOptions(t *testing.T) {
	if nats.DefaultTimeout != 2*time.Second || nats.DefaultMaxReconnect != 60 || nats.DefaultReconnectWait != 2*time.Second {
		t.Fatalf("nats.go's defaults: timeout %s, %d reconnects %s apart; want 2s, 60, 2s",
			nats.DefaultTimeout, nats.DefaultMaxReconnect, nats.DefaultReconnectWait)
	}
	s := jstest.Server(t)
	nc, err := connect.To(s.URL(), "connect-test")
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if o := nc.Opts; o.Timeout != 2*time.Second || o.MaxReconnect != 10 || o.ReconnectWait != 500*time.Millisecond {
		t.Fatalf("To: timeout %s, %d reconnects %s apart; want chapter 02's 2s, 10, 500ms", o.Timeout, o.MaxReconnect, o.ReconnectWait)
	}
}

// Chapter 02's page: with To's options (no RetryOnFailedConnect), a refused
// connection fails at once, well within the dial timeout.
func TestRefusedConnectionFailsAtOnce(t *testing.T) {
	started := time.Now()
	_, err := connect.To("nats://127.0.0.1:1", "connect-test") // nothing listens on port 1
	took := time.Since(started)
	if err == nil || !strings.Contains(err.Error(), "no NATS server is listening there") {
		t.Fatalf("connect to a closed port: %v", err)
	}
	if took >= 2*time.Second {
		t.Fatalf("a refused connection took %s to fail, want less than the 2 s dial timeout", took)
	}
}

// Chapters 02 and 04: once the server is gone, a connection made by To
// retries ten times, half a second apart, and then closes, which ends the
// context of CancelOnClose. So it takes at least 5 s (ten waits of 500 ms
// or more, plus jitter) and, with a generous margin, well under a minute.
func TestToGivesUpAboutFiveSecondsAfterTheServerGoes(t *testing.T) {
	t.Parallel()
	s := jstest.Server(t)
	ctx, closeOption := connect.CancelOnClose(context.Background())
	nc, err := connect.To(s.URL(), "connect-test", closeOption)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()

	stopped := time.Now()
	s.Stop()
	select {
	case <-ctx.Done():
	case <-time.After(jstest.Deadline):
		t.Fatalf("still waiting %s after the server stopped", jstest.Deadline)
	}
	took := time.Since(stopped)
	if cause := context.Cause(ctx); !errors.Is(cause, connect.ErrConnectionLost) {
		t.Fatalf("context ended with %v, want ErrConnectionLost", cause)
	}
	if took < 5*time.Second || took > 15*time.Second {
		t.Fatalf("gave up %s after the server stopped, want between 5 s and 15 s", took)
	}
	t.Logf("gave up %s after the server stopped", took.Round(10*time.Millisecond))
}

// Chapter 02's page: Drain, deferred by every chapter from 03 on, sends the
// acks that Ack only queued before it closes the connection. Ack does not
// wait for the server; after Drain a second connection sees them recorded.
func TestDrainDeliversAcksSentJustBefore(t *testing.T) {
	s := jstest.Server(t)
	_, js := jstest.Connect(t, s) // the second connection, which checks
	ctx := jstest.Context(t)
	stream, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "tasks", Subjects: []string{"tasks"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: "worker", AckPolicy: jetstream.AckExplicitPolicy}); err != nil {
		t.Fatal(err)
	}
	const n = 20
	for i := 1; i <= n; i++ {
		if _, err := js.Publish(ctx, "tasks", fmt.Appendf(nil, "task %d", i)); err != nil {
			t.Fatal(err)
		}
	}

	nc, err := connect.To(s.URL(), "connect-test")
	if err != nil {
		t.Fatal(err)
	}
	worker, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	cons, err := worker.Consumer(ctx, "tasks", "worker")
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.Fetch(n, jetstream.FetchMaxWait(jstest.Deadline))
	if err != nil {
		t.Fatal(err)
	}
	acked := 0
	for msg := range batch.Messages() {
		if err := msg.Ack(); err != nil { // queued in the client, not confirmed
			t.Fatal(err)
		}
		acked++
	}
	if err := batch.Error(); err != nil || acked != n {
		t.Fatalf("fetched and acked %d of %d messages (%v)", acked, n, err)
	}
	if err := connect.Drain(nc); err != nil {
		t.Fatalf("Drain: %v", err)
	}
	if !nc.IsClosed() {
		t.Fatal("the connection is still open after Drain returned")
	}
	if err := connect.Drain(nc); err != nil { // a closed connection has nothing left to flush
		t.Fatalf("Drain of a closed connection: %v, want nil", err)
	}

	jstest.Eventually(t, func() error {
		info, err := stream.Consumer(ctx, "worker")
		if err != nil {
			return err
		}
		st := info.CachedInfo()
		if st.AckFloor.Stream != n || st.NumAckPending != 0 {
			return fmt.Errorf("ack floor %d with %d acks pending, want %d and 0", st.AckFloor.Stream, st.NumAckPending, n)
		}
		return nil
	})
}
