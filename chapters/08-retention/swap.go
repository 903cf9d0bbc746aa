package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/examplestream"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/recreate"
	"github.com/nats-io/nats.go/jetstream"
)

// show prints example_stream's retention and what it stores right now.
func show(ctx context.Context, js jetstream.JetStream, out io.Writer) error {
	stream, err := js.Stream(ctx, examplestream.Name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("stream %q does not exist (create it with \"go run ./chapters/03-stream\")", examplestream.Name)
	}
	if err != nil {
		return fmt.Errorf("look up stream %q: %w", examplestream.Name, err)
	}
	info := stream.CachedInfo()
	fmt.Fprintf(out, "%s: %s retention, %s stored, last sequence %d, %s\n", examplestream.Name,
		retentionName(info.Config.Retention), plural(int(info.State.Msgs), "message"), info.State.LastSeq,
		plural(info.State.Consumers, "consumer"))
	return nil
}

// swap replaces example_stream with one that differs only in its retention,
// as the seed's comment "LIMITS, INTEREST, or WORK_QUEUE" invites. The
// server cannot change retention to or from work queue in place. swap
// therefore always deletes the stream, with every message and consumer, and
// creates it again, even between limits and interest, where an update would
// work.
func swap(ctx context.Context, js jetstream.JetStream, out io.Writer, retention jetstream.RetentionPolicy) error {
	cfg := examplestream.Config()
	cfg.Retention = retention
	old, err := js.Stream(ctx, cfg.Name)
	switch {
	case errors.Is(err, jetstream.ErrStreamNotFound):
		fmt.Fprintf(out, "Stream %q does not exist yet; nothing to delete.\n", cfg.Name)
	case err != nil:
		return fmt.Errorf("look up stream %q: %w", cfg.Name, err)
	case old.CachedInfo().Config.Retention == retention:
		fmt.Fprintf(out, "Stream %q already has %s retention; nothing changed.\n", cfg.Name, retentionName(retention))
		return nil
	default:
		info := old.CachedInfo()
		if err := js.DeleteStream(ctx, cfg.Name); err != nil {
			return fmt.Errorf("delete stream %q: %w", cfg.Name, err)
		}
		fmt.Fprintf(out, "Deleted stream %q (%s retention) and with it %s and %s.\n", cfg.Name,
			retentionName(info.Config.Retention), plural(int(info.State.Msgs), "message"), plural(info.State.Consumers, "consumer"))
	}
	// recreate.Stream, not CreateStream: right after a delete, nats-server
	// 2.15.2 can bring the old stream back (chapter 13).
	if _, err := recreate.Stream(ctx, js, cfg); err != nil {
		return fmt.Errorf("create stream %q with %s retention: %w", cfg.Name, retentionName(retention), err)
	}
	fmt.Fprintf(out, "Created stream %q with %s retention, otherwise as chapter 03 configures it.\n", cfg.Name, retentionName(retention))
	switch retention {
	case jetstream.WorkQueuePolicy:
		fmt.Fprintln(out, "Now a message goes once a consumer acks it, and each subject may have only one consumer.")
	case jetstream.InterestPolicy:
		fmt.Fprintln(out, "Now a message is stored only for the consumers that exist, and goes once all of them acked it.")
	default:
		fmt.Fprintln(out, "Now messages stay until a limit removes them, as chapters 04 to 06 expect.")
	}
	return nil
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
