package main

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ordersServer is the chapter's server with ORDERS and its consumer set up
// by admin, as the scenario does.
func ordersServer(t *testing.T) (*testServer, context.Context) {
	t.Helper()
	ts := startTestServer(t)
	ctx := jstest.Context(t)
	if err := setUpOrders(ctx, ts.as(t, "admin")); err != nil {
		t.Fatal(err)
	}
	return ts, ctx
}

func storedInOrders(t *testing.T, ctx context.Context, ts *testServer) uint64 {
	t.Helper()
	n, err := appOrdersHolds(ctx, ts.as(t, "admin"))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// publish: "orders.>" and subscribe: "_INBOX.>" are all that js.Publish needs.
func TestPublisherMayPublishToItsStream(t *testing.T) {
	t.Parallel()
	ts, ctx := ordersServer(t)
	publisher := ts.as(t, "publisher")
	ack, err := publisher.js.Publish(ctx, "orders.1", []byte("1 book"))
	if err != nil {
		t.Fatal(err)
	}
	if ack.Stream != ordersStream || ack.Sequence != 1 {
		t.Errorf("PubAck %+v", ack)
	}
}

// A refused js.Publish returns nothing about the refusal: it waits for a
// PubAck that never comes, until its context ends. The server's refusal
// reaches the error handler. (The short context is the point: the test
// shows the timeout the refusal turns into.)
func TestRefusedJetStreamPublishOnlyTimesOut(t *testing.T) {
	t.Parallel()
	ts, ctx := ordersServer(t)
	publisher := ts.as(t, "publisher")
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	_, err := publisher.js.Publish(short, "payments.1", []byte("100 EUR"))
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrPermissionViolation) {
		t.Fatalf("js.Publish: %v, want only context.DeadlineExceeded", err)
	}
	select {
	case refusal := <-publisher.refusals:
		if !errors.Is(refusal, nats.ErrPermissionViolation) {
			t.Fatalf("the error handler got %v", refusal)
		}
	case <-ctx.Done():
		t.Fatal("the error handler got nothing")
	}
}

// The chapter's refused ends the call at the refusal, and the connection
// stays up.
func TestPublisherIsRefusedOtherSubjects(t *testing.T) {
	t.Parallel()
	ts, ctx := ordersServer(t)
	publisher := ts.as(t, "publisher")
	var publishErr error
	refusedWithin(t, ctx, publisher, `Publish to "payments.1"`, func(ctx context.Context) error {
		_, publishErr = publisher.js.Publish(ctx, "payments.1", []byte("100 EUR"))
		return publishErr
	})
	if !errors.Is(publishErr, context.Canceled) {
		t.Errorf("js.Publish returned %v, want context.Canceled", publishErr)
	}
	if !publisher.nc.IsConnected() {
		t.Error("a refusal closed the connection")
	}
}

// A core publish to a denied subject returns nil, and so does Flush: the
// refusal reaches the error handler only.
func TestCorePublishRefusalReachesOnlyTheErrorHandler(t *testing.T) {
	t.Parallel()
	ts, ctx := ordersServer(t)
	publisher := ts.as(t, "publisher")
	refusedWithin(t, ctx, publisher, `Publish to "payments.1"`, func(context.Context) error {
		if err := publisher.nc.Publish("payments.1", []byte("100 EUR")); err != nil {
			return fmt.Errorf("publish returned %w", err)
		}
		if err := publisher.nc.Flush(); err != nil {
			return fmt.Errorf("flush returned %w", err)
		}
		return nil
	})
}

