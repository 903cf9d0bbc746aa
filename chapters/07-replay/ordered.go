package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// docs:start ordered
// orderedConsumer reads filter from a position in strict stream order. The
// client makes the consumer itself: no acks (AckNone), kept in memory. When
// that consumer is deleted, its heartbeats stop, or a message is missing, it
// makes a new one that starts right after the last message it handed over.
// Before the first one, the new consumer starts where from says at that
// moment: with new or last, what was stored in between is skipped.
func orderedConsumer(ctx context.Context, stream jetstream.Stream, filter string, from position, replay jetstream.ReplayPolicy, namePrefix string) (jetstream.Consumer, error) {
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{filter},
		DeliverPolicy:  from.policy,
		OptStartSeq:    from.seq,
		OptStartTime:   from.time,
		ReplayPolicy:   replay,
		NamePrefix:     namePrefix, // consumers are named prefix_1, prefix_2, ...; empty: a random prefix
	})
	if err != nil {
		return nil, fmt.Errorf("create an ordered consumer on %q: %w", filter, err)
	}
	return cons, nil
}

// docs:end ordered

// docs:start demo-ordered
// demoOrdered reads the stream with an ordered consumer, deletes the
// consumer under it, and shows the client carry on with a new one.
func demoOrdered(ctx context.Context, js jetstream.JetStream, stream jetstream.Stream, out io.Writer) error {
	fmt.Fprintln(out, "An ordered consumer reads the stream in order, without acks:")
	cons, err := orderedConsumer(ctx, stream, "my.subject.*", position{policy: jetstream.DeliverAllPolicy}, jetstream.ReplayInstantPolicy, "ordered")
	if err != nil {
		return err
	}
	msgs, err := cons.Messages()
	if err != nil {
		return fmt.Errorf("start the ordered consumer: %w", err)
	}
	defer msgs.Stop()
	next := func(n int) (string, error) {
		var seqs []uint64
		for range n {
			ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			msg, err := msgs.Next(jetstream.NextContext(ctx))
			cancel()
			if err != nil {
				return "", fmt.Errorf("ordered consumer: %w", err)
			}
			meta, err := msg.Metadata()
			if err != nil {
				return "", fmt.Errorf("read message metadata: %w", err)
			}
			seqs = append(seqs, meta.Sequence.Stream)
		}
		return fmt.Sprintf("%s through consumer %s", seqList(seqs), cons.CachedInfo().Name), nil
	}
	got, err := next(6)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "  %s\n", got)

	// Delete the consumer on the server, to see the client replace it.
	if err := stream.DeleteConsumer(ctx, "ordered_1"); err != nil {
		return fmt.Errorf("delete consumer ordered_1: %w", err)
	}
	fmt.Fprintln(out, "Consumer ordered_1 deleted on the server.")
	if err := publishOne(ctx, js, out, kitchen, "Message 7"); err != nil {
		return err
	}
	if got, err = next(1); err != nil {
		return err
	}
	fmt.Fprintf(out, "  %s: the client made it to go on after seq 6\n", got)
	return nil
}

// docs:end demo-ordered
