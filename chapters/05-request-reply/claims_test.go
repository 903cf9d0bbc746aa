package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/connect"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/examplestream"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"
)

// newExampleStream starts a private server with chapter 03's stream on it.
func newExampleStream(t *testing.T) (*nats.Conn, jetstream.JetStream, jetstream.Stream) {
	t.Helper()
	nc, js := jstest.Connect(t, jstest.Server(t))
	stream, err := js.CreateStream(jstest.Context(t), examplestream.Config())
	if err != nil {
		t.Fatal(err)
	}
	return nc, js, stream
}

// consumerNames lists the stream's consumers, sorted.
func consumerNames(t *testing.T, stream jetstream.Stream) []string {
	t.Helper()
	list := stream.ConsumerNames(jstest.Context(t))
	var names []string
	for name := range list.Name() {
		names = append(names, name)
	}
	if err := list.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	return names
}

// next returns the consumer's next delivery.
func next(t *testing.T, cons jetstream.Consumer) (jetstream.Msg, *jetstream.MsgMetadata) {
	t.Helper()
	msg, err := cons.Next(jetstream.FetchMaxWait(jstest.Deadline))
	if err != nil {
		t.Fatal(err)
	}
	meta, err := msg.Metadata()
	if err != nil {
		t.Fatal(err)
	}
	return msg, meta
}

// seedConsumer is replier.py's consumer: a new durable named
// consumer_<uuid4> on every run, with nats-py's defaults.
func seedConsumer(t *testing.T, stream jetstream.Stream) jetstream.Consumer {
	t.Helper()
	cons, err := stream.CreateConsumer(jstest.Context(t), jetstream.ConsumerConfig{
		Durable:       "consumer_" + rand.Text(),
		FilterSubject: requestSubject,
		AckPolicy:     jetstream.AckExplicitPolicy,
	})
	if err != nil {
		t.Fatal(err)
	}
	return cons
}

// advisories subscribes to the server's JetStream advisories of one kind
// (MAX_DELIVERIES, MSG_TERMINATED) about the repliers' consumer.
func advisories(t *testing.T, nc *nats.Conn, kind string) *nats.Subscription {
	t.Helper()
	sub, err := nc.SubscribeSync("$JS.EVENT.ADVISORY.CONSUMER." + kind + ".example_stream." + sharedDurable)
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return sub
}

type advisory struct {
	StreamSeq  uint64 `json:"stream_seq"`
	Deliveries uint64 `json:"deliveries"`
	Reason     string `json:"reason"`
}

func nextAdvisory(t *testing.T, sub *nats.Subscription) advisory {
	t.Helper()
	msg, err := sub.NextMsg(jstest.Deadline)
	if err != nil {
		t.Fatal(err)
	}
	var a advisory
	if err := json.Unmarshal(msg.Data, &a); err != nil {
		t.Fatal(err)
	}
	return a
}

// C08: a plain core publish to a stream's subject is stored. So a core
// nc.Request on that subject is answered by the stream with its PubAck,
// whether or not a replier listens: both reply, nc.Request keeps the first.
func TestC08_CoreRequestOnAStreamSubjectGetsThePubAck(t *testing.T) {
	nc, _, stream := newExampleStream(t)
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
}

