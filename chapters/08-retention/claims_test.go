package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/examplestream"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// newStream starts a private server and creates one stream on it.
func newStream(t *testing.T, cfg jetstream.StreamConfig) (*nats.Conn, jetstream.JetStream, jetstream.Stream) {
	t.Helper()
	nc, js := jstest.Connect(t, jstest.Server(t))
	stream, err := js.CreateStream(jstest.Context(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return nc, js, stream
}

// publishN publishes Message 1..n to subject and returns the PubAcks.
func publishN(t *testing.T, js jetstream.JetStream, subject string, n int) []*jetstream.PubAck {
	t.Helper()
	var acks []*jetstream.PubAck
	for i := 1; i <= n; i++ {
		ack, err := js.Publish(jstest.Context(t), subject, fmt.Appendf(nil, "Message %d", i))
		if err != nil {
			t.Fatalf("publish Message %d to %s: %v", i, subject, err)
		}
		acks = append(acks, ack)
	}
	return acks
}

func state(t *testing.T, stream jetstream.Stream) jetstream.StreamState {
	t.Helper()
	info, err := stream.Info(jstest.Context(t))
	if err != nil {
		t.Fatal(err)
	}
	return info.State
}

// waitMsgs waits until the stream stores exactly n messages.
func waitMsgs(t *testing.T, stream jetstream.Stream, n uint64) {
	t.Helper()
	jstest.Eventually(t, func() error {
		if got := state(t, stream).Msgs; got != n {
			return fmt.Errorf("stream %s stores %d messages, want %d", stream.CachedInfo().Config.Name, got, n)
		}
		return nil
	})
}

// fetch delivers n messages from cons, and fails unless exactly n come.
func fetch(t *testing.T, cons jetstream.Consumer, n int) []jetstream.Msg {
	t.Helper()
	batch, err := cons.Fetch(n, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var msgs []jetstream.Msg
	for msg := range batch.Messages() {
		msgs = append(msgs, msg)
	}
	if len(msgs) != n {
		t.Fatalf("fetched %d messages, want %d (%v)", len(msgs), n, batch.Error())
	}
	return msgs
}

func seq(t *testing.T, msg jetstream.Msg) uint64 {
	t.Helper()
	meta, err := msg.Metadata()
	if err != nil {
		t.Fatal(err)
	}
	return meta.Sequence.Stream
}

func doubleAck(t *testing.T, msgs ...jetstream.Msg) {
	t.Helper()
	for _, msg := range msgs {
		if err := msg.DoubleAck(jstest.Context(t)); err != nil {
			t.Fatal(err)
		}
	}
}

// hasSeqs checks which of the stream's sequences are still stored.
func hasSeqs(t *testing.T, stream jetstream.Stream, want map[uint64]bool) {
	t.Helper()
	for s, kept := range want {
		_, err := stream.GetMsg(jstest.Context(t), s)
		switch {
		case kept && err != nil:
			t.Errorf("seq %d: %v, want it still stored", s, err)
		case !kept && !errors.Is(err, jetstream.ErrMsgNotFound):
			t.Errorf("seq %d: %v, want it removed", s, err)
		}
	}
}

func wantCode(t *testing.T, what string, err error, code jetstream.ErrorCode, description string) {
	t.Helper()
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode != code || apiErr.Description != description {
		t.Errorf("%s: %v, want error %d %q", what, err, code, description)
	}
}

// C15: under limits retention, the default, acks remove nothing: a new
// consumer reads every acked message again. Only a limit removes messages.
func TestC15_AcksDoNotRemoveMessages(t *testing.T) {
	// No Retention in the config: limits is the default.
	_, js, stream := newStream(t, jetstream.StreamConfig{Name: "limits", Subjects: []string{"limits"}})
	if got := stream.CachedInfo().Config.Retention; got != jetstream.LimitsPolicy {
		t.Fatalf("default retention %v, want Limits", got)
	}
	ctx := jstest.Context(t)
	publishN(t, js, "limits", 3)
	first, err := durable(ctx, stream, "first")
	if err != nil {
		t.Fatal(err)
	}
	doubleAck(t, fetch(t, first, 3)...)
	info, err := first.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.AckFloor.Stream != 3 {
		t.Fatalf("ack floor %d, want 3", info.AckFloor.Stream)
	}
	second, err := durable(ctx, stream, "second")
	if err != nil {
		t.Fatal(err)
	}
	msgs := fetch(t, second, 3)
	if got := seq(t, msgs[0]); got != 1 {
		t.Fatalf("a new consumer starts at seq %d, want 1", got)
	}
	if got := state(t, stream).Msgs; got != 3 {
		t.Fatalf("%d messages after every ack, want 3", got)
	}
}

// C15: at MaxMsgs, DiscardOld (the default) removes the oldest message to
// make room, and every publish succeeds.
func TestC15_DiscardOldRemovesTheOldest(t *testing.T) {
	_, js := jstest.Connect(t, jstest.Server(t))
	stream, err := limitedStream(jstest.Context(t), js, "old", jetstream.DiscardOld)
	if err != nil {
		t.Fatal(err)
	}
	if got := stream.CachedInfo().Config.Discard; got != jetstream.DiscardOld {
		t.Fatalf("discard %v, want DiscardOld", got)
	}
	// DiscardOld is also what a stream gets when its config says nothing.
	plain, err := js.CreateStream(jstest.Context(t), jetstream.StreamConfig{Name: "plain", Subjects: []string{"plain"}, MaxMsgs: 3})
	if err != nil {
		t.Fatal(err)
	}
	if got := plain.CachedInfo().Config.Discard; got != jetstream.DiscardOld {
		t.Fatalf("default discard %v, want DiscardOld", got)
	}
	if acks := publishN(t, js, "old", 5); acks[4].Sequence != 5 {
		t.Fatalf("fifth PubAck seq %d, want 5", acks[4].Sequence)
	}
	if s := state(t, stream); s.Msgs != 3 || s.FirstSeq != 3 || s.LastSeq != 5 {
		t.Fatalf("%d messages, seq %d to %d; want 3, seq 3 to 5", s.Msgs, s.FirstSeq, s.LastSeq)
	}
}

// C15: with DiscardNew, a full stream refuses the publish with error 10077:
// "maximum messages exceeded" at MaxMsgs, "maximum bytes exceeded" at
// MaxBytes. MaxBytes counts whole records (chapter 03, C24): room for
// exactly three records takes exactly three messages.
func TestC15_DiscardNewRefusesThePublish(t *testing.T) {
	_, js := jstest.Connect(t, jstest.Server(t))
	ctx := jstest.Context(t)
	stream, err := limitedStream(ctx, js, "new", jetstream.DiscardNew)
	if err != nil {
		t.Fatal(err)
	}
	publishN(t, js, "new", 3)
	_, err = js.Publish(ctx, "new", []byte("Message 4"))
	wantCode(t, "fourth publish at MaxMsgs 3", err, codeStoreFailed, "maximum messages exceeded")
	if s := state(t, stream); s.Msgs != 3 || s.FirstSeq != 1 || s.LastSeq != 3 {
		t.Fatalf("%d messages, seq %d to %d; want 3, seq 1 to 3", s.Msgs, s.FirstSeq, s.LastSeq)
	}

	const subject, payload = "bytes", "Message 1"
	record := int64(22 + len(subject) + len(payload) + 8) // a file record, as in C24
	bytes, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "bytes", Subjects: []string{subject}, MaxBytes: 3 * record, Discard: jetstream.DiscardNew})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		if _, err := js.Publish(ctx, subject, []byte(payload)); err != nil {
			t.Fatalf("publish %d of 3 that fit: %v", i, err)
		}
	}
	_, err = js.Publish(ctx, subject, []byte(payload))
	wantCode(t, "fourth publish at MaxBytes of three records", err, codeStoreFailed, "maximum bytes exceeded")
	if s := state(t, bytes); s.Msgs != 3 || int64(s.Bytes) != 3*record {
		t.Fatalf("%d messages in %d bytes, want 3 in %d", s.Msgs, s.Bytes, 3*record)
	}

	// The chapter's publishOrRefused reports the refusal as an answer.
	var out strings.Builder
	if err := publishOrRefused(ctx, js, &out, "new", "Message 5"); err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), "  Message 5 refused: maximum messages exceeded (10077)\n"; got != want {
		t.Fatalf("publishOrRefused printed %q, want %q", got, want)
	}
}

