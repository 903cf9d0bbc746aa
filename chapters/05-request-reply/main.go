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
	"encoding/json"
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
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

const usage = `usage: 05-request-reply [-server URL]                                          (both patterns)
       05-request-reply reply [-server URL] [-name NAME] [-fanout] [-fail-first N] [-count N] [-subject S]
       05-request-reply reply -core [-server URL] [-name NAME] [-count N] [-subject S]
       05-request-reply request [-server URL] [-expect N] [-timeout D] [-message M] [-subject S]
       05-request-reply request -core [-server URL] [-timeout D] [-message M] [-subject S]`

// docs:start settings
const (
	requestSubject = "my.subject.requests" // the seed's subject: example_stream (my.subject.*) stores it
	serviceSubject = "service.uppercase"   // core request-reply: a subject no stream captures
	replyToHeader  = "reply-to"            // the seed's header that carries the requester's inbox
	errorHeader    = "Nats-Service-Error"  // how a replier says "no", as NATS services do
	sharedDurable  = "repliers"            // the one consumer that repliers share by default
	queueGroup     = "repliers"            // core: the queue group that repliers share
	helloRequest   = "Hello, Consumers!"   // the seed's request

	ackWait        = 2 * time.Second        // a request not acked by then goes to another replier...
	defaultTimeout = 5 * time.Second        // ...while the requester still waits (the seed's 5 s)
	maxDeliver     = 3                      // then the server gives up on it: no endless redelivery
	retryDelay     = 250 * time.Millisecond // how long a Nak'd request waits before it comes back
)

// docs:end settings

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

// docs:start request
// sendRequest is requester.py: it subscribes to a fresh inbox, then stores
// the request in the stream with the inbox in a reply-to header. The header
// is needed because the stream does not keep a publisher's reply subject.
func sendRequest(ctx context.Context, nc *nats.Conn, js jetstream.JetStream, out io.Writer, subject, request string) (*nats.Subscription, *jetstream.PubAck, error) {
	inbox := nc.NewInbox() // _INBOX.<random>: a subject only this requester listens on
	// Subscribe first: the server handles one connection's messages in order,
	// so the inbox has its subscriber before the request is even stored.
	responses, err := nc.SubscribeSync(inbox)
	if err != nil {
		return nil, nil, fmt.Errorf("subscribe to the inbox %s: %w", inbox, err)
	}

	msg := nats.NewMsg(subject)
	msg.Header.Set(replyToHeader, inbox)
	msg.Data = []byte(request)
	pubCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ack, err := js.PublishMsg(pubCtx, msg)
	if errors.Is(err, jetstream.ErrNoStreamResponse) {
		return nil, nil, fmt.Errorf("publish the request to %s: no stream captures this subject (example_stream takes my.subject.*; for core request-reply use -core)", subject)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("publish the request to %s: %w", subject, err)
	}
	fmt.Fprintf(out, "Published request with its inbox in the reply-to header: %s (stream %s, seq %d)\n", request, ack.Stream, ack.Sequence)
	return responses, ack, nil
}

// docs:end request

// docs:start collect
// collectResponses waits for expect responses on the inbox, at most timeout
// in all: the seed's collect_responses with its asyncio.wait_for.
func collectResponses(ctx context.Context, responses *nats.Subscription, out io.Writer, expect int, timeout time.Duration) (err error) {
	defer func() {
		if uerr := responses.Unsubscribe(); uerr != nil && !errors.Is(uerr, nats.ErrConnectionClosed) {
			err = errors.Join(err, fmt.Errorf("unsubscribe from the inbox: %w", uerr))
		}
	}()
	waitCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for received := 0; received < expect; received++ {
		msg, err := responses.NextMsgWithContext(waitCtx)
		if err != nil {
			if ctx.Err() != nil {
				return context.Cause(ctx) // Ctrl+C, or the connection is gone
			}
			if errors.Is(err, context.DeadlineExceeded) && received == 0 {
				return fmt.Errorf("no response within %s: is a replier running? (start one with \"go run ./chapters/05-request-reply reply\", then run this again)", timeout)
			}
			if errors.Is(err, context.DeadlineExceeded) {
				return fmt.Errorf("received %d of %d expected responses within %s (repliers sharing a consumer answer once per request; with -fanout each replier answers)", received, expect, timeout)
			}
			return fmt.Errorf("wait for responses: %w", err)
		}
		if refusal := msg.Header.Get(errorHeader); refusal != "" {
			return fmt.Errorf("the replier answered with an error: %s", refusal)
		}
		fmt.Fprintf(out, "Received response: %s\n", msg.Data)
	}
	fmt.Fprintf(out, "Collected all responses: %d of %d\n", expect, expect)
	return nil
}

