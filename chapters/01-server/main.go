// Chapter 01 runs a NATS server with JetStream: the Go counterpart of
// downloading nats-server and running "nats-server -js".
//
//	go run ./chapters/01-server [-host 127.0.0.1] [-port 4222] [-store ./jetstream-store]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/cli"
	"github.com/nats-io/nats-server/v2/server"
)

const usage = "usage: 01-server [-host HOST] [-port PORT] [-store DIR]"

func main() {
	// Ctrl+C or SIGTERM cancels ctx; the server then shuts down cleanly.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(cli.Exit("01-server", run(ctx, os.Args[1:], os.Stdout)))
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("01-server", flag.ContinueOnError)
	host := fs.String("host", "127.0.0.1", "address to listen on (0.0.0.0 exposes the server to your network)")
	port := fs.Int("port", 4222, "client port (-1 picks a free one)")
	store := fs.String("store", "jetstream-store", "directory where JetStream keeps streams across restarts")
	if err := cli.Parse(fs, usage, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return cli.Usagef(usage, "unexpected argument %q", fs.Arg(0))
	}
	storeDir, err := filepath.Abs(*store)
	if err != nil {
		return fmt.Errorf("resolve -store %q: %w", *store, err)
	}

	opts := &server.Options{
		ServerName: "tutorial",
		Host:       *host,
		Port:       *port,
		JetStream:  true,     // the -js flag
		StoreDir:   storeDir, // the -sd flag; empty would mean $TMPDIR/nats/jetstream
		NoSigs:     true,     // we handle Ctrl+C ourselves, below
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return fmt.Errorf("configure the server: %w", err)
	}

	// Start returns once the listener is set up; ReadyForConnections confirms
	// the port is really open (it stays false if, say, the port is taken).
	s.Start()
	if !s.ReadyForConnections(2 * time.Second) {
		s.Shutdown()
		return fmt.Errorf("cannot listen on %s:%d: is another server using that port? (stop it, or choose another with -port)", *host, *port)
	}

	fmt.Fprintf(stdout, "NATS server %s with JetStream is ready.\n", server.VERSION)
	fmt.Fprintf(stdout, "  client URL: %s\n", s.ClientURL())
	fmt.Fprintf(stdout, "  store dir:  %s\n", s.JetStreamConfig().StoreDir)
	fmt.Fprintf(stdout, "In another terminal, point the other chapters at it:\n")
	fmt.Fprintf(stdout, "  export NATS_URL=%s\n", s.ClientURL())
	fmt.Fprintf(stdout, "Press Ctrl+C to stop.\n")

	<-ctx.Done()
	fmt.Fprintln(stdout, "Shutting down: clients are disconnected and the store is flushed.")
	s.Shutdown() // blocks until every client is closed and every stream is flushed
	fmt.Fprintf(stdout, "Stopped. Start again with the same -store to keep every stored message.\n")
	return nil
}
