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

// docs:start read
// readRole is the read role: one reader, messages until Ctrl+C or -count.
func readRole(ctx context.Context, stream jetstream.Stream, out io.Writer, opts readOptions) error {
	var cons jetstream.Consumer
	var err error
	var banner string
	switch {
	case opts.ordered:
		cons, err = orderedConsumer(ctx, stream, opts.filter, opts.from, opts.replay, "")
		banner = fmt.Sprintf("An ordered consumer reads '%s' (no acks).", opts.filter)
	case opts.durable != "":
		cons, err = stream.Consumer(ctx, opts.durable)
		if err == nil {
			var acked uint64
			acked, err = resume(ctx, stream, opts.durable)
			banner = fmt.Sprintf("Consumer %q resumes on '%s' after seq %d, the last it acked.", opts.durable, cons.CachedInfo().Config.FilterSubject, acked)
			break
		}
		if !errors.Is(err, jetstream.ErrConsumerNotFound) {
			return fmt.Errorf("look up consumer %q: %w", opts.durable, err)
		}
		cons, err = replayConsumer(ctx, stream, opts.filter, opts.from, opts.durable, opts.replay)
		banner = fmt.Sprintf("Created consumer %q on '%s'.", opts.durable, opts.filter)
	default:
		cons, err = replayConsumer(ctx, stream, opts.filter, opts.from, "", opts.replay)
		banner = fmt.Sprintf("Reading '%s'.", opts.filter)
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(out, banner, "Press Ctrl+C to exit.")
	err = receive(ctx, cons, out, opts.limit, !opts.ordered)
	if errors.Is(err, context.Canceled) {
		fmt.Fprintln(out, "Reader stopped.")
		return nil
	}
	return err
}

// resume moves a durable consumer back to the first message its reader has
// not acked (ResetConsumer, nats-server 2.14 and later) and returns the last
// acked sequence. A run stopped by Ctrl+C leaves the messages it had pulled
// but not printed delivered and unacked; without the reset they would come
// back only after AckWait, behind newer ones. One reader per durable here:
// a reset takes back what any reader of the consumer holds.
func resume(ctx context.Context, stream jetstream.Stream, durable string) (uint64, error) {
	reset, err := stream.ResetConsumer(ctx, durable)
	if err != nil {
		return 0, fmt.Errorf("resume consumer %q: %w", durable, err)
	}
	return reset.ResetSeq - 1, nil
}

// receive prints messages as they arrive until it has limit of them (0: no
// limit) or ctx ends. With ack, it acks each one and waits until the server
// has recorded the ack (DoubleAck): a durable consumer's position is then
// safe before the next message is printed.
func receive(ctx context.Context, cons jetstream.Consumer, out io.Writer, limit int, ack bool) error {
	var opts []jetstream.PullMessagesOpt
	if limit > 0 {
		// Ask the server for no more than we will ack: a durable reader that
		// pulled more and stopped would leave them to wait out AckWait.
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
		fmt.Fprintf(out, "Received a message on '%s': %s (seq %d)\n", msg.Subject(), msg.Data(), meta.Sequence.Stream)
		if ack {
			if err := doubleAck(ctx, msg); err != nil {
				return fmt.Errorf("ack seq %d: %w", meta.Sequence.Stream, err)
			}
		}
	}
	return nil
}

// doubleAck acks msg and waits for the server's confirmation. A Ctrl+C
// does not cut an ack short: it has up to five seconds of its own.
func doubleAck(ctx context.Context, msg jetstream.Msg) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return msg.DoubleAck(ctx)
}

// docs:end read

// docs:start demo-readers
// demoTwoReaders shows two durable consumers on one stream, each with its
// own position: acks on one do not move the other.
func demoTwoReaders(ctx context.Context, stream jetstream.Stream, out io.Writer) error {
	fmt.Fprintln(out, "Two durable consumers on the same stream:")
	for _, r := range []struct {
		name string
		read int
	}{{"reader-a", 4}, {"reader-b", 2}} {
		cons, err := replayConsumer(ctx, stream, "my.subject.*", position{policy: jetstream.DeliverAllPolicy}, r.name, jetstream.ReplayInstantPolicy)
		if err != nil {
			return err
		}
		seqs, err := fetch(ctx, cons, r.read)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "  %s reads and acks %s\n", r.name, seqList(seqs))
	}
	for _, name := range []string{"reader-a", "reader-b"} {
		cons, err := stream.Consumer(ctx, name)
		if err != nil {
			return fmt.Errorf("look up consumer %q: %w", name, err)
		}
		info, err := cons.Info(ctx)
		if err != nil {
			return fmt.Errorf("consumer %q: %w", name, err)
		}
		fmt.Fprintf(out, "  %s has acked up to seq %d, with %d still to read\n", name, info.AckFloor.Stream, info.NumPending)
	}
	return nil
}

// docs:end demo-readers
