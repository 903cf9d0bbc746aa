// Chapter 03 creates the stream that chapters 04 to 08 use: stream.py in Go,
// with the configuration the seed meant.
//
//	go run ./chapters/03-stream [-server URL] [-max-age 9s] [-recreate]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/cli"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/connect"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/embedded"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/recreate"
	"github.com/nats-io/nats.go/jetstream"
)

const usage = "usage: 03-stream [-server URL] [-max-age DURATION] [-recreate]"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(cli.Exit("03-stream", run(ctx, os.Args[1:], os.Stdout)))
}

// docs:start config
// streamConfig is stream.py's StreamConfig, with max_age in the unit Go
// uses (a time.Duration) rather than the nanoseconds the seed thought it sent.
func streamConfig(maxAge time.Duration) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:      "example_stream",
		Subjects:  []string{"my.subject.*"}, // subjects the stream captures and stores
		Retention: jetstream.LimitsPolicy,   // keep messages until a limit removes them
		Storage:   jetstream.FileStorage,    // on disk, in the server's store directory
		MaxAge:    maxAge,                   // 9 * time.Second by default
		MaxMsgs:   1000,
		MaxBytes:  10 * 1024 * 1024, // 10 MiB of stored records, not of payload
	}
}

// docs:end config

func run(ctx context.Context, args []string, stdout io.Writer) (err error) {
	fs := flag.NewFlagSet("03-stream", flag.ContinueOnError)
	serverURL := fs.String("server", os.Getenv("NATS_URL"), "NATS server URL; empty starts an embedded server (default $NATS_URL)")
	maxAge := fs.Duration("max-age", 9*time.Second, "how long the stream keeps each message (at least 100ms)")
	deleteFirst := fs.Bool("recreate", false, "delete the stream first, as stream.py does: its messages and consumers are lost")
	if err := cli.Parse(fs, usage, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return cli.Usagef(usage, "unexpected argument %q", fs.Arg(0))
	}
	if *maxAge < 100*time.Millisecond {
		return cli.Usagef(usage, "-max-age %s is too short: JetStream needs at least 100ms", *maxAge)
	}

	url, stopServer, err := embedded.URLOrStart(*serverURL)
	if err != nil {
		return err
	}
	defer stopServer()
	nc, err := connect.To(url, "03-stream")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, connect.Drain(nc)) }()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	js, err := connect.JetStream(ctx, nc)
	if err != nil {
		return err
	}

	cfg := streamConfig(*maxAge)
	if *deleteFirst {
		if err := deleteStream(ctx, stdout, js, cfg.Name); err != nil {
			return err
		}
		// Not createOrUpdate: right after a delete, nats-server 2.15.2 can
		// bring the old stream back, which recreate.Stream undoes (chapter 13).
		stream, err := recreate.Stream(ctx, js, cfg)
		if err != nil {
			return fmt.Errorf("create stream %q: %w", cfg.Name, err)
		}
		fmt.Fprintf(stdout, "Stream %q created.\n", cfg.Name)
		return printStream(ctx, stdout, stream)
	}
	stream, err := createOrUpdate(ctx, stdout, js, cfg)
	if err != nil {
		return err
	}
	return printStream(ctx, stdout, stream)
}

// docs:start create
// createOrUpdate creates the stream, or updates an existing one in place,
// which keeps its stored messages and its consumers. Create alone would
// already be idempotent for an identical configuration; looking first lets
// us say which of the two happened.
func createOrUpdate(ctx context.Context, stdout io.Writer, js jetstream.JetStream, cfg jetstream.StreamConfig) (jetstream.Stream, error) {
	existing, err := js.Stream(ctx, cfg.Name)
	switch {
	case errors.Is(err, jetstream.ErrStreamNotFound):
		stream, err := js.CreateStream(ctx, cfg)
		if err != nil {
			return nil, fmt.Errorf("create stream %q: %w", cfg.Name, err)
		}
		fmt.Fprintf(stdout, "Stream %q created.\n", cfg.Name)
		return stream, nil
	case err != nil:
		return nil, fmt.Errorf("look up stream %q: %w", cfg.Name, err)
	}
	kept := existing.CachedInfo().State.Msgs
	stream, err := js.UpdateStream(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("update stream %q: %w (some settings, such as storage, cannot change: rerun with -recreate, which deletes its messages)", cfg.Name, err)
	}
	fmt.Fprintf(stdout, "Stream %q already exists: configuration updated, %d stored messages kept.\n", cfg.Name, kept)
	return stream, nil
}

// docs:end create

// docs:start recreate
// deleteStream is what stream.py does on every run. It is here to show the
// cost: deleting a stream deletes its messages and all of its consumers.
func deleteStream(ctx context.Context, stdout io.Writer, js jetstream.JetStream, name string) error {
	stream, err := js.Stream(ctx, name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		fmt.Fprintf(stdout, "Stream %q does not exist yet; nothing to delete.\n", name)
		return nil
	}
	if err != nil {
		// Not "does not exist": stream.py's bare except would hide this.
		return fmt.Errorf("look up stream %q: %w", name, err)
	}
	state := stream.CachedInfo().State
	if err := js.DeleteStream(ctx, name); err != nil {
		return fmt.Errorf("delete stream %q: %w", name, err)
	}
	fmt.Fprintf(stdout, "Deleted stream %q and with it %s and %s (-recreate).\n",
		name, plural(int(state.Msgs), "message"), plural(state.Consumers, "consumer"))
	return nil
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// docs:end recreate

// docs:start print
func printStream(ctx context.Context, stdout io.Writer, stream jetstream.Stream) error {
	info, err := stream.Info(ctx)
	if err != nil {
		return fmt.Errorf("read stream info: %w", err)
	}
	cfg, state := info.Config, info.State
	fmt.Fprintln(stdout, "Configuration:")
	fmt.Fprintf(stdout, "  subjects:  %s\n", strings.Join(cfg.Subjects, ", "))
	fmt.Fprintf(stdout, "  retention: %s\n", cfg.Retention)
	fmt.Fprintf(stdout, "  storage:   %s\n", cfg.Storage)
	fmt.Fprintf(stdout, "  max age:   %s\n", cfg.MaxAge)
	fmt.Fprintf(stdout, "  max msgs:  %d\n", cfg.MaxMsgs)
	fmt.Fprintf(stdout, "  max bytes: %d (%d MiB)\n", cfg.MaxBytes, cfg.MaxBytes>>20)
	fmt.Fprintf(stdout, "  discard:   %s\n", cfg.Discard)
	fmt.Fprintf(stdout, "  replicas:  %d\n", cfg.Replicas)
	fmt.Fprintln(stdout, "State:")
	fmt.Fprintf(stdout, "  messages:  %d\n", state.Msgs)
	fmt.Fprintf(stdout, "  bytes:     %d\n", state.Bytes)
	fmt.Fprintf(stdout, "  sequences: %d to %d\n", state.FirstSeq, state.LastSeq)
	fmt.Fprintf(stdout, "  consumers: %d\n", state.Consumers)
	return nil
}

// docs:end print
