package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// demo runs the chapter in one process: core request-reply; the seed's
// pattern, with the request stored in the stream; the pitfall of a core
// request on a stream's subject; and how many responses two repliers give
// with one consumer or two.
func demo(ctx context.Context, nc *nats.Conn, js jetstream.JetStream, stream jetstream.Stream, out io.Writer) error {
	fmt.Fprintln(out, "1. Core request-reply: no stream; the request's own reply subject carries the answer.")
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

	fmt.Fprintln(out, "2. The seed's pattern: the request is stored in the stream, the answer goes to a reply-to header.")
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
