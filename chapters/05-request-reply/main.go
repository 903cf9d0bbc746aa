// Chapter 05 is request-reply (요청자 requester, 응답자 replier): the seed's
// requester.py and replier.py in Go, with the request stored in
// example_stream and answered to a reply-to header, and then core NATS
// request-reply, which needs no stream at all.
//
//	go run ./chapters/05-request-reply                            both patterns, in one process
//	go run ./chapters/05-request-reply reply [-name replier-1]    a replier, until Ctrl+C
//	go run ./chapters/05-request-reply request [-expect 1]        one request, then its responses
//	add -core to both roles for core NATS request-reply (nc.Request, msg.Respond)
package main

import (
	"context"
	"errors"
	"flag"
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
)

const usage = `usage: 05-request-reply [-server URL]                                          (both patterns)
       05-request-reply reply [-server URL] [-name NAME] [-fanout] [-fail-first N] [-count N] [-subject S]
       05-request-reply reply -core [-server URL] [-name NAME] [-count N] [-subject S]
       05-request-reply request [-server URL] [-expect N] [-timeout D] [-message M] [-subject S]
       05-request-reply request -core [-server URL] [-timeout D] [-message M] [-subject S]`

const (
	helloRequest   = "Hello, Consumers!" // the seed's request
	defaultTimeout = 5 * time.Second     // how long a requester waits: the seed's 5 s
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(cli.Exit("05-request-reply", run(ctx, os.Args[1:], os.Stdout)))
}

func run(ctx context.Context, args []string, stdout io.Writer) (err error) {
	role := "demo"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		role, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("05-request-reply "+role, flag.ContinueOnError)
	serverURL := fs.String("server", os.Getenv("NATS_URL"), "NATS server URL; empty starts an embedded server (default $NATS_URL)")
	var (
		core             bool
		subject, name    string
		message          string
		fanout           bool
		failFirst, count int
		expect           = 1
		timeout          = defaultTimeout
	)
	switch role {
	case "demo":
	case "reply", "request":
		fs.BoolVar(&core, "core", false, "core NATS request-reply on a subject no stream captures, instead of the seed's pattern")
		fs.StringVar(&subject, "subject", "", "request subject (default "+requestSubject+", or "+serviceSubject+" with -core)")
		if role == "reply" {
			fs.StringVar(&name, "name", "replier-1", "this replier's name, printed in its responses (and its consumer's name with -fanout)")
			fs.BoolVar(&fanout, "fanout", false, "give this replier a durable consumer of its own, so that every replier answers every request")
			fs.IntVar(&failFirst, "fail-first", 0, "simulate a transient failure: Nak the first N deliveries of each request")
			fs.IntVar(&count, "count", 0, "stop after N deliveries, redeliveries included (0: run until Ctrl+C)")
		} else {
			fs.IntVar(&expect, "expect", 1, "responses to wait for (the seed's expected_responses)")
			fs.DurationVar(&timeout, "timeout", defaultTimeout, "how long to wait for the responses")
			fs.StringVar(&message, "message", helloRequest, "the request to send")
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
	case count < 0, failFirst < 0:
		return cli.Usagef(usage, "-count and -fail-first must not be negative")
	case expect < 1:
		return cli.Usagef(usage, "-expect must be at least 1")
	case timeout <= 0:
		return cli.Usagef(usage, "-timeout must be positive")
	case core && fanout:
		return cli.Usagef(usage, "-fanout needs the stream pattern: core repliers share the queue group %q", queueGroup)
	case core && failFirst > 0:
		return cli.Usagef(usage, "-fail-first needs the stream pattern: core NATS has no redelivery to retry with")
	case core && expect > 1:
		return cli.Usagef(usage, "-expect needs the stream pattern: nc.Request returns the first response only")
	case fanout && strings.ContainsAny(name, ".*> \t/\\"):
		return cli.Usagef(usage, "-name %q cannot name a consumer: leave out '.', '*', '>', spaces and slashes", name)
	}
	if subject == "" {
		subject = requestSubject
		if core {
			subject = serviceSubject
		}
	}

	url, stopServer, err := embedded.URLOrStart(*serverURL)
	if err != nil {
		return err
	}
	defer stopServer()
	ctx, closeOption := connect.CancelOnClose(ctx)
	nc, err := connect.To(url, "05-request-reply "+role, closeOption)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, connect.Drain(nc)) }()
	out := &lockedWriter{w: stdout} // a core replier prints from its subscription's goroutine

	if core { // core request-reply needs no JetStream, so it works on any server
		if role == "reply" {
			return coreReply(ctx, nc, out, name, subject, count)
		}
		return coreRequest(ctx, nc, out, subject, message, timeout)
	}
	js, err := connect.JetStream(ctx, nc)
	if err != nil {
		return err
	}
	stream, err := examplestream.Ensure(ctx, js, out)
	if err != nil {
		return err
	}
	switch role {
	case "reply":
		return streamReplier(ctx, nc, stream, out, name, subject, fanout, failFirst, count)
	case "request":
		return streamRequest(ctx, nc, js, out, subject, message, expect, timeout)
	default:
		return demo(ctx, nc, js, stream, out)
	}
}

// lockedWriter lets several goroutines print whole lines to one writer.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
