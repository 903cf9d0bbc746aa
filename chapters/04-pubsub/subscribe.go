package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/connect"
	"github.com/nats-io/nats.go/jetstream"
)

// docs:start subscribe
// subscribe gives one subscriber its own consumer: the stream's cursor for
// that reader. Every consumer sees every message of its filter, which is
// what makes this publish-subscribe rather than a work queue.
func subscribe(ctx context.Context, stream jetstream.Stream, filter string, deliver jetstream.DeliverPolicy) (jetstream.Consumer, error) {
	cons, err := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{
		FilterSubject:     filter,                      // my.subject.test: not the requests of chapter 05
		DeliverPolicy:     deliver,                     // DeliverAll replays what is stored; DeliverNew does not
		AckPolicy:         jetstream.AckExplicitPolicy, // each message must be acked, or it comes back
		InactiveThreshold: 10 * time.Second,            // no Durable: ephemeral, removed once idle this long with nothing unacked
	})
	if err != nil {
		return nil, fmt.Errorf("create a consumer on %q: %w", filter, err)
	}
	return cons, nil
}

// docs:end subscribe

// docs:start receive
// receive prints and acks messages as they arrive, until it has limit of
// them (0: no limit) or ctx ends.
func receive(ctx context.Context, cons jetstream.Consumer, out io.Writer, prefix string, limit int) error {
	var opts []jetstream.PullMessagesOpt
	if limit > 0 {
		// Ask the server for no more than we will ack: a message pulled and
		// left unacked would wait out AckWait before anyone got it again.
		opts = append(opts, jetstream.StopAfter(limit))
	}
	msgs, err := cons.Messages(opts...)
	if err != nil {
		return fmt.Errorf("start receiving: %w", err)
	}
	defer msgs.Stop()
	for received := 0; limit == 0 || received < limit; received++ {
		msg, err := msgs.Next(jetstream.NextContext(ctx))
		if err != nil {
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			if connect.Closed(err) {
				return connect.ErrConnectionLost // reconnecting failed, maybe before ctx heard of it
			}
			return fmt.Errorf("receive: %w", err)
		}
		meta, err := msg.Metadata()
		if err != nil {
			return fmt.Errorf("read message metadata: %w", err)
		}
		fmt.Fprintf(out, "%sReceived a message on '%s': %s (seq %d)\n", prefix, msg.Subject(), msg.Data(), meta.Sequence.Stream)
		if err := msg.Ack(); err != nil {
			return fmt.Errorf("ack message %d: %w", meta.Sequence.Stream, err)
		}
	}
	return nil
}

// docs:end receive

// subscriber is the subscribe role: one consumer, messages until Ctrl+C.
func subscriber(ctx context.Context, stream jetstream.Stream, out io.Writer, filter string, deliver jetstream.DeliverPolicy, limit int) error {
	cons, err := subscribe(ctx, stream, filter, deliver)
	if err != nil {
		return err
	}
	from := "replaying stored messages first"
	if deliver == jetstream.DeliverNewPolicy {
		from = "new messages only"
	}
	fmt.Fprintf(out, "Subscriber is listening on '%s' (%s). Press Ctrl+C to exit.\n", filter, from)
	err = receive(ctx, cons, out, "", limit)
	if errors.Is(err, context.Canceled) {
		fmt.Fprintln(out, "Subscriber stopped.")
		return nil
	}
	return err
}
