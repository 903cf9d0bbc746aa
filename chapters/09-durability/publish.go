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

// docs:start publish
const (
	attemptTimeout = 2 * time.Second // one publish waits this long for its PubAck...
	maxAttempts    = 5               // ...and is sent this many times before the publisher gives up
)

// message and messageID name the publisher's message number n. The ID is
// what lets the stream recognise a repeat of the same message.
func message(n int) string   { return fmt.Sprintf("Message %d", n) }
func messageID(n int) string { return fmt.Sprintf("message-%d", n) }

// A publisher publishes Message 1, 2, ... to file.messages and prints every
// PubAck. A publish that gets no answer may or may not have been stored, so
// it is sent again with the same message ID: if the first attempt was stored
// after all, the stream answers "duplicate" instead of storing it twice.
type publisher struct {
	js       jetstream.JetStream
	out, log io.Writer     // PubAcks; retries
	timeout  time.Duration // how long one attempt waits for its PubAck
	attempts int           // how many times a message is sent before giving up
	interval time.Duration // pause between messages
}

// publish publishes message n until it is acknowledged, and returns its PubAck.
func (p publisher) publish(ctx context.Context, n int) (*jetstream.PubAck, error) {
	var err error
	for attempt := 1; attempt <= p.attempts; attempt++ {
		attemptCtx, cancel := context.WithTimeout(ctx, p.timeout)
		var ack *jetstream.PubAck
		ack, err = p.js.Publish(attemptCtx, messagesSubject, []byte(message(n)), jetstream.WithMsgID(messageID(n)))
		cancel()
		if err == nil {
			return ack, nil
		}
		if ctx.Err() != nil || !unanswered(err) {
			break
		}
		fmt.Fprintf(p.log, "09-durability publish: %s was not acknowledged (%v); sending it again with the same message ID %q\n", message(n), err, messageID(n))
	}
	switch {
	case ctx.Err() != nil:
		return nil, context.Cause(ctx)
	case connect.Closed(err): // reconnecting failed; ctx may not know yet
		return nil, connect.ErrConnectionLost
	}
	return nil, err
}

// unanswered says whether err means that no PubAck came back: the server
// may have stored the message, or not.
func unanswered(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) ||
		errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, nats.ErrNoResponders)
}

// run publishes count messages from number from on (count 0: until ctx ends).
func (p publisher) run(ctx context.Context, stream jetstream.Stream, from, count int) error {
	window := stream.CachedInfo().Config.Duplicates
	fmt.Fprintf(p.out, "Publishing to %s from %s on, each with a message ID. Press Ctrl+C to stop.\n", messagesSubject, message(from))
	acked := 0
	for n := from; count == 0 || n < from+count; n++ {
		ack, err := p.publish(ctx, n)
		if errors.Is(err, context.Canceled) { // Ctrl+C
			fmt.Fprintf(p.out, "Publisher stopped after %d acknowledged messages. To go on: publish -from %d.\n", acked, n)
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s was not acknowledged: %w. It may or may not be stored: publish -from %d within the stream's %s duplicates window sends it again, and a stored copy is not stored twice", message(n), err, n, window)
		}
		acked++
		duplicate := ""
		if ack.Duplicate {
			duplicate = ", duplicate: already stored"
		}
		fmt.Fprintf(p.out, "Acknowledged: %s (seq %d%s)\n", message(n), ack.Sequence, duplicate)
		if p.interval > 0 && (count == 0 || n+1 < from+count) {
			select {
			case <-ctx.Done():
			case <-time.After(p.interval):
			}
		}
	}
	return nil
}

// docs:end publish
