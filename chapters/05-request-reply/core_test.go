package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/connect"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"
)

// C08: a plain core publish to a stream's subject is stored. So a core
// nc.Request on that subject is answered by the stream with its PubAck,
// whether or not a replier listens: both reply, nc.Request keeps the first.
// A stream created with NoAck stores the request but does not answer.
func TestC08_CoreRequestOnAStreamSubjectGetsThePubAck(t *testing.T) {
	nc, js, stream := newExampleStream(t)
	ctx := jstest.Context(t)
	if err := nc.Publish(requestSubject, []byte("plain")); err != nil {
		t.Fatal(err)
	}
	jstest.Eventually(t, func() error {
		info, err := stream.Info(ctx)
		if err != nil {
			return err
		}
		if info.State.Msgs != 1 {
			return fmt.Errorf("%d messages stored after a core publish, want 1", info.State.Msgs)
		}
		return nil
	})

	// No replier at all, yet no ErrNoResponders: the stream replied.
	reply, err := nc.Request(requestSubject, []byte(helloRequest), 5*time.Second)
	if err != nil {
		t.Fatalf("core request with no replier: %v, want the stream's PubAck", err)
	}
	if got := string(reply.Data); got != `{"stream":"example_stream","seq":2}` {
		t.Fatalf("reply %s, want the PubAck", got)
	}

	// A core replier listens too. It answers only after nc.Request returned,
	// which shows that the PubAck alone satisfies nc.Request.
	requestReturned := make(chan struct{})
	answered := make(chan error, 1)
	sub, err := nc.Subscribe(requestSubject, func(msg *nats.Msg) {
		<-requestReturned
		answered <- msg.Respond([]byte("Response from a core replier"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	reply, err = nc.Request(requestSubject, []byte(helloRequest), 5*time.Second)
	close(requestReturned)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(reply.Data); got != `{"stream":"example_stream","seq":3}` {
		t.Fatalf("reply %s, want the PubAck", got)
	}
	if err := <-answered; err != nil {
		t.Fatalf("the replier's late answer: %v", err)
	}
	if err := sub.Unsubscribe(); err != nil {
		t.Fatal(err)
	}

	// Both reply to the same inbox: nc.Request keeps whichever comes first,
	// a race that the PubAck usually wins.
	sub, err = nc.Subscribe(requestSubject, func(msg *nats.Msg) {
		answered <- msg.Respond([]byte("Response from a core replier"))
	})
	if err != nil {
		t.Fatal(err)
	}
	inbox, err := nc.SubscribeSync(nc.NewInbox())
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.PublishRequest(requestSubject, inbox.Subject, []byte(helloRequest)); err != nil {
		t.Fatal(err)
	}
	var replies []string
	for range 2 {
		msg, err := inbox.NextMsg(jstest.Deadline)
		if err != nil {
			t.Fatal(err)
		}
		replies = append(replies, string(msg.Data))
	}
	slices.Sort(replies)
	if want := []string{"Response from a core replier", `{"stream":"example_stream","seq":4}`}; !slices.Equal(replies, want) {
		t.Fatalf("the inbox received %q, want %q", replies, want)
	}
	if err := <-answered; err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(sub.Unsubscribe(), inbox.Unsubscribe()); err != nil {
		t.Fatal(err)
	}

	// The chapter's core requester recognises the PubAck and says why.
	var out strings.Builder
	err = coreRequest(ctx, nc, &out, requestSubject, helloRequest, 5*time.Second)
	if err == nil || !strings.Contains(err.Error(), "stream example_stream's acknowledgement (seq 5), not a replier's answer") {
		t.Fatalf("coreRequest on a stream subject: %v", err)
	}
	if out.String() != "Received response: {\"stream\":\"example_stream\",\"seq\":5}\n" {
		t.Fatalf("coreRequest printed %q", out.String())
	}

	// Unless the stream was created with NoAck: it stores the request and
	// answers nothing, and its interest in the subject means no "no
	// responders" either. The requester waits out its timeout.
	quiet, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "QUIET", Subjects: []string{"quiet.>"}, NoAck: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nc.Request("quiet.requests", []byte(helloRequest), 200*time.Millisecond); !errors.Is(err, nats.ErrTimeout) {
		t.Fatalf("core request on a NoAck stream's subject: %v, want a timeout", err)
	}
	jstest.Eventually(t, func() error {
		info, err := quiet.Info(ctx)
		if err != nil {
			return err
		}
		if info.State.Msgs != 1 {
			return fmt.Errorf("%d messages in the NoAck stream, want the request stored", info.State.Msgs)
		}
		return nil
	})
}

// The chapter says that nc.Request(subject, data, timeout) and
// nc.RequestWithContext differ only in how a timeout is reported, and that
// with nobody subscribed the server answers "no responders" at once.
func TestCoreRequestTimeoutAndNoResponders(t *testing.T) {
	nc, _ := jstest.Connect(t, jstest.Server(t))
	started := time.Now()
	if _, err := nc.Request(serviceSubject, []byte(helloRequest), jstest.Deadline); !errors.Is(err, nats.ErrNoResponders) {
		t.Fatalf("request with nobody subscribed: %v, want ErrNoResponders", err)
	}
	if took := time.Since(started); took > time.Second {
		t.Fatalf("no responders took %s, want an immediate answer", took)
	}
	if _, err := nc.SubscribeSync(serviceSubject); err != nil { // subscribed, never answers
		t.Fatal(err)
	}
	if _, err := nc.Request(serviceSubject, []byte(helloRequest), 50*time.Millisecond); !errors.Is(err, nats.ErrTimeout) {
		t.Fatalf("nc.Request with a silent subscriber: %v, want ErrTimeout", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := nc.RequestWithContext(ctx, serviceSubject, []byte(helloRequest)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("nc.RequestWithContext with a silent subscriber: %v, want context.DeadlineExceeded", err)
	}
	err := coreRequest(context.Background(), nc, io.Discard, serviceSubject, helloRequest, 50*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "a replier is subscribed but did not answer in time") {
		t.Fatalf("coreRequest with a silent subscriber: %v", err)
	}
}

// The page: the replier's error reply uses the header that NATS services
// (the nats.go micro package) use for errors. A micro service's error is
// what the chapter's core requester reports as the replier's error, and the
// chapter's core replier refuses an empty request as a micro service does.
func TestErrorHeaderIsTheServicesErrorHeader(t *testing.T) {
	nc, _ := jstest.Connect(t, jstest.Server(t))
	svc, err := micro.AddService(nc, micro.Config{
		Name:    "uppercase",
		Version: "1.0.0",
		Endpoint: &micro.EndpointConfig{
			Subject: serviceSubject,
			Handler: micro.HandlerFunc(func(req micro.Request) {
				if err := req.Error("400", "empty request: nothing to upper-case", nil); err != nil {
					t.Errorf("the service's error reply: %v", err)
				}
			}),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	reply, err := nc.Request(serviceSubject, nil, jstest.Deadline)
	if err != nil {
		t.Fatal(err)
	}
	if got := reply.Header.Get(errorHeader); got != "empty request: nothing to upper-case" {
		t.Fatalf("the service's reply has %s %q; its headers: %v", errorHeader, got, reply.Header)
	}
	err = coreRequest(jstest.Context(t), nc, io.Discard, serviceSubject, "", jstest.Deadline)
	if err == nil || err.Error() != "the replier answered with an error: empty request: nothing to upper-case" {
		t.Fatalf("coreRequest to a micro service that refuses: %v", err)
	}

	// The chapter's core replier refuses the same way, with the same header.
	if err := svc.Stop(); err != nil {
		t.Fatal(err)
	}
	wait, err := coreReplier(nc, io.Discard, "replier-1", serviceSubject, 1)
	if err != nil {
		t.Fatal(err)
	}
	reply, err = nc.Request(serviceSubject, nil, jstest.Deadline)
	if err != nil {
		t.Fatal(err)
	}
	if got := reply.Header.Get(micro.ErrorHeader); got != "empty request: nothing to upper-case" || len(reply.Data) != 0 {
		t.Fatalf("the core replier's refusal: %s %q, data %q", micro.ErrorHeader, got, reply.Data)
	}
	if err := wait(jstest.Context(t)); err != nil {
		t.Fatal(err)
	}
}

// The page: nc.Request sends each request with a reply subject of its own,
// a token under the connection's response inbox. The connection subscribes
// to that inbox once, with a wildcard, on its first request; only
// nats.UseOldRequestStyle subscribes to a new inbox for every request.
func TestRequestsShareOneInboxSubscription(t *testing.T) {
	s := jstest.Server(t)
	replier, _ := jstest.Connect(t, s)
	replySubjects := make(chan string, 6)
	if _, err := replier.Subscribe(serviceSubject, func(msg *nats.Msg) {
		replySubjects <- msg.Reply
		if err := msg.Respond([]byte("ok")); err != nil {
			t.Errorf("respond: %v", err)
		}
	}); err != nil {
		t.Fatal(err)
	}
	if err := replier.Flush(); err != nil {
		t.Fatal(err)
	}

	// requests sends three requests on nc and returns their reply subjects,
	// and how many subscriptions nc holds after each.
	requests := func(nc *nats.Conn) (replies []string, subs []int) {
		for range 3 {
			if _, err := nc.Request(serviceSubject, nil, jstest.Deadline); err != nil {
				t.Fatal(err)
			}
			replies = append(replies, <-replySubjects)
			subs = append(subs, nc.NumSubscriptions())
		}
		return replies, subs
	}

	nc, _ := jstest.Connect(t, s)
	if n := nc.NumSubscriptions(); n != 0 {
		t.Fatalf("a fresh connection holds %d subscriptions", n)
	}
	replies, subs := requests(nc)
	if !slices.Equal(subs, []int{1, 1, 1}) {
		t.Fatalf("subscriptions after each request: %v, want one throughout", subs)
	}
	prefix := replies[0][:strings.LastIndexByte(replies[0], '.')+1]
	if !strings.HasPrefix(prefix, "_INBOX.") {
		t.Fatalf("reply subject %q is not under an _INBOX", replies[0])
	}
	for _, reply := range replies {
		if !strings.HasPrefix(reply, prefix) || strings.Count(reply, ".") != 2 {
			t.Fatalf("reply subjects %q: want one token each under %s", replies, prefix)
		}
	}
	if distinct := slices.Compact(slices.Sorted(slices.Values(replies))); len(distinct) != 3 {
		t.Fatalf("reply subjects %q: want three different ones", replies)
	}

	old, _ := jstest.Connect(t, s, nats.UseOldRequestStyle())
	replies, subs = requests(old)
	if !slices.Equal(subs, []int{0, 0, 0}) || slices.ContainsFunc(replies, func(reply string) bool { return strings.Count(reply, ".") != 1 }) {
		t.Fatalf("old request style: reply subjects %q, subscriptions left %v; want an _INBOX.<id> of its own each, none left", replies, subs)
	}
}

// The code comment in coreReplier: a plain publish (no reply subject) cannot
// be answered; msg.RespondMsg says so with nats.ErrMsgNoReply, and the
// replier reports it.
func TestCoreReplierReportsAPlainPublish(t *testing.T) {
	nc, _ := jstest.Connect(t, jstest.Server(t))
	wait, err := coreReplier(nc, io.Discard, "replier-1", serviceSubject, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Publish(serviceSubject, []byte(helloRequest)); err != nil {
		t.Fatal(err)
	}
	if err := wait(jstest.Context(t)); !errors.Is(err, nats.ErrMsgNoReply) {
		t.Fatalf("core replier given a plain publish: %v, want nats.ErrMsgNoReply", err)
	}
}

// The page: the core requester waits with a context, so Ctrl+C (a canceled
// context) and a connection lost for good (CancelOnClose's cause) end the
// wait at once, long before the timeout.
func TestCoreRequestEndsWithItsContext(t *testing.T) {
	nc, _ := jstest.Connect(t, jstest.Server(t))
	silent, err := nc.SubscribeSync(serviceSubject) // subscribed, never answers
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	for _, cause := range []error{context.Canceled, connect.ErrConnectionLost} {
		ctx, cancel := context.WithCancelCause(context.Background())
		done := make(chan error, 1)
		go func() { done <- coreRequest(ctx, nc, io.Discard, serviceSubject, helloRequest, time.Hour) }()
		if _, err := silent.NextMsg(jstest.Deadline); err != nil { // the request is out, and waits
			t.Fatal(err)
		}
		cancel(cause)
		select {
		case err := <-done:
			if !errors.Is(err, cause) {
				t.Fatalf("coreRequest after cancel(%v): %v", cause, err)
			}
		case <-time.After(jstest.Deadline):
			t.Fatalf("coreRequest still waits %s after cancel(%v)", jstest.Deadline, cause)
		}
	}
}
