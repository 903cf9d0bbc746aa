package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// docs:start names
const (
	// Two subjects inside example_stream (my.subject.*), so that "the last
	// message" and "the last message of each subject" differ.
	kitchen = "my.subject.kitchen"
	garden  = "my.subject.garden"
)

// docs:end names

// docs:start publish
// publish stores count messages, alternating between the two subjects.
func publish(ctx context.Context, js jetstream.JetStream, out io.Writer, count int) error {
	for i := 1; i <= count; i++ {
		subject := kitchen
		if i%2 == 0 {
			subject = garden
		}
		if err := publishOne(ctx, js, out, subject, fmt.Sprintf("Message %d", i)); err != nil {
			return err
		}
	}
	return nil
}

// publishOne publishes and prints where the stream stored the message.
func publishOne(ctx context.Context, js jetstream.JetStream, out io.Writer, subject, message string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ack, err := js.Publish(ctx, subject, []byte(message))
	if err != nil {
		return fmt.Errorf("publish %q to %s: %w", message, subject, err)
	}
	fmt.Fprintf(out, "Published: %s on %s (stream %s, seq %d)\n", message, subject, ack.Stream, ack.Sequence)
	return nil
}

// docs:end publish

// docs:start position
// A position is where a new consumer starts reading (the -from flag), given
// when the consumer is created: a DeliverPolicy, plus OptStartSeq or
// OptStartTime for the two policies that need one.
type position struct {
	policy jetstream.DeliverPolicy
	seq    uint64     // with DeliverByStartSequencePolicy
	time   *time.Time // with DeliverByStartTimePolicy
}

// parsePosition reads all, new, last, last-per-subject, seq:N or time:RFC3339.
func parsePosition(from string) (position, error) {
	kind, arg, hasArg := strings.Cut(from, ":")
	switch {
	case from == "all":
		return position{policy: jetstream.DeliverAllPolicy}, nil // the oldest stored message on (the default)
	case from == "new":
		return position{policy: jetstream.DeliverNewPolicy}, nil // only what is published after the consumer exists
	case from == "last":
		return position{policy: jetstream.DeliverLastPolicy}, nil // the newest stored message, then new ones
	case from == "last-per-subject":
		return position{policy: jetstream.DeliverLastPerSubjectPolicy}, nil // the newest of each subject, then new ones
	case kind == "seq" && hasArg:
		seq, err := strconv.ParseUint(arg, 10, 64)
		if err != nil || seq == 0 {
			return position{}, fmt.Errorf("-from %s: want seq:N, with N a stream sequence from 1", from)
		}
		return position{policy: jetstream.DeliverByStartSequencePolicy, seq: seq}, nil // from this sequence on
	case kind == "time" && hasArg:
		t, err := time.Parse(time.RFC3339, arg)
		if err != nil {
			return position{}, fmt.Errorf("-from %s: want time:RFC3339, such as time:2025-06-01T10:30:00+09:00", from)
		}
		return position{policy: jetstream.DeliverByStartTimePolicy, time: &t}, nil // the first message stored at or after t
	}
	return position{}, fmt.Errorf("-from %q: want all, new, last, last-per-subject, seq:N or time:RFC3339", from)
}

// docs:end position

// docs:start consumer
// replayConsumer creates a consumer on filter that starts at from. A durable
// one stays on the server and remembers how far its reader acked; without a
// Durable name it is ephemeral. Every consumer has its own position: reading
// from or acking on one does not move any other.
func replayConsumer(ctx context.Context, stream jetstream.Stream, filter string, from position, durable string, replay jetstream.ReplayPolicy) (jetstream.Consumer, error) {
	// docs:start config
	cons, err := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:       durable,     // empty: ephemeral
		FilterSubject: filter,      // last-per-subject needs one
		DeliverPolicy: from.policy, // where it starts: a row of the table
		OptStartSeq:   from.seq,    // with DeliverByStartSequencePolicy
		OptStartTime:  from.time,   // with DeliverByStartTimePolicy
		ReplayPolicy:  replay,      // instant (default): at once; original: with the gaps they were published with
		AckPolicy:     jetstream.AckExplicitPolicy,
	})
	// docs:end config
	if err != nil {
		return nil, fmt.Errorf("create a consumer on %q: %w", filter, err)
	}
	return cons, nil
}