// C15: MaxAge removes a message once it is older than MaxAge, whether or not
// anyone read it. 100ms is the smallest MaxAge the server accepts; expiry
// runs on a timer, so the wait allows slack instead of sleeping.
func TestC15_MaxAgeRemovesOldMessages(t *testing.T) {
	_, js, stream := newStream(t, jetstream.StreamConfig{Name: "aging", Subjects: []string{"aging"}, MaxAge: 100 * time.Millisecond})
	start := time.Now()
	publishN(t, js, "aging", 3)
	waitMsgs(t, stream, 0)
	elapsed := time.Since(start)
	if elapsed < 100*time.Millisecond {
		t.Fatalf("messages gone after %s, before MaxAge", elapsed)
	}
	t.Logf("3 messages with MaxAge 100ms were gone after %s", elapsed.Round(time.Millisecond))
	if s := state(t, stream); s.LastSeq != 3 || s.FirstSeq != 4 {
		t.Fatalf("after expiry: seq %d to %d, want first 4, last 3 (empty)", s.FirstSeq, s.LastSeq)
	}
}

// C15 and C20: limits apply under every retention policy. A work queue (or
// interest) stream with MaxMsgs and DiscardNew refuses work when full, and
// MaxAge removes a message that a consumer received but never acked.
func TestC15_LimitsApplyUnderEveryPolicy(t *testing.T) {
	_, js := jstest.Connect(t, jstest.Server(t))
	ctx := jstest.Context(t)
	for _, p := range policies[1:] {
		full, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: p.name + "_full", Subjects: []string{p.name + ".full"}, Retention: p.retention, MaxMsgs: 2, Discard: jetstream.DiscardNew})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := durable(ctx, full, "reader"); err != nil {
			t.Fatal(err)
		}
		publishN(t, js, p.name+".full", 2)
		_, err = js.Publish(ctx, p.name+".full", []byte("Message 3"))
		wantCode(t, p.name+": third publish at MaxMsgs 2", err, codeStoreFailed, "maximum messages exceeded")

		aging, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: p.name + "_aging", Subjects: []string{p.name + ".aging"}, Retention: p.retention, MaxAge: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		reader, err := durable(ctx, aging, "reader")
		if err != nil {
			t.Fatal(err)
		}
		publishN(t, js, p.name+".aging", 1)
		fetch(t, reader, 1) // received, never acked
		waitMsgs(t, aging, 0)
	}
}

