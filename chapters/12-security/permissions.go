package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/recreate"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The stream and consumer of account APP that the permissions of
// server.conf name.
const (
	ordersStream   = "ORDERS"
	ordersSubjects = "orders.>"
	ordersConsumer = "worker"
)

// refusalWait bounds the wait for a refusal that does not come: only a
// permission the server should not have granted makes it run out.
const refusalWait = 5 * time.Second

// docs:start refused
// refused runs try with a context that ends at the server's first refusal
// for s, and returns that refusal. The server refuses a publish or a
// subscription it does not allow by sending an error to the client, which
// nats.go hands to the error handler; no call returns it. A refused
// JetStream call gets no answer at all, so without this it would wait out
// its context and report only a timeout.
func refused(ctx context.Context, s *session, try func(context.Context) error) (refusal error, err error) {
	ctx, cancel := context.WithTimeout(ctx, refusalWait)
	defer cancel()
	ctx, refuse := context.WithCancelCause(ctx)
	defer refuse(nil)
	go func() {
		select {
		case err := <-s.refusals:
			refuse(err)
		case <-ctx.Done():
		}
	}()
	tryErr := try(ctx) // a core publish returns at once: the refusal comes later
	<-ctx.Done()
	if cause := context.Cause(ctx); errors.Is(cause, nats.ErrPermissionViolation) {
		return cause, nil
	}
	return nil, fmt.Errorf("no permissions violation within %s (the call returned %v)", refusalWait, tryErr)
}

// docs:end refused

// docs:start permissions-step
// permissionsStep gives each user of account APP only what its job needs,
// as server.conf says: the publisher may publish to the stream's subjects,
// the reader may fetch from and ack one consumer. admin, with no
// permissions at all, sets the stream up.
func permissionsStep(ctx context.Context, creds credentials, admin *session, out io.Writer) error {
	fmt.Fprintln(out, "Permissions in account APP:")
	if err := setUpOrders(ctx, admin); err != nil {
		return err
	}
	result(out, "admin creates "+ordersStream+" and "+ordersConsumer, "a stream on "+ordersSubjects+" and a durable consumer")

	publisher, err := creds.connect("publisher", nil)
	if err != nil {
		return err
	}
	defer publisher.close()
	ack, err := publisher.js.Publish(ctx, "orders.1", []byte("1 book"))
	if err != nil {
		return fmt.Errorf("publisher: publish to orders.1: %w", err)
	}
	result(out, "publisher publishes to orders.1", fmt.Sprintf("stored as message %d of %s", ack.Sequence, ack.Stream))
	if err := printRefusal(ctx, out, publisher, "publisher publishes to payments.1", func(ctx context.Context) error {
		_, err := publisher.js.Publish(ctx, "payments.1", []byte("100 EUR"))
		return err
	}); err != nil {
		return err
	}

	reader, err := creds.connect("reader", nil)
	if err != nil {
		return err
	}
	defer reader.close()
	got, err := fetchAndAck(ctx, reader)
	if err != nil {
		return err
	}
	result(out, "reader fetches from "+ordersStream+"/"+ordersConsumer, got)
	if err := printRefusal(ctx, out, reader, "reader creates a stream", func(ctx context.Context) error {
		_, err := reader.js.CreateStream(ctx, jetstream.StreamConfig{Name: "COPY", Subjects: []string{"copy.>"}})
		return err
	}); err != nil {
		return err
	}
	return printRefusal(ctx, out, reader, "reader subscribes to orders.>", func(context.Context) error {
		if _, err := reader.nc.SubscribeSync("orders.>"); err != nil { // nil: the refusal comes later
			return err
		}
		return reader.nc.Flush()
	})
}

// docs:end permissions-step

// docs:start fetch
// fetchAndAck reads one message through the consumer, with the three
// subjects the reader may publish to: $JS.API.CONSUMER.INFO (js.Consumer),
// $JS.API.CONSUMER.MSG.NEXT (Fetch) and $JS.ACK (DoubleAck).
func fetchAndAck(ctx context.Context, reader *session) (string, error) {
	cons, err := reader.js.Consumer(ctx, ordersStream, ordersConsumer)
	if err != nil {
		return "", fmt.Errorf("reader: look up consumer %s: %w", ordersConsumer, err)
	}
	batch, err := cons.Fetch(1, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		return "", fmt.Errorf("reader: fetch: %w", err)
	}
	msg, ok := <-batch.Messages()
	if !ok {
		return "", fmt.Errorf("reader: fetch: nothing arrived (%v)", batch.Error())
	}
	if err := msg.DoubleAck(ctx); err != nil { // waits until the server has the ack
		return "", fmt.Errorf("reader: ack: %w", err)
	}
	return fmt.Sprintf("%q from %s, acked", msg.Data(), msg.Subject()), nil
}

// docs:end fetch

// setUpOrders makes admin create account APP's stream and consumer afresh,
// so that every run prints the same.
func setUpOrders(ctx context.Context, admin *session) error {
	if err := admin.js.DeleteStream(ctx, ordersStream); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("admin: delete stream %s: %w", ordersStream, err)
	}
	stream, err := recreate.Stream(ctx, admin.js, jetstream.StreamConfig{Name: ordersStream, Subjects: []string{ordersSubjects}}) // CreateStream, made safe right after a delete (chapter 13)
	if err != nil {
		return fmt.Errorf("admin: create stream %s: %w", ordersStream, err)
	}
	if _, err := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: ordersConsumer, AckPolicy: jetstream.AckExplicitPolicy}); err != nil {
		return fmt.Errorf("admin: create consumer %s: %w", ordersConsumer, err)
	}
	return nil
}

func printRefusal(ctx context.Context, out io.Writer, s *session, what string, try func(context.Context) error) error {
	refusal, err := refused(ctx, s, try)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	result(out, what, refusal.Error())
	return nil
}
