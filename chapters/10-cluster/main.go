// Chapter 10 is a cluster: three nodes, a stream with three replicas, and a
// node that stops while a publisher and a consumer go on.
//
//	go run ./chapters/10-cluster                                  the whole scenario, on 3 nodes in this process
//	go run ./chapters/10-cluster publish [-count N] [-interval D]  publish through the loss of a node
//	go run ./chapters/10-cluster consume [-count N]                consume through it
//	go run ./chapters/10-cluster verify [-acked FILE]              check ORDERS against what the publisher saw acknowledged
//
// The roles use the cluster whose URLs NATS_URL lists, separated by commas.
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
)

const usage = `usage: 10-cluster                                            (the whole scenario, on 3 nodes of its own)
       10-cluster publish [-server URLS] [-count N] [-interval D]
       10-cluster consume [-server URLS] [-count N]
       10-cluster verify [-server URLS] [-acked FILE]`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(cli.Exit("10-cluster", run(ctx, os.Args[1:], os.Stdout, os.Stderr)))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	role := "demo"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		role, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("10-cluster "+role, flag.ContinueOnError)
	var (
		serverURL string
		count     *int
		interval  *time.Duration
		ackedFile *string
	)
	switch role {
	case "demo":
	case "publish", "consume", "verify":
		fs.StringVar(&serverURL, "server", os.Getenv("NATS_URL"), "the cluster's URLs, separated by commas; empty starts 3 nodes in this process (default $NATS_URL)")
		switch role {
		case "publish":
			count = fs.Int("count", 0, "messages to publish (0: until Ctrl+C)")
			interval = fs.Duration("interval", 100*time.Millisecond, "pause between messages")
		case "consume":
			count = fs.Int("count", 0, "stop after N different messages (0: run until Ctrl+C)")
		default:
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
	case interval != nil && *interval < 0:
		return cli.Usagef(usage, "-interval must not be negative")
	}

	if role == "demo" {
		if os.Getenv("NATS_URL") != "" {
			fmt.Fprintln(stderr, "10-cluster: the demo stops and restarts nodes, so it starts its own; NATS_URL is for the publish, consume and verify roles")
		}
		return demo(ctx, stdout, stderr)
	}

	urls := serverURL
	if urls == "" {
		c, stopCluster, err := ownCluster(ctx, stderr)
		if err != nil {
			return err
		}
		defer stopCluster()
		urls = c.urls()
	}
	ctx, closeOption := connect.CancelOnClose(ctx)
	nc, err := connect.To(urls, "10-cluster "+role, closeOption)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, connect.Drain(nc)) }()
	js, err := clusterJetStream(ctx, nc, stderr)
	if err != nil {
		return err
	}
	stream, err := ensureStream(ctx, js, stdout, stderr)
	if err != nil {
		return err
	}
	switch role {
	case "publish":
		return publishRole(ctx, js, stream, stdout, stderr, *count, *interval)
	case "consume":
		cons, err := ensureConsumer(ctx, stream, stderr)
		if err != nil {
			return err
		}
		return consumeRole(ctx, cons, stdout, stderr, *count)
	default:
		return verify(ctx, stream, stdout, *ackedFile)
	}
}

// ownCluster starts three nodes in this process for a role that was given
// no URLs, as every chapter starts an embedded server when NATS_URL is unset.
func ownCluster(ctx context.Context, stderr io.Writer) (*cluster, func(), error) {
	dir, err := os.MkdirTemp("", "10-cluster-*")
	if err != nil {
		return nil, nil, fmt.Errorf("create a directory for the nodes' stores: %w", err)
	}
	remove := func() {
		if err := os.RemoveAll(dir); err != nil {
			fmt.Fprintf(stderr, "10-cluster: warning: could not remove %s: %v\n", dir, err)
		}
	}
	c, err := startCluster(dir)
	if err != nil {
		remove()
		return nil, nil, err
	}
	stop := func() { c.shutdown(); remove() }
	if _, err := c.waitReady(ctx); err != nil {
		stop()
		return nil, nil, err
	}
	fmt.Fprintln(stderr, "10-cluster: NATS_URL is unset, so this runs on 3 nodes of its own, gone when it exits")
	return c, stop, nil
}