// C16: interest retention does not keep messages "while active subscribers
// exist". With no consumer, a publish still gets a PubAck with a sequence,
// but nothing is stored, even though a core subscriber received it live: a
// core subscriber is no interest. A consumer filtered on another subject is
// none either.
func TestC16_NoConsumerNothingStored(t *testing.T) {
	nc, js, stream := newStream(t, jetstream.StreamConfig{Name: "interest", Subjects: []string{"interest.*"}, Retention: jetstream.InterestPolicy})
	ctx := jstest.Context(t)
	live, err := nc.SubscribeSync("interest.orders")
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	acks := publishN(t, js, "interest.orders", 2)
	if acks[0].Stream != "interest" || acks[0].Sequence != 1 || acks[1].Sequence != 2 {
		t.Fatalf("PubAcks %+v %+v, want seq 1 and 2 from stream interest", acks[0], acks[1])
	}
	for i := 1; i <= 2; i++ {
		msg, err := live.NextMsg(5 * time.Second)
		if err != nil {
			t.Fatalf("the core subscriber did not get Message %d: %v", i, err)
		}
		if want := fmt.Sprintf("Message %d", i); string(msg.Data) != want {
			t.Fatalf("core subscriber got %q, want %q", msg.Data, want)
		}
	}
	if s := state(t, stream); s.Msgs != 0 || s.LastSeq != 2 || s.Consumers != 0 {
		t.Fatalf("%d messages stored, last seq %d, %d consumers; want 0 stored, last seq 2, no consumer", s.Msgs, s.LastSeq, s.Consumers)
	}

	if _, err := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: "payments", FilterSubject: "interest.payments"}); err != nil {
		t.Fatal(err)
	}
	publishN(t, js, "interest.orders", 1)
	publishN(t, js, "interest.payments", 1)
	if s := state(t, stream); s.Msgs != 1 || s.FirstSeq != 4 {
		t.Fatalf("with a consumer on interest.payments: %d messages from seq %d, want only seq 4 (the payment)", s.Msgs, s.FirstSeq)
	}
}

