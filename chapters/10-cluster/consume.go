package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/connect"
	"github.com/nats-io/nats.go/jetstream"
)

// ensureConsumer returns the durable consumer processor of ORDERS. Like
// every consumer it has as many replicas as its stream, three, so its
// position survives the loss of a node too.
func ensureConsumer(ctx context.Context, stream jetstream.Stream, log io.Writer) (jetstream.Consumer, error) {
	var cons jetstream.Consumer
	err := untilReady(ctx, log, "consumer "+consumerName, func(ctx context.Context) error {
		var err error
		cons, err = stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
			Durable:   consumerName,
			AckPolicy: jetstream.AckExplicitPolicy,
			// A crash loses what was in flight: an ack on its way to the
			// dead leader, or a message on its way from it. The new leader
			// sends such a message again once AckWait has passed: 5 s, not 30.
			AckWait: 5 * time.Second,
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create consumer %s on %s: %w", consumerName, streamName, err)
	}
	return cons, nil
}

// consumeOptions keep Consume going through an election. By default a
// pull request waits 30 s, with a heartbeat every 15 s, and a consumer whose
// leader crashed can sit idle about that long (nats.go issue 2063). With a
// 4 s pull and a 1 s heartbeat it pulls again soon after a new leader is
// elected. The errors an election causes ("leadership change", "no
// responders", "no heartbeat received") reach the handler, and are not
// fatal: Consume goes on by itself.
func consumeOptions(log io.Writer) []jetstream.PullConsumeOpt {
	return []jetstream.PullConsumeOpt{
		jetstream.PullExpiry(4 * time.Second),
		jetstream.PullHeartbeat(time.Second),
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			fmt.Fprintf(log, "10-cluster consume: %v; consuming goes on\n", err)
		}),
	}
}

// errEnough ends consume when handle has all it wanted.
var errEnough = errors.New("enough messages")

// consume hands each message to handle, then acks it, until handle returns
// true or ctx ends. A message whose ack was lost in an election comes back
// after AckWait: handle may see a message twice.
func consume(ctx context.Context, cons jetstream.Consumer, log io.Writer, handle func(msg jetstream.Msg) (enough bool)) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		mu     sync.Mutex
		ackErr error
	)
	cc, err := cons.Consume(func(msg jetstream.Msg) {
		if ctx.Err() != nil {
			return // stopping: left unacked, it goes to the next reader
		}
		enough := handle(msg)
		if err := msg.Ack(); err != nil {
			mu.Lock()
			ackErr = err // the connection is closed: nothing more will be acked
			mu.Unlock()
			cancel(fmt.Errorf("ack a message: %w", err))
			return
		}
		if enough {
			cancel(errEnough)
		}
	}, consumeOptions(log)...)
	if err != nil {
		return fmt.Errorf("consume from %s: %w", consumerName, err)
	}
	defer cc.Stop()
	select {
	case <-ctx.Done():
	case <-cc.Closed():
		if err := context.Cause(ctx); err != nil {
			return err // the connection closed for good
		}
		return fmt.Errorf("consuming from %s stopped (was the consumer deleted?)", consumerName)
	}
	cause := context.Cause(ctx)
	mu.Lock()
	defer mu.Unlock()
	switch {
	case errors.Is(cause, errEnough):
		return nil
	case ackErr != nil && connect.Closed(ackErr):
		return connect.ErrConnectionLost
	}
	return cause
}

// consumeRole prints each message it receives, until it has count different
// ones (0: until Ctrl+C).
func consumeRole(ctx context.Context, cons jetstream.Consumer, out, log io.Writer, count int) error {
	fmt.Fprintf(out, "Consuming from %s with the durable consumer %s. Press Ctrl+C to stop.\n", streamName, consumerName)
	var (
		mu   sync.Mutex // Consume calls handle on a goroutine of its own
		seen = make(map[uint64]bool)
	)
	err := consume(ctx, cons, log, func(msg jetstream.Msg) bool {
		meta, err := msg.Metadata()
		if err != nil {
			fmt.Fprintf(log, "10-cluster consume: read message metadata: %v\n", err)
			return false
		}
		again := ""
		if meta.NumDelivered > 1 {
			again = fmt.Sprintf(", delivery %d: the one before was not acknowledged in time", meta.NumDelivered)
		}
		mu.Lock()
		defer mu.Unlock()
		seen[meta.Sequence.Stream] = true
		fmt.Fprintf(out, "Received: %s (seq %d%s)\n", msg.Data(), meta.Sequence.Stream, again)
		return count > 0 && len(seen) >= count
	})
	mu.Lock()
	defer mu.Unlock()
	if errors.Is(err, context.Canceled) {
		fmt.Fprintf(out, "Consumer stopped after %d messages.\n", len(seen))
		return nil
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Received %d messages.\n", len(seen))
	return nil
}
