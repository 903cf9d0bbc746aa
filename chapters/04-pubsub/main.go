// Chapter 04 is publish-subscribe over a stream: publisher.py and
// subscriber.py in Go, with every subscriber getting every message.
//
//	go run ./chapters/04-pubsub                      the whole scenario, in one process
//	go run ./chapters/04-pubsub subscribe [-new]     one subscriber, until Ctrl+C
//	go run ./chapters/04-pubsub publish [-count 5]   five messages, one a second
package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/cli"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/connect"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/embedded"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/examplestream"
	"github.com/nats-io/nats.go/jetstream"
)

const usage = `usage: 04-pubsub [-server URL]                                    (the whole scenario)
       04-pubsub publish [-server URL] [-count N] [-interval D] [-subject S]
       04-pubsub subscribe [-server URL] [-subject S] [-new] [-count N]`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(cli.Exit("04-pubsub", run(ctx, os.Args[1:], os.Stdout)))
}

func run(ctx context.Context, args []string, stdout io.Writer) (err error) {
	role := "demo"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		role, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("04-pubsub "+role, flag.ContinueOnError)
	serverURL := fs.String("server", os.Getenv("NATS_URL"), "NATS server URL; empty starts an embedded server (default $NATS_URL)")
	subject := fs.String("subject", "my.subject.test", "subject to publish to, or to subscribe to (a filter within the stream)")
	count := fs.Int("count", 5, "messages to publish")
	interval := fs.Duration("interval", time.Second, "pause between publishes (the seed's asyncio.sleep(1))")
	onlyNew := fs.Bool("new", false, "receive only messages published from now on, instead of replaying the stream")
	switch role {
	case "demo", "publish":
	case "subscribe":
		*count = 0 // a subscriber runs until Ctrl+C unless -count says otherwise
		fs.Lookup("count").DefValue, fs.Lookup("count").Usage = "0", "stop after N messages (0: run until Ctrl+C)"
	default:
		return cli.Usagef(usage, "unknown role %q", role)
	}
	if err := cli.Parse(fs, usage, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return cli.Usagef(usage, "unexpected argument %q", fs.Arg(0))
	}
	if *count < 0 {
		return cli.Usagef(usage, "-count must not be negative")
	}

	url, stopServer, err := embedded.URLOrStart(*serverURL)
	if err != nil {
		return err
	}
	defer stopServer()
	ctx, closeOption := connect.CancelOnClose(ctx)
	nc, err := connect.To(url, "04-pubsub "+role, closeOption)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, connect.Drain(nc)) }()
	js, err := connect.JetStream(ctx, nc)
	if err != nil {
		return err
	}
	stream, err := examplestream.Ensure(ctx, js, stdout)
	if err != nil {
		return err
	}

	switch role {
	case "publish":
		return publish(ctx, js, stdout, *subject, *count, *interval)
	case "subscribe":
		deliver := jetstream.DeliverAllPolicy
		if *onlyNew {
			deliver = jetstream.DeliverNewPolicy
		}
		return subscriber(ctx, stream, stdout, *subject, deliver, *count)
	default:
		return demo(ctx, js, stream, stdout)
	}
}
