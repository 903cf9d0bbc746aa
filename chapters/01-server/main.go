// Chapter 01 runs a NATS server with JetStream: the Go counterpart of
// downloading nats-server and running "nats-server -js".
//
//	go run ./chapters/01-server [-host 127.0.0.1] [-port 4222] [-store ./jetstream-store]
//	go run ./chapters/01-server -name n1 -cluster 127.0.0.1:6222 -routes nats://127.0.0.1:6222,...   one node of a cluster (chapter 10)
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

const usage = "usage: 01-server [-host HOST] [-port PORT] [-store DIR] [-name NAME -cluster HOST:PORT -routes URL,URL,...]"

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
	name := fs.String("name", "tutorial", "server name; each node of a cluster needs its own")
	clusterListen := fs.String("cluster", "", "listen for the other nodes of cluster \""+clusterName+"\" at HOST:PORT (with -routes)")
	routes := fs.String("routes", "", "the cluster ports of all the nodes, this one included: nats://HOST:PORT,... (with -cluster)")
	if err := cli.Parse(fs, usage, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return cli.Usagef(usage, "unexpected argument %q", fs.Arg(0))
	}
	nameSet := false
	fs.Visit(func(f *flag.Flag) { nameSet = nameSet || f.Name == "name" })
	clusterOpts, routeURLs, err := clusterOptions(*name, nameSet, *clusterListen, *routes)
	if err != nil {
		return err
	}
	storeDir, err := filepath.Abs(*store)
	if err != nil {
		return fmt.Errorf("resolve -store %q: %w", *store, err)
	}

	opts := &server.Options{
		ServerName: *name, // unique in a cluster
		Host:       *host,
		Port:       *port,
		JetStream:  true,     // the -js flag
		StoreDir:   storeDir, // the -sd flag; empty would mean $TMPDIR/nats/jetstream
		NoSigs:     true,     // we handle Ctrl+C ourselves, below
		Cluster:    clusterOpts,
		Routes:     routeURLs,
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return fmt.Errorf("configure the server: %w", err)
	}
	duplicates := make(duplicateNames, 1)
	if routeURLs != nil {
		s.SetLogger(duplicates, false, false)
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
	if routeURLs != nil {
		fmt.Fprintf(stdout, "  cluster:    node %s of %q, routes on %s; JetStream answers once most nodes run\n", *name, clusterName, s.ClusterAddr())
	}
	fmt.Fprintf(stdout, "In another terminal, point the other chapters at it:\n")
	fmt.Fprintf(stdout, "  export NATS_URL=%s\n", s.ClientURL())
	fmt.Fprintf(stdout, "Press Ctrl+C to stop.\n")

	select {
	case <-ctx.Done():
	case msg := <-duplicates:
		s.Shutdown()
		return fmt.Errorf("another node of cluster %q is named %s too, so no node can lead: give each its own -name (%s)", clusterName, *name, msg)
	}
	fmt.Fprintln(stdout, "Shutting down: clients are disconnected and the store is flushed.")
	s.Shutdown() // blocks until every client is closed and every stream is flushed
	fmt.Fprintf(stdout, "Stopped. Start again with the same -store to keep every stored message.\n")
	return nil
}
