// Chapter 09 is durability and acknowledgements: what the seed's
// "내구성 있는 메시징" (durable messaging) and "확인 응답을 통한 향상된 발행"
// (publishing with acknowledgements) promise, shown and tested.
//
//	go run ./chapters/09-durability                          the whole scenario, on an embedded server it restarts
//	go run ./chapters/09-durability publish [-count 0]        publish to file_stream, printing every PubAck, until Ctrl+C
//	go run ./chapters/09-durability verify [-acked FILE]      check file_stream against what the publisher saw acknowledged
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
	"github.com/nats-io/nats.go/jetstream"
)

const usage = `usage: 09-durability                                              (the whole scenario, on its own embedded server)
       09-durability publish [-server URL] [-count N] [-from K] [-interval D]
       09-durability verify [-server URL] [-acked FILE]`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(cli.Exit("09-durability", run(ctx, os.Args[1:], os.Stdout)))
}

func run(ctx context.Context, args []string, stdout io.Writer) (err error) {
	role := "demo"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		role, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("09-durability "+role, flag.ContinueOnError)
	var (
		serverURL   string
		count, from *int
		interval    *time.Duration
		ackedFile   *string
	)
	switch role {
	case "demo":
	case "publish", "verify":
		fs.StringVar(&serverURL, "server", os.Getenv("NATS_URL"), "NATS server URL; empty starts an embedded server (default $NATS_URL)")
		if role == "publish" {
			count = fs.Int("count", 0, "messages to publish (0: until Ctrl+C)")
			from = fs.Int("from", 1, "number of the first message; its message ID is message-K, so a repeat is recognised")
			interval = fs.Duration("interval", 0, "pause between publishes")
		} else {
			ackedFile = fs.String("acked", "", "the publish role's output: check that every message it saw acknowledged is stored")
		}
	default:
		return cli.Usagef(usage, "unknown role %q", role)
	}
	if err := cli.Parse(fs, usage, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return cli.Usagef(usage, "unexpected argument %q", fs.Arg(0))
	}
	switch {
	case count != nil && *count < 0:
		return cli.Usagef(usage, "-count must not be negative")
	case from != nil && *from < 1:
		return cli.Usagef(usage, "-from must be at least 1")
	case interval != nil && *interval < 0:
		return cli.Usagef(usage, "-interval must not be negative")
	}

	if role == "demo" {
		if os.Getenv("NATS_URL") != "" {
			fmt.Fprintln(os.Stderr, "09-durability: the demo restarts its server, so it starts its own embedded one; NATS_URL is for the publish and verify roles")
		}
		return demo(ctx, stdout)
	}

	url, stopServer, err := embedded.URLOrStart(serverURL)
	if err != nil {
		return err
	}
	defer stopServer()
	if serverURL == "" && role == "verify" {
		fmt.Fprintln(os.Stderr, "09-durability: verify started an empty embedded server; set NATS_URL or -server to check a real one")
	}
	ctx, closeOption := connect.CancelOnClose(ctx)
	nc, err := connect.To(url, "09-durability "+role, closeOption)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, connect.Drain(nc)) }()
	js, err := connect.JetStream(ctx, nc)
	if err != nil {
		return err
	}
	stream, err := ensureStream(ctx, js, fileConfig, stdout)
	if err != nil {
		return err
	}
	if role == "publish" {
		p := publisher{js: js, out: stdout, log: os.Stderr, timeout: attemptTimeout, attempts: maxAttempts, interval: *interval}
		return p.run(ctx, stream, *from, *count)
	}
	return verify(ctx, stream, stdout, *ackedFile)
}

// ensureStream returns the stream named in cfg, creating it if it does not
// exist. An existing stream is used as it is.
func ensureStream(ctx context.Context, js jetstream.JetStream, cfg jetstream.StreamConfig, out io.Writer) (jetstream.Stream, error) {
	stream, err := js.Stream(ctx, cfg.Name)
	if err == nil {
		return stream, nil
	}
	if !errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, fmt.Errorf("look up stream %q: %w", cfg.Name, err)
	}
	stream, err = js.CreateStream(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("create stream %q: %w", cfg.Name, err)
	}
	fmt.Fprintf(out, "Created stream %q (%s storage, subjects %s).\n", cfg.Name, storageName(cfg.Storage), strings.Join(cfg.Subjects, ", "))
	return stream, nil
}

func storageName(storage jetstream.StorageType) string {
	if storage == jetstream.MemoryStorage {
		return "memory"
	}
	return "file"
}
