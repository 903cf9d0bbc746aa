package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/connect"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// docs:start settings
const (
	requestSubject = "my.subject.requests" // the seed's subject: example_stream (my.subject.*) stores it
	replyToHeader  = "reply-to"            // the seed's header that carries the requester's inbox
	sharedDurable  = "repliers"            // the one consumer that repliers share by default

	ackWait    = 2 * time.Second        // a request not acked by then goes to another replier, within the requester's 5 s
	maxDeliver = 3                      // then the server gives up on it: no endless redelivery
	retryDelay = 250 * time.Millisecond // how long a Nak'd request waits before it comes back
)

// docs:end settings

// docs:start request
// sendRequest is requester.py: it subscribes to a fresh inbox, then stores
// the request in the stream with the inbox in a reply-to header. The header
// is needed because the stream does not keep a publisher's reply subject.
func sendRequest(ctx context.Context, nc *nats.Conn, js jetstream.JetStream, out io.Writer, subject, request string) (*nats.Subscription, *jetstream.PubAck, error) {
	inbox := nc.NewInbox() // _INBOX.<random>: a subject only this requester listens on
	// Subscribe first, no Flush needed: a server handles one connection's
	// messages in order, so on one server the inbox has its subscriber
	// before the request is even stored.
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