// docs:end collect

// streamRequest is the request role: one request, then its responses.
func streamRequest(ctx context.Context, nc *nats.Conn, js jetstream.JetStream, out io.Writer, subject, request string, expect int, timeout time.Duration) error {
	responses, _, err := sendRequest(ctx, nc, js, out, subject, request)
	if err != nil {
		return err
	}
	return collectResponses(ctx, responses, out, expect, timeout)
}

// docs:start consumer
// replierConsumer creates the replier's consumer, or finds it if it exists:
// CreateOrUpdateConsumer with a fixed name is idempotent, so restarting a
// replier reuses its consumer instead of adding one, as the seed's
// consumer_<uuid4> does. Repliers share "repliers", so each request is
// answered once; with fanout each replier has its own, and all answer.
func replierConsumer(ctx context.Context, stream jetstream.Stream, subject, name string, fanout bool) (jetstream.Consumer, error) {
	durable := sharedDurable
	if fanout {
		durable = name
	}
	cons, err := stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:       durable,
		FilterSubject: subject,                     // the requests only, not all of my.subject.*
		DeliverPolicy: jetstream.DeliverNewPolicy,  // a new consumer skips requests nobody was there to answer
		AckPolicy:     jetstream.AckExplicitPolicy, // a request counts as handled once acked
		AckWait:       ackWait,
		MaxDeliver:    maxDeliver,
	})
	if err != nil {
		return nil, fmt.Errorf("create or update the consumer %q on %s: %w", durable, subject, err)
	}
	return cons, nil
}

// docs:end consumer

// docs:start answer
// answer is the service itself, as in the seed: it upper-cases the request.
// An empty request can never be answered, however often it is retried.
func answer(name, request string) (string, error) {
	if strings.TrimSpace(request) == "" {
		return "", errors.New("empty request: nothing to upper-case")
	}
	return fmt.Sprintf("Response from %s : %s", name, strings.ToUpper(request)), nil
}

// docs:end answer

// replier answers the requests that its consumer delivers.
type replier struct {
	name      string
	nc        *nats.Conn
	out       io.Writer
	failFirst int // -fail-first: Nak this many deliveries of each request
}

// docs:start handle
// handle answers one delivered request, then settles it with the server:
// Ack once answered, Nak if a later delivery may succeed, Term if none can.
func (r *replier) handle(ctx context.Context, msg jetstream.Msg) error {
	meta, err := msg.Metadata()
	if err != nil {
		return fmt.Errorf("read the request's metadata: %w", err)
	}
	seq, delivery := meta.Sequence.Stream, int(meta.NumDelivered)
	if delivery == 1 {
		fmt.Fprintf(r.out, "%s received request: %s (seq %d)\n", r.name, msg.Data(), seq)
	} else {
		fmt.Fprintf(r.out, "%s received request: %s (seq %d, delivery %d of at most %d)\n", r.name, msg.Data(), seq, delivery, maxDeliver)
	}

	// msg.Reply() is the $JS.ACK... subject that acks this delivery; the
	// requester's inbox is in the header.
	inbox := msg.Headers().Get(replyToHeader)
	if inbox == "" {
		fmt.Fprintf(r.out, "%s: seq %d has no %s header, so no answer could reach anyone: Term, never deliver it again\n", r.name, seq, replyToHeader)
		return settled(seq, "terminate", msg.TermWithReason("no reply-to header"))
	}
	response, err := answer(r.name, string(msg.Data()))
	if err != nil {
		fmt.Fprintf(r.out, "%s: seq %d can never succeed (%v): error reply, then Term\n", r.name, seq, err)
		refusal := nats.NewMsg(inbox)
		refusal.Header.Set(errorHeader, err.Error())
		if err := r.nc.PublishMsg(refusal); err != nil {
			return fmt.Errorf("send the error reply for seq %d: %w", seq, err)
		}
		return settled(seq, "terminate", msg.TermWithReason(err.Error()))
	}
	if delivery <= r.failFirst { // a stand-in for a database that is briefly down
		if delivery < maxDeliver {
			fmt.Fprintf(r.out, "%s: seq %d failed for now (-fail-first %d): Nak, deliver it again in %s\n", r.name, seq, r.failFirst, retryDelay)
		} else {
			fmt.Fprintf(r.out, "%s: seq %d failed for now (-fail-first %d): Nak, but that was delivery %d of %d, so the server gives up on it\n", r.name, seq, r.failFirst, delivery, maxDeliver)
		}
		return settled(seq, "nak", msg.NakWithDelay(retryDelay))
	}

	fmt.Fprintf(r.out, "%s sending response: %s\n", r.name, response)
	if err := r.nc.Publish(inbox, []byte(response)); err != nil {
		return fmt.Errorf("send the response to seq %d: %w", seq, err)
	}
	// DoubleAck waits until the server has the ack. A request in hand is
	// finished even after Ctrl+C, hence WithoutCancel.
	ackCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return settled(seq, "ack", msg.DoubleAck(ackCtx))
}