// C32: the stream keeps a message's subject, headers and data, not the
// publisher's reply subject: the stream itself answers that subject with its
// PubAck, and a delivered message's Reply() is the $JS.ACK subject that acks
// it. So the seed carries the requester's inbox in a reply-to header.
func TestC32_TheInboxTravelsInAHeaderBecauseReplyIsTheAckSubject(t *testing.T) {
	nc, js, stream := newExampleStream(t)
	ctx := jstest.Context(t)
	cons, err := replierConsumer(ctx, stream, requestSubject, "replier-1", false)
	if err != nil {
		t.Fatal(err)
	}

	mine, err := nc.SubscribeSync("my.reply.subject")
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.PublishRequest(requestSubject, "my.reply.subject", []byte(helloRequest)); err != nil {
		t.Fatal(err)
	}
	toMine, err := mine.NextMsg(jstest.Deadline)
	if err != nil {
		t.Fatal(err)
	}
	if stream, seq, ok := pubAck(toMine.Data); !ok || stream != "example_stream" || seq != 1 {
		t.Fatalf("my.reply.subject received %s, want the stream's PubAck for seq 1", toMine.Data)
	}
	delivered, _ := next(t, cons)
	if !strings.HasPrefix(delivered.Reply(), "$JS.ACK.example_stream.repliers.") {
		t.Fatalf("delivered message's Reply() is %q, want the $JS.ACK subject", delivered.Reply())
	}
	if len(delivered.Headers()) != 0 {
		t.Fatalf("delivered message has headers %v: the reply subject should be gone", delivered.Headers())
	}
	if err := delivered.DoubleAck(ctx); err != nil {
		t.Fatal(err)
	}

	// The chapter's requester and replier: the header reaches the replier,
	// and the answer reaches the requester's inbox.
	responses, _, err := sendRequest(ctx, nc, js, io.Discard, requestSubject, helloRequest)
	if err != nil {
		t.Fatal(err)
	}
	delivered, _ = next(t, cons)
	if got := delivered.Headers().Get(replyToHeader); got != responses.Subject || !strings.HasPrefix(got, "_INBOX.") {
		t.Fatalf("reply-to header %q, want the requester's inbox %q", got, responses.Subject)
	}
	if err := (&replier{name: "replier-1", nc: nc, out: io.Discard}).handle(ctx, delivered); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := collectResponses(ctx, responses, &out, 1, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if want := "Received response: Response from replier-1 : HELLO, CONSUMERS!\nCollected all responses: 1 of 1\n"; out.String() != want {
		t.Fatalf("requester printed %q, want %q", out.String(), want)
	}
}

// C33: replier.py creates a durable consumer_<uuid4> on every run. These
// durables have no inactivity threshold, so they pile up, and each new one
// (DeliverAll) replays every stored request to inboxes whose requesters are
// gone. The chapter's fixed name, created with CreateOrUpdateConsumer, is
// reused.
func TestC33_RestartedRepliersReuseOneConsumer(t *testing.T) {
	t.Run("the seed's way", func(t *testing.T) {
		_, js, stream := newExampleStream(t)
		ctx := jstest.Context(t)
		for range 3 { // three runs of replier.py, each answering one request
			cons := seedConsumer(t, stream)
			if _, _, err := sendRequest(ctx, js.Conn(), js, io.Discard, requestSubject, helloRequest); err != nil {
				t.Fatal(err)
			}
			msg, _ := next(t, cons)
			if err := msg.DoubleAck(ctx); err != nil {
				t.Fatal(err)
			}
			if got := cons.CachedInfo().Config.InactiveThreshold; got != 0 {
				t.Fatalf("a seed durable has InactiveThreshold %s: it would go away", got)
			}
		}
		if names := consumerNames(t, stream); len(names) != 3 {
			t.Fatalf("after three runs the stream has consumers %v, want three", names)
		}
		fourth := seedConsumer(t, stream)
		info, err := fourth.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.NumPending != 3 {
			t.Fatalf("a fourth run's consumer has %d requests waiting, want all 3 old ones", info.NumPending)
		}
	})

	t.Run("the chapter's way", func(t *testing.T) {
		nc, js, stream := newExampleStream(t)
		ctx := jstest.Context(t)
		if _, _, err := sendRequest(ctx, nc, js, io.Discard, requestSubject, "before any replier"); err != nil {
			t.Fatal(err)
		}
		for i := range 3 { // three runs of the reply role, each answering one request
			cons, err := replierConsumer(ctx, stream, requestSubject, "replier-1", false)
			if err != nil {
				t.Fatal(err)
			}
			responses, ack, err := sendRequest(ctx, nc, js, io.Discard, requestSubject, helloRequest)
			if err != nil {
				t.Fatal(err)
			}
			var log strings.Builder
			if err := (&replier{name: "replier-1", nc: nc, out: &log}).serve(ctx, cons, 1); err != nil {
				t.Fatal(err)
			}
			// DeliverNew: the request stored before any replier was never delivered.
			if want := fmt.Sprintf("replier-1 received request: Hello, Consumers! (seq %d)\n", ack.Sequence); !strings.HasPrefix(log.String(), want) {
				t.Fatalf("run %d: replier printed %q, want %q first", i+1, log.String(), want)
			}
			if err := collectResponses(ctx, responses, io.Discard, 1, 5*time.Second); err != nil {
				t.Fatal(err)
			}
		}
		if names := consumerNames(t, stream); !slices.Equal(names, []string{sharedDurable}) {
			t.Fatalf("after three runs the stream has consumers %v, want only %q", names, sharedDurable)
		}

		// While no replier runs, a request is stored; the next run resumes
		// from the consumer's ack floor and answers it.
		_, ack, err := sendRequest(ctx, nc, js, io.Discard, requestSubject, "while no replier ran")
		if err != nil {
			t.Fatal(err)
		}
		cons, err := replierConsumer(ctx, stream, requestSubject, "replier-1", false)
		if err != nil {
			t.Fatal(err)
		}
		msg, meta := next(t, cons)
		if meta.Sequence.Stream != ack.Sequence || string(msg.Data()) != "while no replier ran" {
			t.Fatalf("restarted replier got seq %d %q, want seq %d", meta.Sequence.Stream, msg.Data(), ack.Sequence)
		}
	})
}

// C34: the seed's "expected_responses = 1 # Set this based on the number of
// consumers" is misleading. The number of responses is the number of
// consumers, not of repliers: repliers sharing one consumer answer each
// request once; a consumer per replier (the seed's way, -fanout) answers it
// once per replier.
func TestC34_ResponsesPerRequestIsTheNumberOfConsumers(t *testing.T) {
	nc, js, stream := newExampleStream(t)
	ctx := jstest.Context(t)
	shared, err := responsesFromTwoRepliers(ctx, nc, js, stream, false, 4)
	if err != nil {
		t.Fatal(err)
	}
	fanout, err := responsesFromTwoRepliers(ctx, nc, js, stream, true, 4)
	if err != nil {
		t.Fatal(err)
	}
	if shared != 4 || fanout != 8 {
		t.Fatalf("4 requests to two repliers: %d responses sharing a consumer, %d with -fanout; want 4 and 8", shared, fanout)
	}
	// During the -fanout round the shared consumer was there too, with
	// nobody reading it: three consumers, two read, two responses a request.
	if names := consumerNames(t, stream); !slices.Equal(names, []string{"replier-1", "replier-2", sharedDurable}) {
		t.Fatalf("consumers %v, want replier-1, replier-2 and %s", names, sharedDurable)
	}

	// The requester's -expect 2 is met by two -fanout repliers, not by two
	// repliers sharing the consumer.
	for _, fanout := range []bool{true, false} {
		ctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 2)
		for _, name := range []string{"replier-1", "replier-2"} {
			cons, err := replierConsumer(ctx, stream, requestSubject, name, fanout)
			if err != nil {
				t.Fatal(err)
			}
			go func() { done <- (&replier{name: name, nc: nc, out: io.Discard}).serve(ctx, cons, 0) }()
		}
		// Two answers end the wait as soon as they arrive, so that case can
		// afford a long timeout; proving that a second answer never comes
		// takes a wait, kept short.
		timeout := 500 * time.Millisecond
		if fanout {
			timeout = jstest.Deadline
		}
		err := streamRequest(ctx, nc, js, io.Discard, requestSubject, helloRequest, 2, timeout)
		cancel()
		for range 2 {
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Fatal(err)
			}
		}
		switch {
		case fanout && err != nil:
			t.Fatalf("-expect 2 with two -fanout repliers: %v", err)
		case !fanout && (err == nil || !strings.Contains(err.Error(), "received 1 of 2 expected responses")):
			t.Fatalf("-expect 2 with two repliers sharing a consumer: %v, want 1 of 2", err)
		}
	}
}

