package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// publish sends count tasks with a JetStream publish, as chapter 04 does:
// each call returns once the stream has stored the task (its PubAck).
func publish(ctx context.Context, js jetstream.JetStream, out io.Writer, subject string, count int, interval time.Duration) error {
	for i := 1; i <= count; i++ {
		message := fmt.Sprintf("Message %d", i)
		pubCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		ack, err := js.Publish(pubCtx, subject, []byte(message))
		cancel()
		if errors.Is(err, jetstream.ErrNoStreamResponse) {
			return fmt.Errorf("publish to %s: no stream captures this subject (example_stream takes my.subject.*)", subject)
		}
		if err != nil {
			return fmt.Errorf("publish %q to %s: %w", message, subject, err)
		}
		fmt.Fprintf(out, "Published: %s (stream %s, seq %d)\n", message, ack.Stream, ack.Sequence)
		if i < count && interval > 0 {
			select {
			case <-ctx.Done():
				return context.Cause(ctx)
			case <-time.After(interval):
			}
		}
	}
	return nil
}