// docs:end handle

func settled(seq uint64, how string, err error) error {
	if err != nil {
		return fmt.Errorf("%s request seq %d: %w", how, seq, err)
	}
	return nil
}

// docs:start serve
// serve hands the consumer's requests to handle one at a time, until it has
// handled limit of them (0: no limit) or ctx ends.
func (r *replier) serve(ctx context.Context, cons jetstream.Consumer, limit int) error {
	// PullMaxMessages(1): take one request at a time, so that a busy replier
	// does not sit on requests that an idle one sharing the consumer could answer.
	opts := []jetstream.PullMessagesOpt{jetstream.PullMaxMessages(1)}
	if limit > 0 {
		opts = append(opts, jetstream.StopAfter(limit)) // and no request beyond the last one we handle
	}
	msgs, err := cons.Messages(opts...)
	if err != nil {
		return fmt.Errorf("start receiving requests: %w", err)
	}
	defer msgs.Stop()
	for handled := 0; limit == 0 || handled < limit; handled++ {
		msg, err := msgs.Next(jetstream.NextContext(ctx))
		if err != nil {
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			if connect.Closed(err) {
				return connect.ErrConnectionLost // reconnecting failed, maybe before ctx heard of it
			}
			return fmt.Errorf("receive a request: %w", err)
		}
		if err := r.handle(ctx, msg); err != nil {
			return err
		}
	}
	return nil
}

// docs:end serve

// streamReplier is the reply role: replier.py, until Ctrl+C.
func streamReplier(ctx context.Context, nc *nats.Conn, stream jetstream.Stream, out io.Writer, name, subject string, fanout bool, failFirst, limit int) error {
	cons, err := replierConsumer(ctx, stream, subject, name, fanout)
	if err != nil {
		return err
	}
	how := "shared: one replier answers each request"
	if fanout {
		how = "its own: every -fanout replier answers each request"
	}
	fmt.Fprintf(out, "%s is listening on '%s' through the consumer %q (%s). Press Ctrl+C to exit.\n", name, subject, cons.CachedInfo().Name, how)
	r := &replier{name: name, nc: nc, out: out, failFirst: failFirst}
	err = r.serve(ctx, cons, limit)
	if errors.Is(err, context.Canceled) {
		fmt.Fprintf(out, "%s stopped.\n", name)
		return nil
	}
	return err
}