// C16: a durable consumer counts as interest even while no program reads
// from it: the messages wait for it. They go once it acks them.
func TestC16_DurableWithNobodyConnectedHoldsMessages(t *testing.T) {
	_, js, stream := newStream(t, jetstream.StreamConfig{Name: "interest", Subjects: []string{"interest"}, Retention: jetstream.InterestPolicy})
	ctx := jstest.Context(t)
	if _, err := durable(ctx, stream, "offline"); err != nil {
		t.Fatal(err)
	}
	publishN(t, js, "interest", 3)
	if got := state(t, stream).Msgs; got != 3 {
		t.Fatalf("%d messages held for a durable nobody reads, want 3", got)
	}
	// Later, a program connects to the durable and acks.
	cons, err := stream.Consumer(ctx, "offline")
	if err != nil {
		t.Fatal(err)
	}
	doubleAck(t, fetch(t, cons, 3)...)
	waitMsgs(t, stream, 0)
}

// C16: a message goes only when every consumer acked it. The proof that
// one consumer's acks removed nothing: the server handles acks in order, so
// once seq 3 (acked by both) is gone, seq 1 and 2 (acked by one) would be
// gone too if one ack were enough.
func TestC16_EveryConsumerMustAck(t *testing.T) {
	_, js, stream := newStream(t, jetstream.StreamConfig{Name: "interest", Subjects: []string{"interest"}, Retention: jetstream.InterestPolicy})
	ctx := jstest.Context(t)
	reader, err := durable(ctx, stream, "reader")
	if err != nil {
		t.Fatal(err)
	}
	auditor, err := durable(ctx, stream, "auditor")
	if err != nil {
		t.Fatal(err)
	}
	publishN(t, js, "interest", 3)
	doubleAck(t, fetch(t, reader, 3)...)
	audited := fetch(t, auditor, 3)
	doubleAck(t, audited[2])
	waitMsgs(t, stream, 2)
	hasSeqs(t, stream, map[uint64]bool{1: true, 2: true, 3: false})
	doubleAck(t, audited[:2]...)
	waitMsgs(t, stream, 0)
}

