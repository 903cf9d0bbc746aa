// Package examplestream is the stream that chapter 03 creates, for the
// chapters after it: they make sure it exists, and leave it as it is if it does.
package examplestream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Name is the stream's name, as in the seed.
const Name = "example_stream"

// Config is chapter 03's configuration with its default max age; a test in
// chapter 03 keeps the two equal.
func Config() jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:      Name,
		Subjects:  []string{"my.subject.*"},
		Retention: jetstream.LimitsPolicy,
		Storage:   jetstream.FileStorage,
		MaxAge:    9 * time.Second,
		MaxMsgs:   1000,
		MaxBytes:  10 * 1024 * 1024,
	}
}

// Ensure returns the stream, creating it with Config if it does not exist.
// An existing stream is used as it is: the reader may have created it with
// other settings on purpose (chapter 03's -max-age, say). A line on out
// says when the stream had to be created.
func Ensure(ctx context.Context, js jetstream.JetStream, out io.Writer) (jetstream.Stream, error) {
	stream, err := js.Stream(ctx, Name)
	if err == nil {
		return stream, nil
	}
	if !errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, fmt.Errorf("look up stream %q: %w", Name, err)
	}
	stream, err = js.CreateStream(ctx, Config())
	if err != nil {
		return nil, fmt.Errorf("create stream %q: %w", Name, err)
	}
	fmt.Fprintf(out, "Created stream %q as chapter 03 does (it did not exist yet).\n", Name)
	return stream, nil
}