// docs:start core-reply
// coreReplier is core NATS request-reply: a queue subscription, so that
// repliers share the requests, and msg.Respond, which publishes to the
// request's own reply subject. Nothing is stored; no header is needed.
// It returns once the subscription is on the server; wait serves until
// limit requests were answered (0: no limit) or ctx ends.
func coreReplier(nc *nats.Conn, out io.Writer, name, subject string, limit int) (wait func(context.Context) error, err error) {
	served := make(chan struct{})
	failed := make(chan error, 1)
	handled := 0 // a subscription's handler runs on one goroutine at a time
	sub, err := nc.QueueSubscribe(subject, queueGroup, func(msg *nats.Msg) {
		fmt.Fprintf(out, "%s received request: %s\n", name, msg.Data)
		reply := nats.NewMsg(msg.Reply)
		if response, err := answer(name, string(msg.Data)); err != nil {
			reply.Header.Set(errorHeader, err.Error())
		} else {
			fmt.Fprintf(out, "%s sending response: %s\n", name, response)
			reply.Data = []byte(response)
		}
		if err := msg.RespondMsg(reply); err != nil { // ErrMsgNoReply: a plain publish, not a request
			select {
			case failed <- fmt.Errorf("respond to %q on %s: %w", msg.Data, msg.Subject, err):
			default:
			}
		}
		if handled++; handled == limit {
			close(served)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("subscribe to %s: %w", subject, err)
	}
	if limit > 0 {
		if err := sub.AutoUnsubscribe(limit); err != nil { // the server stops after limit requests
			return nil, fmt.Errorf("limit the subscription to %d requests: %w", limit, err)
		}
	}
	if err := nc.Flush(); err != nil {
		return nil, fmt.Errorf("subscribe to %s: %w", subject, err)
	}
	return func(ctx context.Context) error {
		select {
		case <-served:
			return nil
		case err := <-failed:
			return err
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}, nil
}

// docs:end core-reply

// coreReply is the reply role with -core, until Ctrl+C.
func coreReply(ctx context.Context, nc *nats.Conn, out io.Writer, name, subject string, limit int) error {
	wait, err := coreReplier(nc, out, name, subject, limit)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s is listening on '%s' in the queue group %q (core NATS, no stream). Press Ctrl+C to exit.\n", name, subject, queueGroup)
	err = wait(ctx)
	if errors.Is(err, context.Canceled) {
		fmt.Fprintf(out, "%s stopped.\n", name)
		return nil
	}
	return err
}

// docs:start core-request
// coreRequest is core NATS request-reply: nc.RequestWithContext subscribes
// to an inbox, publishes with it as the reply subject, and returns the first
// response. nc.Request(subject, data, timeout) is the same without a context.
func coreRequest(ctx context.Context, nc *nats.Conn, out io.Writer, subject, request string, timeout time.Duration) error {
	reqCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	reply, err := nc.RequestWithContext(reqCtx, subject, []byte(request))
	switch {
	case ctx.Err() != nil:
		return context.Cause(ctx) // Ctrl+C, or the connection is gone
	case errors.Is(err, nats.ErrNoResponders): // the server says so at once
		return fmt.Errorf("no replier is listening on %s (start one with \"go run ./chapters/05-request-reply reply -core\")", subject)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout):
		return fmt.Errorf("no response on %s within %s: a replier is subscribed but did not answer in time", subject, timeout)
	case err != nil:
		return fmt.Errorf("request on %s: %w", subject, err)
	}
	if refusal := reply.Header.Get(errorHeader); refusal != "" {
		return fmt.Errorf("the replier answered with an error: %s", refusal)
	}
	fmt.Fprintf(out, "Received response: %s\n", reply.Data)
	if stream, seq, ok := pubAck(reply.Data); ok {
		return fmt.Errorf("that response is stream %s's acknowledgement (seq %d), not a replier's answer: the stream captures %s and answers every request on it first; use a subject no stream captures, such as %s", stream, seq, subject, serviceSubject)
	}
	return nil
}

// docs:end core-request

// pubAck reports whether data is a stream's PubAck, such as
// {"stream":"example_stream","seq":1}.
func pubAck(data []byte) (stream string, seq uint64, ok bool) {
	var ack struct {
		Stream string `json:"stream"`
		Seq    uint64 `json:"seq"`
	}
	if json.Unmarshal(data, &ack) != nil || ack.Stream == "" {
		return "", 0, false
	}
	return ack.Stream, ack.Seq, true
}

// docs:start demo
// demo runs both patterns in one process: the seed's, with the request
// stored in the stream; core request-reply; the pitfall of mixing the two;
// and how many responses two repliers give with one consumer or two.
func demo(ctx context.Context, nc *nats.Conn, js jetstream.JetStream, stream jetstream.Stream, out io.Writer) error {
	fmt.Fprintln(out, "1. The seed's pattern: the request is stored in the stream, the answer goes to a reply-to header.")
	cons, err := replierConsumer(ctx, stream, requestSubject, "replier-1", false)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "replier-1 is listening on '%s' through the durable consumer %q.\n", requestSubject, cons.CachedInfo().Name)
	responses, _, err := sendRequest(ctx, nc, js, out, requestSubject, helloRequest)
	if err != nil {
		return err
	}
	// The replier starts after the publish, so the lines print in order; the
	// request waited in the stream, as it would for a replier that is busy.
	replierCtx, stopReplier := context.WithCancel(ctx)
	defer stopReplier()
	served := make(chan error, 1)
	go func() { served <- (&replier{name: "replier-1", nc: nc, out: out}).serve(replierCtx, cons, 1) }()
	if err := collectResponses(ctx, responses, out, 1, defaultTimeout); err != nil {
		stopReplier() // it would wait for a request forever
		<-served
		return err
	}
	if err := <-served; err != nil {
		return err
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return fmt.Errorf("read the consumer's state: %w", err)
	}
	fmt.Fprintf(out, "The consumer %q has acked up to seq %d: no replier is given this request again.\n", info.Name, info.AckFloor.Stream)

	fmt.Fprintln(out, "2. Core request-reply: no stream; the request's own reply subject carries the answer.")
	wait, err := coreReplier(nc, out, "replier-1", serviceSubject, 1)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "replier-1 is listening on '%s' in the queue group %q.\n", serviceSubject, queueGroup)
	if err := coreRequest(ctx, nc, out, serviceSubject, helloRequest, defaultTimeout); err != nil {
		return err
	}
	if err := wait(ctx); err != nil {
		return err
	}

	fmt.Fprintf(out, "3. The pitfall: nc.Request on %s, which example_stream captures, is answered by the stream.\n", requestSubject)
	reqCtx, cancel := context.WithTimeout(ctx, defaultTimeout)
	defer cancel()
	reply, err := nc.RequestWithContext(reqCtx, requestSubject, []byte(helloRequest))
	if err != nil {
		return fmt.Errorf("core request on %s: %w", requestSubject, err)
	}
	fmt.Fprintf(out, "Received response: %s\n", reply.Data)

	fmt.Fprintln(out, "4. Two repliers answer three requests:")
	for _, fanout := range []bool{false, true} {
		got, err := responsesFromTwoRepliers(ctx, nc, js, stream, fanout, 3)
		if err != nil {
			return err
		}
		if fanout {
			fmt.Fprintf(out, "   a consumer each (-fanout):       %d responses, one per replier per request (fan-out)\n", got)
		} else {
			fmt.Fprintf(out, "   sharing the consumer %q: %d responses, one per request (load balancing)\n", sharedDurable, got)
		}
	}
	return nil
}