// The reader's three subjects are enough to look up the consumer, fetch,
// and ack: the consumer then has nothing pending and nothing unacked.
func TestReaderMayFetchAndAck(t *testing.T) {
	t.Parallel()
	ts, ctx := ordersServer(t)
	if _, err := ts.as(t, "publisher").js.Publish(ctx, "orders.1", []byte("1 book")); err != nil {
		t.Fatal(err)
	}
	got, err := fetchAndAck(ctx, ts.as(t, "reader"))
	if err != nil {
		t.Fatal(err)
	}
	if got != `"1 book" from orders.1, acked` {
		t.Errorf("got %s", got)
	}
	// Messages needs no more than Fetch: pull requests on MSG.NEXT.
	if _, err := ts.as(t, "publisher").js.Publish(ctx, "orders.2", []byte("2 pens")); err != nil {
		t.Fatal(err)
	}
	reader := ts.as(t, "reader")
	readerCons, err := reader.js.Consumer(ctx, ordersStream, ordersConsumer)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := readerCons.Messages()
	if err != nil {
		t.Fatal(err)
	}
	defer msgs.Stop()
	msg, err := msgs.Next(jetstream.NextContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	if err := msg.DoubleAck(ctx); err != nil {
		t.Fatal(err)
	}
	cons, err := ts.as(t, "admin").js.Consumer(ctx, ordersStream, ordersConsumer)
	if err != nil {
		t.Fatal(err)
	}
	info := cons.CachedInfo()
	if info.AckFloor.Stream != 2 || info.NumAckPending != 0 || info.NumPending != 0 {
		t.Errorf("consumer after the ack: ack floor %d, %d unacked, %d pending", info.AckFloor.Stream, info.NumAckPending, info.NumPending)
	}
}

func TestReaderIsRefusedCreatingAStream(t *testing.T) {
	t.Parallel()
	ts, ctx := ordersServer(t)
	reader := ts.as(t, "reader")
	refusedWithin(t, ctx, reader, `Publish to "$JS.API.STREAM.CREATE.COPY"`, func(ctx context.Context) error {
		_, err := reader.js.CreateStream(ctx, jetstream.StreamConfig{Name: "COPY", Subjects: []string{"copy.>"}})
		return err
	})
}

// The reader may not even look at the stream: js.Stream is
// $JS.API.STREAM.INFO, which it was not given.
func TestReaderIsRefusedStreamInfo(t *testing.T) {
	t.Parallel()
	ts, ctx := ordersServer(t)
	reader := ts.as(t, "reader")
	refusedWithin(t, ctx, reader, `Publish to "$JS.API.STREAM.INFO.ORDERS"`, func(ctx context.Context) error {
		_, err := reader.js.Stream(ctx, ordersStream)
		return err
	})
}

func TestReaderIsRefusedPublishing(t *testing.T) {
	t.Parallel()
	ts, ctx := ordersServer(t)
	reader := ts.as(t, "reader")
	refusedWithin(t, ctx, reader, `Publish to "orders.2"`, func(ctx context.Context) error {
		_, err := reader.js.Publish(ctx, "orders.2", []byte("forged"))
		return err
	})
	if n := storedInOrders(t, ctx, ts); n != 0 {
		t.Errorf("ORDERS holds %d messages", n)
	}
}

// A denied subscription returns no error from SubscribeSync; the refusal
// reaches the error handler. With nats.PermissionErrOnSubscribe(true), the
// subscription's NextMsg returns it too.
func TestReaderIsRefusedSubscribing(t *testing.T) {
	t.Parallel()
	ts, ctx := ordersServer(t)
	reader := ts.as(t, "reader")
	refusedWithin(t, ctx, reader, `Subscription to "orders.>"`, func(context.Context) error {
		sub, err := reader.nc.SubscribeSync("orders.>")
		if err != nil {
			return fmt.Errorf("SubscribeSync returned %w", err)
		}
		if !sub.IsValid() {
			return errors.New("the subscription is not valid")
		}
		return reader.nc.Flush()
	})

	seed, err := ts.creds.signIn("reader")
	if err != nil {
		t.Fatal(err)
	}
	told := connectWith(t, ts.creds.url, seed, nats.RootCAs(ts.creds.dir+"/"+caFile), nats.PermissionErrOnSubscribe(true))
	sub, err := told.nc.SubscribeSync("orders.>")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sub.NextMsg(jstest.Deadline); !errors.Is(err, nats.ErrPermissionViolation) {
		t.Fatalf("NextMsg: %v, want a permissions violation", err)
	}
}
