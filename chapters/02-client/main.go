// Chapter 02 connects a Go client to NATS and asks JetStream about the
// account: the counterpart of "pip install nats-py" and a first connection.
//
//	go run ./chapters/02-client [-server URL]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/cli"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/connect"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/embedded"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

const usage = "usage: 02-client [-server URL]"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(cli.Exit("02-client", run(ctx, os.Args[1:], os.Stdout)))
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("02-client", flag.ContinueOnError)
	serverURL := fs.String("server", os.Getenv("NATS_URL"), "NATS server URL; empty starts an embedded server (default $NATS_URL)")
	if err := cli.Parse(fs, usage, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return cli.Usagef(usage, "unexpected argument %q", fs.Arg(0))
	}

	// With no URL, start a throwaway server in this process (chapter 01 shows how).
	url, stopServer, err := embedded.URLOrStart(*serverURL)
	if err != nil {
		return err
	}
	defer stopServer()

	nc, err := nats.Connect(url,
		nats.Name("02-client"),                   // shows up in the server's connection list
		nats.Timeout(2*time.Second),              // the dial timeout: nats.go's default, written out
		nats.MaxReconnects(10),                   // a lost connection is retried 10 times ...
		nats.ReconnectWait(500*time.Millisecond), // ... 500 ms apart, about 5 s (default: 60 × 2 s)
	)
	if errors.Is(err, nats.ErrNoServers) { // what nats.go returns for "connection refused"
		return fmt.Errorf("cannot connect to %s: no NATS server is listening there (%s)", url, connect.Hint)
	}
	if err != nil {
		return fmt.Errorf("cannot connect to %s: %w (%s)", url, err, connect.Hint)
	}
	defer nc.Close()
	fmt.Fprintf(stdout, "Connected to server %q running nats-server %s.\n",
		nc.ConnectedServerName(), nc.ConnectedServerVersion())

	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("create a JetStream context: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	info, err := js.AccountInfo(ctx)
	if errors.Is(err, jetstream.ErrJetStreamNotEnabled) {
		return fmt.Errorf("JetStream is not enabled on %s (restart the server with -js, or use \"go run ./chapters/01-server\")", url)
	}
	if err != nil {
		return fmt.Errorf("ask JetStream for account info: %w", err)
	}

	fmt.Fprintln(stdout, "JetStream is enabled for this account.")
	fmt.Fprintln(stdout, "Limits:")
	fmt.Fprintf(stdout, "  memory:    %s\n", limit(info.Limits.MaxMemory, bytes))
	fmt.Fprintf(stdout, "  storage:   %s\n", limit(info.Limits.MaxStore, bytes))
	fmt.Fprintf(stdout, "  streams:   %s\n", limit(int64(info.Limits.MaxStreams), count))
	fmt.Fprintf(stdout, "  consumers: %s\n", limit(int64(info.Limits.MaxConsumers), count))
	fmt.Fprintln(stdout, "Usage:")
	fmt.Fprintf(stdout, "  memory:    %s\n", bytes(int64(info.Memory)))
	fmt.Fprintf(stdout, "  storage:   %s\n", bytes(int64(info.Store)))
	fmt.Fprintf(stdout, "  streams:   %d\n", info.Streams)
	fmt.Fprintf(stdout, "  consumers: %d\n", info.Consumers)
	return nil
}

// limit prints a JetStream account limit, where -1 means "no limit".
func limit(v int64, format func(int64) string) string {
	if v < 0 {
		return "unlimited"
	}
	return format(v)
}

func count(n int64) string { return fmt.Sprint(n) }

func bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