// C16: deleting a consumer removes its interest. Messages that only it still
// had to ack go with it, whether the consumer is deleted on purpose or an
// ephemeral consumer's InactiveThreshold runs out (chapter 04, C29).
func TestC16_DeletingTheLastConsumerReleasesItsMessages(t *testing.T) {
	_, js, stream := newStream(t, jetstream.StreamConfig{Name: "interest", Subjects: []string{"interest"}, Retention: jetstream.InterestPolicy})
	ctx := jstest.Context(t)
	if _, err := durable(ctx, stream, "deleted"); err != nil {
		t.Fatal(err)
	}
	publishN(t, js, "interest", 2)
	if got := state(t, stream).Msgs; got != 2 {
		t.Fatalf("%d messages held for the durable, want 2", got)
	}
	if err := stream.DeleteConsumer(ctx, "deleted"); err != nil {
		t.Fatal(err)
	}
	waitMsgs(t, stream, 0)

	ephemeral, err := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{InactiveThreshold: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	publishN(t, js, "interest", 2)
	if got := state(t, stream).Msgs; got != 2 {
		t.Fatalf("%d messages held for the ephemeral consumer, want 2", got)
	}
	name := ephemeral.CachedInfo().Name
	jstest.Eventually(t, func() error {
		if _, err := stream.Consumer(ctx, name); !errors.Is(err, jetstream.ErrConsumerNotFound) {
			return fmt.Errorf("ephemeral consumer still there (%v)", err)
		}
		return nil
	})
	waitMsgs(t, stream, 0)
}

// C16: an AckNone consumer on an interest stream gives up its interest on
// delivery: there is no ack to wait for.
func TestC16_AckNoneReleasesOnDelivery(t *testing.T) {
	_, js, stream := newStream(t, jetstream.StreamConfig{Name: "interest", Subjects: []string{"interest"}, Retention: jetstream.InterestPolicy})
	cons, err := stream.CreateConsumer(jstest.Context(t), jetstream.ConsumerConfig{Durable: "fire", AckPolicy: jetstream.AckNonePolicy})
	if err != nil {
		t.Fatal(err)
	}
	publishN(t, js, "interest", 2)
	if got := state(t, stream).Msgs; got != 2 {
		t.Fatalf("%d messages before delivery, want 2", got)
	}
	fetch(t, cons, 2)
	waitMsgs(t, stream, 0)
}

// C17: a work queue stores messages with no consumer at all (unlike
// interest), and removes a message when its consumer acks it, not when it
// is delivered. The proof for the unacked ones: seq 2's ack is handled after
// all three deliveries, so once seq 2 is gone, a removal on delivery would
// have taken seq 1 and 3 already.
func TestC17_RemovedOnAckNotOnDelivery(t *testing.T) {
	_, js, stream := newStream(t, jetstream.StreamConfig{Name: "workqueue", Subjects: []string{"jobs"}, Retention: jetstream.WorkQueuePolicy})
	ctx := jstest.Context(t)
	publishN(t, js, "jobs", 3)
	if got := state(t, stream).Msgs; got != 3 {
		t.Fatalf("%d messages stored with no consumer, want 3", got)
	}
	cons, err := durable(ctx, stream, "worker")
	if err != nil {
		t.Fatal(err)
	}
	msgs := fetch(t, cons, 3)
	info, err := cons.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.NumAckPending != 3 {
		t.Fatalf("%d delivered and unacked, want 3", info.NumAckPending)
	}
	doubleAck(t, msgs[1])
	waitMsgs(t, stream, 2)
	hasSeqs(t, stream, map[uint64]bool{1: true, 2: false, 3: true})
	doubleAck(t, msgs[0], msgs[2])
	waitMsgs(t, stream, 0)
}

// C17: a delivered message that is never acked is not lost from a work
// queue: after AckWait (100ms here) the consumer delivers it again.
func TestC17_UnackedMessageIsDeliveredAgain(t *testing.T) {
	_, js, stream := newStream(t, jetstream.StreamConfig{Name: "workqueue", Subjects: []string{"jobs"}, Retention: jetstream.WorkQueuePolicy})
	cons, err := stream.CreateConsumer(jstest.Context(t), jetstream.ConsumerConfig{Durable: "worker", AckPolicy: jetstream.AckExplicitPolicy, AckWait: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	publishN(t, js, "jobs", 1)
	first := fetch(t, cons, 1)[0] // a worker takes it and dies without acking
	again := fetch(t, cons, 1)[0]
	meta, err := again.Metadata()
	if err != nil {
		t.Fatal(err)
	}
	if meta.Sequence.Stream != seq(t, first) || meta.NumDelivered != 2 {
		t.Fatalf("got seq %d, delivery %d; want seq %d again, delivery 2", meta.Sequence.Stream, meta.NumDelivered, seq(t, first))
	}
	if got := state(t, stream).Msgs; got != 1 {
		t.Fatalf("%d messages while the redelivery is unacked, want 1", got)
	}
	doubleAck(t, again)
	waitMsgs(t, stream, 0)
}

// C17: a work queue gives each message to one consumer, so consumers may not
// share subjects: a second consumer without a filter is refused with 10099,
// a filter that overlaps another consumer's with 10100. Disjoint filters
// are fine.
func TestC17_OneConsumerPerSubject(t *testing.T) {
	_, _, stream := newStream(t, jetstream.StreamConfig{Name: "workqueue", Subjects: []string{"jobs.*"}, Retention: jetstream.WorkQueuePolicy})
	ctx := jstest.Context(t)
	if _, err := durable(ctx, stream, "all"); err != nil {
		t.Fatal(err)
	}
	_, err := durable(ctx, stream, "also-all")
	wantCode(t, "second unfiltered consumer", err, codeWQMultipleUnfiltered, "multiple non-filtered consumers not allowed on workqueue stream")
	_, err = stream.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: "email", FilterSubject: "jobs.email"})
	wantCode(t, "filtered consumer beside an unfiltered one", err, codeWQNotUnique, "filtered consumer not unique on workqueue stream")

	if err := stream.DeleteConsumer(ctx, "all"); err != nil {
		t.Fatal(err)
	}
	for _, filter := range []string{"jobs.email", "jobs.sms"} {
		if _, err := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: strings.TrimPrefix(filter, "jobs."), FilterSubject: filter}); err != nil {
			t.Fatalf("disjoint filter %s: %v", filter, err)
		}
	}
	_, err = stream.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: "everything", FilterSubject: "jobs.*"})
	wantCode(t, "filter jobs.* over jobs.email and jobs.sms", err, codeWQNotUnique, "filtered consumer not unique on workqueue stream")
	_, err = stream.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: "email-2", FilterSubject: "jobs.email"})
	wantCode(t, "the same filter again", err, codeWQNotUnique, "filtered consumer not unique on workqueue stream")
	// Several programs on the one consumer is how a work queue is shared
	// (chapter 06): asking for the same consumer again is not a second one.
	if _, err := stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "email", FilterSubject: "jobs.email"}); err != nil {
		t.Fatalf("the same consumer again: %v", err)
	}
}

