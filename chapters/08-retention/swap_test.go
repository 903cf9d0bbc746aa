package main

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/examplestream"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/nats.go/jetstream"
)

// C45: the seed's comment offers LIMITS, INTEREST or WORK_QUEUE as if any
// would do. The server cannot even switch example_stream to or from work
// queue in place (limits to interest it can), so swap deletes the stream,
// and says what that destroyed.
func TestC45_SwapDeletesBecauseWorkQueueCannotBeSetInPlace(t *testing.T) {
	_, js, stream := newStream(t, examplestream.Config())
	ctx := jstest.Context(t)
	publishN(t, js, "my.subject.test", 5)
	if _, err := durable(ctx, stream, "workers"); err != nil {
		t.Fatal(err)
	}
	wq := examplestream.Config()
	wq.Retention = jetstream.WorkQueuePolicy
	_, err := js.UpdateStream(ctx, wq)
	wantCode(t, "update limits to work queue", err, 10052, "stream configuration update can not change retention policy to/from workqueue")
	interest := examplestream.Config()
	interest.Retention = jetstream.InterestPolicy
	if _, err := js.UpdateStream(ctx, interest); err != nil {
		t.Fatalf("update limits to interest in place: %v", err)
	}
	if _, err := js.UpdateStream(ctx, examplestream.Config()); err != nil {
		t.Fatalf("update interest back to limits in place: %v", err)
	}

	var out strings.Builder
	if err := swap(ctx, js, &out, jetstream.WorkQueuePolicy); err != nil {
		t.Fatal(err)
	}
	want := `Deleted stream "example_stream" (limits retention) and with it 5 messages and 1 consumer.
Created stream "example_stream" with workqueue retention, otherwise as chapter 03 configures it.
Now a message goes once a consumer acks it, and each subject may have only one consumer.
`
	if out.String() != want {
		t.Fatalf("swap printed:\n%s\nwant:\n%s", &out, want)
	}
	info, err := js.Stream(ctx, examplestream.Name)
	if err != nil {
		t.Fatal(err)
	}
	got := info.CachedInfo()
	if got.Config.Retention != jetstream.WorkQueuePolicy || got.State.Msgs != 0 || got.State.Consumers != 0 {
		t.Fatalf("after swap: %v retention, %d messages, %d consumers; want workqueue, empty", got.Config.Retention, got.State.Msgs, got.State.Consumers)
	}
	if _, err := js.UpdateStream(ctx, examplestream.Config()); apiCode(err) != 10052 {
		t.Fatalf("update work queue back to limits: %v, want 10052", err)
	}

	out.Reset()
	if err := swap(ctx, js, &out, jetstream.WorkQueuePolicy); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "already has workqueue retention; nothing changed") {
		t.Fatalf("a second swap to the same retention printed:\n%s", &out)
	}
}

// C45: on example_stream swapped to work queue, the consumers chapters 04
// and 05 create are refused: a second chapter 04 subscriber on
// my.subject.test (10100), a chapter 04 subscriber with -new and chapter
// 05's replier, which both start with new messages (10101). Chapter 06's
// workers share one consumer, which a work queue allows. The seed's
// subscriber on my.subject.* blocks every other subject. The transcript
// 08-retention-workqueue.txtar runs the real programs.
func TestC45_WorkQueueRefusesTheOtherChaptersConsumers(t *testing.T) {
	wq := examplestream.Config()
	wq.Retention = jetstream.WorkQueuePolicy
	_, _, stream := newStream(t, wq)
	ctx := jstest.Context(t)
	subscriber := jetstream.ConsumerConfig{FilterSubject: "my.subject.test", AckPolicy: jetstream.AckExplicitPolicy, InactiveThreshold: 10 * time.Second}
	if _, err := stream.CreateConsumer(ctx, subscriber); err != nil {
		t.Fatalf("first chapter 04 subscriber: %v", err)
	}
	_, err := stream.CreateConsumer(ctx, subscriber)
	wantCode(t, "second chapter 04 subscriber", err, codeWQNotUnique, "filtered consumer not unique on workqueue stream")
	onlyNew := subscriber
	onlyNew.DeliverPolicy = jetstream.DeliverNewPolicy
	onlyNew.FilterSubject = "my.subject.other"
	_, err = stream.CreateConsumer(ctx, onlyNew)
	wantCode(t, "chapter 04 subscriber with -new", err, codeWQNotDeliverAll, "consumer must be deliver all on workqueue stream")
	replier := jetstream.ConsumerConfig{Durable: "repliers", FilterSubject: "my.subject.requests", DeliverPolicy: jetstream.DeliverNewPolicy, AckPolicy: jetstream.AckExplicitPolicy}
	_, err = stream.CreateOrUpdateConsumer(ctx, replier)
	wantCode(t, "chapter 05 replier", err, codeWQNotDeliverAll, "consumer must be deliver all on workqueue stream")
	workers := jetstream.ConsumerConfig{Durable: "workers", FilterSubject: "my.subject.tasks", AckPolicy: jetstream.AckExplicitPolicy, AckWait: 30 * time.Second}
	for i := range 2 {
		if _, err := stream.CreateOrUpdateConsumer(ctx, workers); err != nil {
			t.Fatalf("chapter 06 worker %d: %v", i+1, err)
		}
	}

	// The seed's subscriber.py reads my.subject.*, every subject of the
	// stream: on a work queue it leaves no subject for anyone else.
	_, _, seed := newStream(t, wq)
	if _, err := seed.CreateConsumer(ctx, jetstream.ConsumerConfig{FilterSubject: "my.subject.*"}); err != nil {
		t.Fatalf("the seed's subscriber: %v", err)
	}
	for _, filter := range []string{"my.subject.requests", "my.subject.tasks"} {
		_, err := seed.CreateConsumer(ctx, jetstream.ConsumerConfig{FilterSubject: filter})
		wantCode(t, filter+" beside my.subject.*", err, codeWQNotUnique, "filtered consumer not unique on workqueue stream")
	}
}

// The swap role needs a server that outlives it: with NATS_URL unset it
// is a usage error, not a change to a throwaway embedded server.
func TestSwapNeedsARunningServer(t *testing.T) {
	err := run(jstest.Context(t), []string{"swap", "-retention", "interest"}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "swap changes example_stream on a running server") {
		t.Fatalf("swap without a server: %v", err)
	}
}
