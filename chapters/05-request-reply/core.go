package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
)

const (
	serviceSubject = "service.uppercase"  // a subject no stream captures
	queueGroup     = "repliers"           // the queue group that core repliers share
	errorHeader    = "Nats-Service-Error" // how a replier says "no", as NATS services do
)

// answer is the service itself, as in the seed: it upper-cases the request.
// An empty request can never be answered, however often it is retried.
func answer(name, request string) (string, error) {
	if strings.TrimSpace(request) == "" {
		return "", errors.New("empty request: nothing to upper-case")
	}
	return fmt.Sprintf("Response from %s : %s", name, strings.ToUpper(request)), nil
}

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

// coreRequest is core NATS request-reply: nc.RequestWithContext sends the
// request with a reply subject of its own (a token under the connection's
// one response inbox) and returns the first response that arrives there.
// nc.Request(subject, data, timeout) is the same without a context.
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
		return fmt.Errorf("that response is stream %s's acknowledgement (seq %d), not a replier's answer: the stream captures %s and answers every request on it; use a subject no stream captures, such as %s", stream, seq, subject, serviceSubject)
	}
	return nil
}

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