// C35: a seed replier that fails never acks, so the request comes back after
// AckWait (30 s in nats-py, after the requester's 5 s are long over) without
// end. The chapter settles every delivery: Nak for a failure that may pass,
// Term for a request that can never succeed, and MaxDeliver as the backstop.
func TestC35_AFailingReplierDoesNotLoopForever(t *testing.T) {
	t.Run("the seed's consumer redelivers without end", func(t *testing.T) {
		_, js, stream := newExampleStream(t)
		ctx := jstest.Context(t)
		cons := seedConsumer(t, stream)
		if got := cons.CachedInfo().Config.AckWait; got != 30*time.Second || got < defaultTimeout {
			t.Fatalf("the seed's AckWait is %s", got)
		}
		if got := cons.CachedInfo().Config.MaxDeliver; got != -1 {
			t.Fatalf("the seed's MaxDeliver is %d, want -1 (unlimited)", got)
		}
		cfg := cons.CachedInfo().Config
		cfg.AckWait = 50 * time.Millisecond // instead of 30 s, to keep the test fast
		if cons, err := stream.UpdateConsumer(ctx, cfg); err != nil {
			t.Fatal(err)
		} else if _, _, err := sendRequest(ctx, js.Conn(), js, io.Discard, requestSubject, helloRequest); err != nil {
			t.Fatal(err)
		} else {
			for want := uint64(1); want <= maxDeliver+2; want++ { // a failing replier: no ack
				_, meta := next(t, cons)
				if meta.Sequence.Stream != 1 || meta.NumDelivered != want {
					t.Fatalf("delivery: seq %d for the %d. time, want seq 1 for the %d. time", meta.Sequence.Stream, meta.NumDelivered, want)
				}
			}
		}
	})

	for _, failure := range []string{"crashes (no ack)", "Naks (-fail-first)"} {
		t.Run("MaxDeliver stops a request whose replier always "+failure, func(t *testing.T) {
			maxDeliverStopsRedelivery(t, failure == "Naks (-fail-first)")
		})
	}

	t.Run("Nak: a transient failure is retried after a delay", func(t *testing.T) {
		nc, js, stream := newExampleStream(t)
		ctx := jstest.Context(t)
		cons, err := replierConsumer(ctx, stream, requestSubject, "replier-1", false)
		if err != nil {
			t.Fatal(err)
		}
		responses, _, err := sendRequest(ctx, nc, js, io.Discard, requestSubject, helloRequest)
		if err != nil {
			t.Fatal(err)
		}
		var log strings.Builder
		r := &replier{name: "replier-1", nc: nc, out: &log, failFirst: 1}
		msg, _ := next(t, cons)
		nakked := time.Now()
		if err := r.handle(ctx, msg); err != nil {
			t.Fatal(err)
		}
		msg, meta := next(t, cons)
		if waited := time.Since(nakked); meta.NumDelivered != 2 || waited < retryDelay {
			t.Fatalf("after Nak: delivery %d after %s, want delivery 2 after at least %s", meta.NumDelivered, waited, retryDelay)
		}
		if err := r.handle(ctx, msg); err != nil {
			t.Fatal(err)
		}
		if err := collectResponses(ctx, responses, io.Discard, 1, 5*time.Second); err != nil {
			t.Fatal(err)
		}
		want := "replier-1 received request: Hello, Consumers! (seq 1)\n" +
			"replier-1: seq 1 failed for now (-fail-first 1): Nak, deliver it again in 250ms\n" +
			"replier-1 received request: Hello, Consumers! (seq 1, delivery 2 of at most 3)\n" +
			"replier-1 sending response: Response from replier-1 : HELLO, CONSUMERS!\n"
		if log.String() != want {
			t.Fatalf("replier printed:\n%s\nwant:\n%s", log.String(), want)
		}
	})

	t.Run("Term: a request that can never succeed is not delivered again", func(t *testing.T) {
		nc, js, stream := newExampleStream(t)
		ctx := jstest.Context(t)
		cons, err := replierConsumer(ctx, stream, requestSubject, "replier-1", false)
		if err != nil {
			t.Fatal(err)
		}
		cfg := cons.CachedInfo().Config
		cfg.AckWait = 50 * time.Millisecond // a request that was not settled would come back fast
		if cons, err = stream.UpdateConsumer(ctx, cfg); err != nil {
			t.Fatal(err)
		}
		terminated := advisories(t, nc, "MSG_TERMINATED")
		r := &replier{name: "replier-1", nc: nc, out: io.Discard}

		if err := nc.Publish(requestSubject, []byte("no header")); err != nil { // as 04-pubsub publish does
			t.Fatal(err)
		}
		msg, _ := next(t, cons)
		if err := r.handle(ctx, msg); err != nil {
			t.Fatal(err)
		}
		if a := nextAdvisory(t, terminated); a.StreamSeq != 1 || a.Reason != "no reply-to header" {
			t.Fatalf("advisory %+v, want seq 1 terminated for having no reply-to header", a)
		}

		responses, _, err := sendRequest(ctx, nc, js, io.Discard, requestSubject, "")
		if err != nil {
			t.Fatal(err)
		}
		msg, meta := next(t, cons)
		if meta.Sequence.Stream != 2 {
			t.Fatalf("after Term: seq %d delivered, want the next request, seq 2", meta.Sequence.Stream)
		}
		if err := r.handle(ctx, msg); err != nil {
			t.Fatal(err)
		}
		if a := nextAdvisory(t, terminated); a.StreamSeq != 2 || a.Reason != "empty request: nothing to upper-case" {
			t.Fatalf("advisory %+v, want seq 2 terminated as an empty request", a)
		}
		err = collectResponses(ctx, responses, io.Discard, 1, 5*time.Second)
		if err == nil || err.Error() != "the replier answered with an error: empty request: nothing to upper-case" {
			t.Fatalf("requester of an empty request: %v, want the replier's error reply", err)
		}

		if _, _, err := sendRequest(ctx, nc, js, io.Discard, requestSubject, "the next request"); err != nil {
			t.Fatal(err)
		}
		if _, meta := next(t, cons); meta.Sequence.Stream != 3 || meta.NumDelivered != 1 {
			t.Fatalf("after two Terms: seq %d delivery %d, want seq 3", meta.Sequence.Stream, meta.NumDelivered)
		}
	})

	// The real AckWait of 2 s here: the point is that it is shorter than the
	// requester's 5 s.
	t.Run("a crashed replier's request reaches another replier in time", func(t *testing.T) {
		if ackWait >= defaultTimeout {
			t.Fatalf("AckWait %s is not shorter than the requester's %s", ackWait, defaultTimeout)
		}
		nc, js, stream := newExampleStream(t)
		ctx := jstest.Context(t)
		cons, err := replierConsumer(ctx, stream, requestSubject, "replier-1", false)
		if err != nil {
			t.Fatal(err)
		}
		responses, _, err := sendRequest(ctx, nc, js, io.Discard, requestSubject, helloRequest)
		if err != nil {
			t.Fatal(err)
		}
		next(t, cons) // replier-1 takes the request and dies before it answers
		var log strings.Builder
		if err := (&replier{name: "replier-2", nc: nc, out: &log}).serve(ctx, cons, 1); err != nil {
			t.Fatal(err)
		}
		if err := collectResponses(ctx, responses, io.Discard, 1, defaultTimeout); err != nil {
			t.Fatalf("the requester, waiting its default %s: %v", defaultTimeout, err)
		}
		if want := "replier-2 received request: Hello, Consumers! (seq 1, delivery 2 of at most 3)\n"; !strings.HasPrefix(log.String(), want) {
			t.Fatalf("replier-2 printed %q, want %q first", log.String(), want)
		}
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

// maxDeliverStopsRedelivery lets the chapter's consumer deliver a request
// maxDeliver times, each time unsettled (a crash) or Nak'd by the replier.
func maxDeliverStopsRedelivery(t *testing.T, nak bool) {
	nc, js, stream := newExampleStream(t)
	ctx := jstest.Context(t)
	cons, err := replierConsumer(ctx, stream, requestSubject, "replier-1", false)
	if err != nil {
		t.Fatal(err)
	}
	cfg := cons.CachedInfo().Config
	cfg.AckWait = 50 * time.Millisecond // instead of 2 s: a replier that crashes comes back fast
	if cons, err = stream.UpdateConsumer(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	gaveUp := advisories(t, nc, "MAX_DELIVERIES")
	if _, _, err := sendRequest(ctx, nc, js, io.Discard, requestSubject, helloRequest); err != nil {
		t.Fatal(err)
	}
	r := &replier{name: "replier-1", nc: nc, out: io.Discard, failFirst: maxDeliver + 1}
	for want := uint64(1); want <= maxDeliver; want++ {
		msg, meta := next(t, cons)
		if meta.Sequence.Stream != 1 || meta.NumDelivered != want {
			t.Fatalf("delivery: seq %d for the %d. time, want seq 1 for the %d. time", meta.Sequence.Stream, meta.NumDelivered, want)
		}
		if nak {
			if err := r.handle(ctx, msg); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A replier keeps pulling. Once seq 1 is due again (AckWait after a
	// crash, the Nak's delay), the next pull finds it out of deliveries: the
	// server reports it with an advisory and never delivers it again.
	if _, _, err := sendRequest(ctx, nc, js, io.Discard, requestSubject, "the next request"); err != nil {
		t.Fatal(err)
	}
	var delivered []uint64
	jstest.Eventually(t, func() error {
		batch, err := cons.Fetch(1, jetstream.FetchMaxWait(100*time.Millisecond))
		if err != nil {
			return err
		}
		for msg := range batch.Messages() {
			meta, err := msg.Metadata()
			if err != nil {
				return err
			}
			delivered = append(delivered, meta.Sequence.Stream)
			if err := msg.DoubleAck(ctx); err != nil {
				return err
			}
		}
		if pending, _, err := gaveUp.Pending(); err != nil || pending == 0 || len(delivered) == 0 {
			return fmt.Errorf("delivered %v, and no MAX_DELIVERIES advisory yet (%v)", delivered, err)
		}
		return nil
	})
	if !slices.Equal(delivered, []uint64{2}) {
		t.Fatalf("after MaxDeliver, the replier was given seqs %v, want only the next request, seq 2", delivered)
	}
	if a := nextAdvisory(t, gaveUp); a.StreamSeq != 1 || a.Deliveries != maxDeliver {
		t.Fatalf("advisory %+v, want seq 1 after %d deliveries", a, maxDeliver)
	}
}

// blockingWriter stands in for a replier busy with a slow request: its
// first write signals busy, then blocks until release is closed.
type blockingWriter struct {
	busy, release chan struct{}
	once          bool
}

func (w *blockingWriter) Write(p []byte) (int, error) {
	if !w.once {
		w.once = true
		close(w.busy)
		<-w.release
	}
	return len(p), nil
}

// The chapter says that PullMaxMessages(1) keeps a busy replier from sitting
// on requests that an idle replier sharing the consumer could answer.
func TestBusyReplierHoldsNoQueuedRequests(t *testing.T) {
	nc, js, stream := newExampleStream(t)
	ctx, cancel := context.WithCancel(jstest.Context(t))
	defer cancel()
	cons, err := replierConsumer(ctx, stream, requestSubject, "replier-1", false)
	if err != nil {
		t.Fatal(err)
	}
	busy := &blockingWriter{busy: make(chan struct{}), release: make(chan struct{})}
	done := make(chan error, 2)
	go func() { done <- (&replier{name: "replier-1", nc: nc, out: busy}).serve(ctx, cons, 0) }()
	if _, _, err := sendRequest(ctx, nc, js, io.Discard, requestSubject, "a slow request"); err != nil {
		t.Fatal(err)
	}
	<-busy.busy // replier-1 is handling it, and stays busy
	go func() { done <- (&replier{name: "replier-2", nc: nc, out: io.Discard}).serve(ctx, cons, 0) }()
	jstest.Eventually(t, func() error {
		info, err := cons.Info(ctx)
		if err != nil {
			return err
		}
		if info.NumWaiting != 1 {
			return fmt.Errorf("%d pull requests waiting, want replier-2's only", info.NumWaiting)
		}
		return nil
	})
	for i := range 4 { // well within AckWait: no redelivery can help
		var out strings.Builder
		if err := streamRequest(ctx, nc, js, &out, requestSubject, helloRequest, 1, ackWait/2); err != nil {
			t.Fatalf("request %d while replier-1 is busy: %v", i+1, err)
		}
		if !strings.Contains(out.String(), "Response from replier-2") {
			t.Fatalf("request %d: %s", i+1, out.String())
		}
	}
	close(busy.release)
	cancel()
	for range 2 {
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatal(err)
		}
	}
}

// The page: a consumer's DeliverPolicy applies when it is created and cannot
// be changed. A replier asking for another policy on the existing consumer
// gets the server's refusal, not a consumer that starts elsewhere.
func TestDeliverPolicyCannotChange(t *testing.T) {
	_, _, stream := newExampleStream(t)
	ctx := jstest.Context(t)
	cons, err := replierConsumer(ctx, stream, requestSubject, "replier-1", false)
	if err != nil {
		t.Fatal(err)
	}
	cfg := cons.CachedInfo().Config
	cfg.DeliverPolicy = jetstream.DeliverAllPolicy
	if _, err := stream.CreateOrUpdateConsumer(ctx, cfg); err == nil || !strings.Contains(err.Error(), "deliver policy can not be updated") {
		t.Fatalf("CreateOrUpdateConsumer with DeliverAll on the DeliverNew consumer: %v, want deliver policy can not be updated", err)
	}
	if _, err := replierConsumer(ctx, stream, requestSubject, "replier-1", false); err != nil {
		t.Fatalf("the same configuration again: %v", err)
	}
}

// The page: the replier's error reply uses the header that NATS services
// (the nats.go micro package) use for errors.
func TestErrorHeaderIsTheServicesErrorHeader(t *testing.T) {
	if errorHeader != micro.ErrorHeader {
		t.Fatalf("errorHeader %q, micro.ErrorHeader %q", errorHeader, micro.ErrorHeader)
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

// The code comment in handle: a request in hand is finished even after
// Ctrl+C. Here the context ends while the replier is handling a request: the
// response still reaches the requester, and the ack reaches the server.
func TestARequestInHandIsFinishedAfterCtrlC(t *testing.T) {
	nc, js, stream := newExampleStream(t)
	ctx := jstest.Context(t)
	cons, err := replierConsumer(ctx, stream, requestSubject, "replier-1", false)
	if err != nil {
		t.Fatal(err)
	}
	responses, ack, err := sendRequest(ctx, nc, js, io.Discard, requestSubject, helloRequest)
	if err != nil {
		t.Fatal(err)
	}
	busy := &blockingWriter{busy: make(chan struct{}), release: make(chan struct{})}
	replierCtx, ctrlC := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- (&replier{name: "replier-1", nc: nc, out: busy}).serve(replierCtx, cons, 0) }()
	<-busy.busy // handle has the request
	ctrlC()
	close(busy.release)
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("serve after Ctrl+C: %v, want context.Canceled once the request in hand is done", err)
	}
	if err := collectResponses(ctx, responses, io.Discard, 1, 5*time.Second); err != nil {
		t.Fatalf("the requester: %v", err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.AckFloor.Stream != ack.Sequence || info.NumAckPending != 0 {
		t.Fatalf("ack floor %d with %d acks pending, want %d and 0", info.AckFloor.Stream, info.NumAckPending, ack.Sequence)
	}
}

// The page: Messages() with its defaults asks for up to 500 messages ahead,
// so a replier busy with one request also holds every request that arrives
// meanwhile: the server has delivered them to it, and none is left for a
// replier sharing the consumer. TestBusyReplierHoldsNoQueuedRequests shows
// the fix, PullMaxMessages(1).
func TestDefaultMessagesHoldsQueuedRequests(t *testing.T) {
	if jetstream.DefaultMaxMessages != 500 {
		t.Fatalf("jetstream.DefaultMaxMessages is %d, want 500", jetstream.DefaultMaxMessages)
	}
	nc, js, stream := newExampleStream(t)
	ctx := jstest.Context(t)
	cons, err := replierConsumer(ctx, stream, requestSubject, "replier-1", false)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := cons.Messages() // the defaults
	if err != nil {
		t.Fatal(err)
	}
	defer msgs.Stop()
	if _, _, err := sendRequest(ctx, nc, js, io.Discard, requestSubject, "a slow request"); err != nil {
		t.Fatal(err)
	}
	inHand, err := msgs.Next(jetstream.NextContext(ctx)) // busy with it, not acked yet
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, _, err := sendRequest(ctx, nc, js, io.Discard, requestSubject, helloRequest); err != nil {
			t.Fatal(err)
		}
	}
	jstest.Eventually(t, func() error {
		info, err := cons.Info(ctx)
		if err != nil {
			return err
		}
		if info.NumAckPending != 4 || info.NumPending != 0 {
			return fmt.Errorf("%d requests delivered and unacked, %d waiting for a replier; want 4 and 0", info.NumAckPending, info.NumPending)
		}
		return nil
	})
	if err := inHand.DoubleAck(ctx); err != nil {
		t.Fatal(err)
	}
}