// docs:end demo

// responsesFromTwoRepliers sends requests one by one to two repliers, either
// sharing a consumer or with one each, and counts the responses that arrive
// once both consumers have acked everything (so no response is in flight).
func responsesFromTwoRepliers(ctx context.Context, nc *nats.Conn, js jetstream.JetStream, stream jetstream.Stream, fanout bool, requests int) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*defaultTimeout) // bounds every wait below
	defer cancel()
	var consumers []jetstream.Consumer
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, name := range []string{"replier-1", "replier-2"} {
		cons, err := replierConsumer(ctx, stream, requestSubject, name, fanout)
		if err != nil {
			return 0, err
		}
		consumers = append(consumers, cons)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = (&replier{name: name, nc: nc, out: io.Discard}).serve(ctx, cons, 0)
		}()
	}
	stopRepliers := func() error {
		cancel()
		wg.Wait()
		for _, err := range errs {
			if err != nil && !errors.Is(err, context.Canceled) {
				return err
			}
		}
		return nil
	}

	var inboxes []*nats.Subscription
	var lastSeq uint64
	for range requests {
		responses, ack, err := sendRequest(ctx, nc, js, io.Discard, requestSubject, helloRequest)
		if err != nil {
			return 0, errors.Join(err, stopRepliers())
		}
		inboxes = append(inboxes, responses)
		lastSeq = ack.Sequence
		if _, err := responses.NextMsgWithContext(ctx); err != nil { // the first response to each
			return 0, errors.Join(fmt.Errorf("wait for a response: %w", err), stopRepliers())
		}
	}
	// A replier sends its response before its DoubleAck, on one connection,
	// so once every consumer acked lastSeq, every response has arrived.
	for _, cons := range consumers {
		if err := waitAcked(ctx, cons, lastSeq); err != nil {
			return 0, errors.Join(err, stopRepliers())
		}
	}
	if err := stopRepliers(); err != nil {
		return 0, err
	}
	got := 0
	for _, inbox := range inboxes {
		pending, _, err := inbox.Pending()
		if err != nil {
			return 0, fmt.Errorf("count the responses: %w", err)
		}
		got += 1 + pending // the one already read, and the rest
		if err := inbox.Unsubscribe(); err != nil {
			return 0, fmt.Errorf("unsubscribe from an inbox: %w", err)
		}
	}
	return got, nil
}

// waitAcked waits until cons has acked everything up to seq.
func waitAcked(ctx context.Context, cons jetstream.Consumer, seq uint64) error {
	for {
		info, err := cons.Info(ctx)
		if err != nil {
			return fmt.Errorf("read the consumer's state: %w", err)
		}
		if info.AckFloor.Stream >= seq {
			return nil
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-time.After(5 * time.Millisecond):
		}
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
