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

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/examplestream"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
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

// The requester's comment: it subscribes to its inbox and stores the
// request with no Flush between. A server handles one connection's messages
// in order, so the inbox has its subscriber before the request reaches the
// stream. Here a core subscriber on another connection answers each request
// as soon as the server routes it, before the stream's PubAck even reaches
// the requester: every answer still arrives.
func TestTheInboxIsReadyBeforeTheRequestIsStored(t *testing.T) {
	nc, js, _ := newExampleStream(t)
	ctx := jstest.Context(t)
	fast, err := nats.Connect(nc.ConnectedUrl())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fast.Close)
	if _, err := fast.Subscribe(requestSubject, func(msg *nats.Msg) {
		if err := fast.Publish(msg.Header.Get(replyToHeader), []byte("fast")); err != nil {
			t.Errorf("answer: %v", err)
		}
	}); err != nil {
		t.Fatal(err)
	}
	if err := fast.Flush(); err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		responses, _, err := sendRequest(ctx, nc, js, io.Discard, requestSubject, helloRequest)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := responses.NextMsg(jstest.Deadline); err != nil {
			t.Fatalf("request %d: the answer sent as soon as the request arrived: %v", i+1, err)
		}
		if err := responses.Unsubscribe(); err != nil {
			t.Fatal(err)
		}
	}
}

// C33: replier.py creates a durable consumer_<uuid4> on every run. These
// durables have no inactivity threshold, so they pile up, and each new one
// (DeliverAll) replays every stored request to inboxes whose requesters are
// gone. The chapter's fixed name, created with CreateOrUpdateConsumer, is
// reused.
func TestC33_RestartedRepliersReuseOneConsumer(t *testing.T) {
	t.Parallel() // the seed's way waits out an inactivity threshold
	t.Run("the seed's way", func(t *testing.T) {
		t.Parallel()
		_, js, stream := newExampleStream(t)
		ctx := jstest.Context(t)
		var seeds []string
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
			seeds = append(seeds, cons.CachedInfo().Name)
		}

		// The durables outlive an ephemeral consumer created after their last
		// use with a threshold of 6 s, longer than the 5 s (plus up to 1 s)
		// that an ephemeral gets by default: idle, they are never removed.
		idle, err := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{
			FilterSubject:     requestSubject,
			InactiveThreshold: 6 * time.Second,
		})
		if err != nil {
			t.Fatal(err)
		}
		// Wait until the stream no longer lists it: under load, a lookup
		// once said "not found" while the list still named it.
		jstest.Eventually(t, func() error {
			if names := consumerNames(t, stream); slices.Contains(names, idle.CachedInfo().Name) {
				return fmt.Errorf("the idle ephemeral consumer is still listed: %v", names)
			}
			return nil
		})
		slices.Sort(seeds)
		if names := consumerNames(t, stream); !slices.Equal(names, seeds) {
			t.Fatalf("after three runs and 6 s idle, the stream has consumers %v, want the three seed durables %v", names, seeds)
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
		t.Parallel()
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
