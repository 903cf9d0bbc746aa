package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/connect"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// message and messageID name message number n. The ID is how the stream
// recognises a second copy of the same message.
func message(n int) string   { return fmt.Sprintf("Message %d", n) }
func messageID(n int) string { return fmt.Sprintf("message-%d", n) }

const (
	attemptTimeout = time.Second           // one attempt waits this long for its PubAck
	retryPause     = 50 * time.Millisecond // between attempts
	// A message is given up on after this long: longer than two elections
	// (4–9 s each), and well inside the stream's 2-minute duplicates window,
	// so that a late attempt is still recognised as a repeat.
	messageDeadline = 30 * time.Second
)

// A publisher publishes messages one at a time, each until it is
// acknowledged, through the loss of any one node.
type publisher struct {
	js       jetstream.JetStream
	log      io.Writer     // a line per attempt that failed, and how long a message took
	deadline time.Duration // 0: messageDeadline
}

// publish sends message n until the stream acknowledges it. During an
// election nobody answers: a publish fails after 0.5 s with "no response
// from stream", and the one in flight when the leader died gets no answer
// at all, so each attempt has a short timeout of its own. Every attempt
// carries the same message ID: if an unanswered one was stored after all,
// the next is acknowledged as a duplicate and not stored again.
func (p publisher) publish(parent context.Context, n int) (*jetstream.PubAck, error) {
	first, deadline := time.Now(), p.deadline
	if deadline == 0 {
		deadline = messageDeadline
	}
	ctx, cancel := context.WithTimeout(parent, deadline)
	defer cancel()
	for attempt := 1; ; attempt++ {
		attemptCtx, cancelAttempt := context.WithTimeout(ctx, attemptTimeout)
		ack, err := p.js.Publish(attemptCtx, subject, []byte(message(n)), jetstream.WithMsgID(messageID(n)))
		cancelAttempt()
		switch {
		case err == nil:
			if attempt > 1 {
				fmt.Fprintf(p.log, "10-cluster publish: %s acknowledged on attempt %d, %s after the first\n", message(n), attempt, time.Since(first).Round(time.Millisecond))
			}
			return ack, nil
		case parent.Err() != nil: // Ctrl+C
			return nil, context.Cause(parent)
		case connect.Closed(err): // every node is gone, and reconnecting failed
			return nil, connect.ErrConnectionLost
		case !unanswered(err):
			return nil, fmt.Errorf("publish %s: %w", message(n), err)
		case ctx.Err() != nil:
			return nil, fmt.Errorf("%s was not acknowledged within %s: %w (are two of the three nodes running?)", message(n), deadline, err)
		}
		fmt.Fprintf(p.log, "10-cluster publish: %s not acknowledged (%v); sending it again with message ID %s\n", message(n), err, messageID(n))
		select {
		case <-ctx.Done():
		case <-time.After(retryPause):
		}
	}
}

// unanswered says whether err means that no PubAck came back: the message
// may be stored, or not, and sending it again with its ID is safe.
func unanswered(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) ||
		errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, nats.ErrNoResponders)
}

// publishRole publishes count messages (0: until Ctrl+C), interval apart,
// and prints each PubAck. Numbers go on from the stream's last sequence, so
// that a second run sends new messages, not repeats of the first run's IDs.
func publishRole(ctx context.Context, js jetstream.JetStream, stream jetstream.Stream, out, log io.Writer, count int, interval time.Duration) error {
	from := int(stream.CachedInfo().State.LastSeq) + 1
	if from > 1 {
		fmt.Fprintf(out, "%s already holds messages up to seq %d: this run starts at %s.\n", streamName, from-1, message(from))
	}
	p := publisher{js: js, log: log}
	acked := 0
	for n := from; count == 0 || n < from+count; n++ {
		ack, err := p.publish(ctx, n)
		if errors.Is(err, context.Canceled) {
			fmt.Fprintf(out, "Publisher stopped after %d acknowledged messages.\n", acked)
			return nil
		}
		if err != nil {
			return err
		}
		acked++
		duplicate := ""
		if ack.Duplicate {
			duplicate = ", a duplicate: an earlier attempt was stored"
		}
		fmt.Fprintf(out, "Published: %s (stream %s, seq %d%s)\n", message(n), ack.Stream, ack.Sequence, duplicate)
		if interval > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(interval):
			}
		}
	}
	fmt.Fprintf(out, "All %d messages acknowledged.\n", acked)
	return nil
}
