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
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
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

// docs:start publish
// publish sends count messages with a JetStream publish: each call waits for
// the stream's acknowledgement (PubAck), which says where the message is stored.
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
				return ctx.Err()
			case <-time.After(interval):
			}
		}
	}
	return nil
}

// docs:end publish

// docs:start subscribe
// subscribe gives one subscriber its own consumer: the stream's cursor for
// that reader. Every consumer sees every message of its filter, which is
// what makes this publish-subscribe rather than a work queue.
func subscribe(ctx context.Context, stream jetstream.Stream, filter string, deliver jetstream.DeliverPolicy) (jetstream.Consumer, error) {
	cons, err := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{
		FilterSubject:     filter,                      // my.subject.test: not the requests of chapter 05
		DeliverPolicy:     deliver,                     // DeliverAll replays what is stored; DeliverNew does not
		AckPolicy:         jetstream.AckExplicitPolicy, // each message must be acked, or it comes back
		InactiveThreshold: 10 * time.Second,            // no Durable: ephemeral, removed about 10 s after its reader goes
	})
	if err != nil {
		return nil, fmt.Errorf("create a consumer on %q: %w", filter, err)
	}
	return cons, nil
}

// docs:end subscribe

// docs:start receive
// receive prints and acks messages as they arrive, until it has limit of
// them (0: no limit) or ctx ends.
func receive(ctx context.Context, cons jetstream.Consumer, out io.Writer, prefix string, limit int) error {
	var opts []jetstream.PullMessagesOpt
	if limit > 0 {
		// Ask the server for no more than we will ack: a message pulled and
		// left unacked would wait out AckWait before anyone got it again.
		opts = append(opts, jetstream.StopAfter(limit))
	}
	msgs, err := cons.Messages(opts...)
	if err != nil {
		return fmt.Errorf("start receiving: %w", err)
	}
	defer msgs.Stop()
	for received := 0; limit == 0 || received < limit; received++ {
		msg, err := msgs.Next(jetstream.NextContext(ctx))
		if err != nil {
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			if connect.Closed(err) {
				return connect.ErrConnectionLost // reconnecting failed, maybe before ctx heard of it
			}
			return fmt.Errorf("receive: %w", err)
		}
		meta, err := msg.Metadata()
		if err != nil {
			return fmt.Errorf("read message metadata: %w", err)
		}
		fmt.Fprintf(out, "%sReceived a message on '%s': %s (seq %d)\n", prefix, msg.Subject(), msg.Data(), meta.Sequence.Stream)
		if err := msg.Ack(); err != nil {
			return fmt.Errorf("ack message %d: %w", meta.Sequence.Stream, err)
		}
	}
	return nil
}

// docs:end receive

// subscriber is the subscribe role: one consumer, messages until Ctrl+C.
func subscriber(ctx context.Context, stream jetstream.Stream, out io.Writer, filter string, deliver jetstream.DeliverPolicy, limit int) error {
	cons, err := subscribe(ctx, stream, filter, deliver)
	if err != nil {
		return err
	}
	from := "replaying stored messages first"
	if deliver == jetstream.DeliverNewPolicy {
		from = "new messages only"
	}
	fmt.Fprintf(out, "Subscriber is listening on '%s' (%s). Press Ctrl+C to exit.\n", filter, from)
	err = receive(ctx, cons, out, "", limit)
	if errors.Is(err, context.Canceled) {
		fmt.Fprintln(out, "Subscriber stopped.")
		return nil
	}
	return err
}

// docs:start demo
// demo runs the seed's scenario in one process: three subscribers, each with
// its own consumer, then one publisher, then a subscriber that starts late.
func demo(ctx context.Context, js jetstream.JetStream, stream jetstream.Stream, out io.Writer) error {
	const subscribers, messages, subject = 3, 5, "my.subject.test"
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	logs := make([]strings.Builder, subscribers) // one log each, printed in order below
	errs := make([]error, subscribers)
	var wg sync.WaitGroup
	for i := range subscribers {
		cons, err := subscribe(ctx, stream, subject, jetstream.DeliverAllPolicy)
		if err != nil {
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = receive(ctx, cons, &logs[i], fmt.Sprintf("[subscriber %d] ", i+1), messages)
		}()
	}
	fmt.Fprintf(out, "%d subscribers are listening on '%s', each with its own consumer.\n", subscribers, subject)

	if err := publish(ctx, js, out, subject, messages, 0); err != nil {
		cancel() // the subscribers would wait forever for the missing messages
		wg.Wait()
		return err
	}
	wg.Wait()
	for i := range logs {
		fmt.Fprint(out, logs[i].String())
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}

	fmt.Fprintln(out, "A subscriber started after the publisher finished still gets everything:")
	late, err := subscribe(ctx, stream, subject, jetstream.DeliverAllPolicy)
	if err != nil {
		return err
	}
	return receive(ctx, late, out, "[late subscriber] ", messages)
}

// docs:end demo