// docs:end consumer

// docs:start fetch
// fetchWaiting fetches and acks the messages a consumer had waiting when it
// was created (NumPending counts them) and returns their stream sequences.
func fetchWaiting(ctx context.Context, cons jetstream.Consumer) ([]uint64, error) {
	pending := cons.CachedInfo().NumPending
	if pending == 0 {
		return nil, nil
	}
	return fetch(ctx, cons, int(pending))
}

// fetch fetches n messages, acks them and returns their stream sequences.
func fetch(ctx context.Context, cons jetstream.Consumer, n int) ([]uint64, error) {
	batch, err := cons.Fetch(n, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		return nil, fmt.Errorf("fetch %d messages: %w", n, err)
	}
	var seqs []uint64
	for msg := range batch.Messages() {
		meta, err := msg.Metadata()
		if err != nil {
			return nil, fmt.Errorf("read message metadata: %w", err)
		}
		seqs = append(seqs, meta.Sequence.Stream)
		if err := doubleAck(ctx, msg); err != nil {
			return nil, fmt.Errorf("ack seq %d: %w", meta.Sequence.Stream, err)
		}
	}
	if err := batch.Error(); err != nil {
		return nil, fmt.Errorf("fetch %d messages: %w", n, err)
	}
	if len(seqs) != n {
		return nil, fmt.Errorf("fetched %d messages, expected %d", len(seqs), n)
	}
	return seqs, nil
}

// docs:end fetch

// seqList prints sequences as "seq 1 2 3", or "nothing" for none.
func seqList(seqs []uint64) string {
	if len(seqs) == 0 {
		return "nothing"
	}
	s := "seq"
	for _, seq := range seqs {
		s += " " + strconv.FormatUint(seq, 10)
	}
	return s
}

// docs:start demo-positions
// demoPositions creates one consumer per -from on the same five stored
// messages and shows what each has waiting; then one more message comes.
func demoPositions(ctx context.Context, js jetstream.JetStream, stream jetstream.Stream, out io.Writer) error {
	third, err := stream.GetMsg(ctx, 3)
	if err != nil {
		return fmt.Errorf("read seq 3: %w", err)
	}
	// Start by time at seq 3's own timestamp: no clock, no sleep, same result every run.
	thirdsTime := "time:" + third.Time.Format(time.RFC3339Nano)
	froms := []string{"all", "seq:3", thirdsTime, "last", "last-per-subject", "new"}

	fmt.Fprintln(out, "Six consumers on the same five stored messages, each created with its own -from:")
	var consumers []jetstream.Consumer
	for _, from := range froms {
		pos, err := parsePosition(from)
		if err != nil {
			return err
		}
		cons, err := replayConsumer(ctx, stream, "my.subject.*", pos, "", jetstream.ReplayInstantPolicy)
		if err != nil {
			return err
		}
		consumers = append(consumers, cons)
		seqs, err := fetchWaiting(ctx, cons)
		if err != nil {
			return err
		}
		if from == thirdsTime {
			from = "time:(seq 3's time)"
		}
		fmt.Fprintf(out, "  -from %-20s %s\n", from, seqList(seqs))
	}

	if err := publishOne(ctx, js, out, garden, "Message 6"); err != nil {
		return err
	}
	var next []uint64
	for _, cons := range consumers {
		seqs, err := fetch(ctx, cons, 1)
		if err != nil {
			return err
		}
		next = append(next, seqs...)
	}
	fmt.Fprintf(out, "Next message for each of the six: %s. -from sets only where a consumer starts.\n", seqList(next))
	return nil
}

// docs:end demo-positions