// C17: "deleted once delivered" is not true even for AckNone, because a
// work queue refuses consumers that do not ack: a pull consumer with
// AckNone gets 10084, a push consumer with AckNone or any consumer with
// AckAll gets 10098. A consumer must also start at the beginning: DeliverNew
// and DeliverLast get 10101.
func TestC17_WorkQueueConsumerRules(t *testing.T) {
	_, js, stream := newStream(t, jetstream.StreamConfig{Name: "workqueue", Subjects: []string{"jobs.*"}, Retention: jetstream.WorkQueuePolicy})
	ctx := jstest.Context(t)
	_, err := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: "a", FilterSubject: "jobs.a", AckPolicy: jetstream.AckNonePolicy})
	wantCode(t, "pull AckNone", err, codeWQPullNeedsAck, "consumer in pull mode requires explicit ack policy on workqueue stream")
	_, err = js.CreatePushConsumer(ctx, "workqueue", jetstream.ConsumerConfig{Durable: "b", FilterSubject: "jobs.b", AckPolicy: jetstream.AckNonePolicy, DeliverSubject: "deliver.b"})
	wantCode(t, "push AckNone", err, codeWQNeedsExplicitAck, "workqueue stream requires explicit ack")
	_, err = stream.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: "c", FilterSubject: "jobs.c", AckPolicy: jetstream.AckAllPolicy})
	wantCode(t, "pull AckAll", err, codeWQNeedsExplicitAck, "workqueue stream requires explicit ack")
	_, err = js.CreatePushConsumer(ctx, "workqueue", jetstream.ConsumerConfig{Durable: "c", FilterSubject: "jobs.c", AckPolicy: jetstream.AckAllPolicy, DeliverSubject: "deliver.c"})
	wantCode(t, "push AckAll", err, codeWQNeedsExplicitAck, "workqueue stream requires explicit ack")
	for _, deliver := range []jetstream.DeliverPolicy{jetstream.DeliverNewPolicy, jetstream.DeliverLastPolicy} {
		_, err = stream.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: "d", FilterSubject: "jobs.d", DeliverPolicy: deliver})
		wantCode(t, deliver.String(), err, codeWQNotDeliverAll, "consumer must be deliver all on workqueue stream")
	}
	if got := state(t, stream).Consumers; got != 0 {
		t.Fatalf("%d consumers were created, want none", got)
	}
}

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
