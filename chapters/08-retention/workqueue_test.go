package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/nats.go/jetstream"
)

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
	// No waiting: on one server, DoubleAck returns after the removal
	// (TestDoubleAckReturnsAfterTheRemoval).
	doubleAck(t, msgs[1])
	if got := state(t, stream).Msgs; got != 2 {
		t.Fatalf("%d messages right after seq 2's DoubleAck, want 2", got)
	}
	hasSeqs(t, stream, map[uint64]bool{1: true, 2: false, 3: true})
	doubleAck(t, msgs[0], msgs[2])
	if got := state(t, stream).Msgs; got != 0 {
		t.Fatalf("%d messages right after every DoubleAck, want 0", got)
	}
}

// On one server, the server removes the message an ack releases before it
// answers the DoubleAck: the count read right after is final, for both
// retention policies that remove on ack and both storage types, and for the
// last of two interest consumers. Each case runs many times, since a
// removal that only usually came first would still pass once.
func TestDoubleAckReturnsAfterTheRemoval(t *testing.T) {
	const tries = 100
	_, js := jstest.Connect(t, jstest.Server(t))
	ctx := jstest.Context(t)
	for _, retention := range []jetstream.RetentionPolicy{jetstream.InterestPolicy, jetstream.WorkQueuePolicy} {
		for _, storage := range []jetstream.StorageType{jetstream.FileStorage, jetstream.MemoryStorage} {
			name := fmt.Sprintf("%s_%s", retention, storage)
			stream, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{name}, Retention: retention, Storage: storage})
			if err != nil {
				t.Fatal(err)
			}
			consumers := []string{"reader"}
			if retention == jetstream.InterestPolicy {
				consumers = append(consumers, "auditor") // the message goes on the second ack
			}
			var cons []jetstream.Consumer
			for _, c := range consumers {
				cc, err := durable(ctx, stream, c)
				if err != nil {
					t.Fatal(err)
				}
				cons = append(cons, cc)
			}
			for try := range tries {
				publishN(t, js, name, 1)
				for i, c := range cons {
					doubleAck(t, fetch(t, c, 1)...)
					want := uint64(1)
					if i == len(cons)-1 {
						want = 0
					}
					if got := state(t, stream).Msgs; got != want {
						t.Fatalf("%s, try %d: %d messages right after %s's DoubleAck, want %d", name, try+1, got, consumers[i], want)
					}
				}
			}
		}
	}
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
// work queue refuses AckNone and AckAll consumers: a pull consumer with
// AckNone gets 10084, a push consumer with AckNone or any consumer with
// AckAll gets 10098. It takes AckExplicit and AckFlowControl. A consumer
// must also start at the beginning: DeliverNew and DeliverLast get 10101.
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

	// Besides AckExplicit, the server takes AckFlowControl: a push consumer
	// whose acks are its replies to flow-control messages, as stream
	// sourcing uses. The server's own rules for it: flow control on, a 1s
	// heartbeat, a MaxAckPending.
	flow := jetstream.ConsumerConfig{Durable: "flow", FilterSubject: "jobs.flow", DeliverSubject: "deliver.flow",
		AckPolicy: jetstream.AckFlowControlPolicy, FlowControl: true, IdleHeartbeat: time.Second, MaxAckPending: 10}
	if _, err := js.CreatePushConsumer(ctx, "workqueue", flow); err != nil {
		t.Fatalf("push AckFlowControl: %v, want it created", err)
	}
	if got := state(t, stream).Consumers; got != 1 {
		t.Fatalf("%d consumers, want the AckFlowControl one", got)
	}
}

// C17: a consumer the application creates must ack, but a stream that
// sources a work queue drains it with no application ack at all: the server
// reads the queue through a consumer of its own, which the work-queue rules
// exempt and which acks through flow control.
func TestC17_SourcingDrainsTheQueue(t *testing.T) {
	_, js, queue := newStream(t, jetstream.StreamConfig{Name: "workqueue", Subjects: []string{"jobs"}, Retention: jetstream.WorkQueuePolicy})
	ctx := jstest.Context(t)
	publishN(t, js, "jobs", 3)
	copied, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "copy", Sources: []*jetstream.StreamSource{{Name: "workqueue"}}})
	if err != nil {
		t.Fatal(err)
	}
	waitMsgs(t, copied, 3)
	waitMsgs(t, queue, 0)
	if s := state(t, queue); s.LastSeq != 3 {
		t.Fatalf("the work queue's last seq is %d, want 3", s.LastSeq)
	}
	// The one consumer on the queue is the server's, and acks by flow control.
	var policies []jetstream.AckPolicy
	lister := queue.ListConsumers(ctx)
	for info := range lister.Info() {
		policies = append(policies, info.Config.AckPolicy)
	}
	if err := lister.Err(); err != nil {
		t.Fatal(err)
	}
	if len(policies) != 1 || policies[0] != jetstream.AckFlowControlPolicy {
		t.Fatalf("consumers on the work queue ack by %v, want one consumer with AckFlowControl", policies)
	}
}

// The chapter names its error codes because nats.go v1.55 does not: no
// ErrorCode constant of its jetstream package has any of these values. The
// test reads the package source the build uses, so an upgrade that adds
// one fails here, and the chapter should use nats.go's name instead.
func TestNatsGoHasNoConstantsForTheseCodes(t *testing.T) {
	ours := map[jetstream.ErrorCode]string{
		codeStoreFailed: "codeStoreFailed", codeWQPullNeedsAck: "codeWQPullNeedsAck", codeWQNeedsExplicitAck: "codeWQNeedsExplicitAck",
		codeWQMultipleUnfiltered: "codeWQMultipleUnfiltered", codeWQNotUnique: "codeWQNotUnique", codeWQNotDeliverAll: "codeWQNotDeliverAll",
	}
	out, err := exec.Command("go", "list", "-f", "{{.Dir}}", "github.com/nats-io/nats.go/jetstream").Output()
	if err != nil {
		t.Fatalf("find nats.go's jetstream package: %v", err)
	}
	dir := strings.TrimSpace(string(out))
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	named := 0
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range file.Decls {
			gen, ok := decl.(*ast.GenDecl)
			if !ok || gen.Tok != token.CONST {
				continue
			}
			for _, spec := range gen.Specs {
				vs := spec.(*ast.ValueSpec)
				if typ, ok := vs.Type.(*ast.Ident); !ok || typ.Name != "ErrorCode" {
					continue
				}
				for i, value := range vs.Values {
					lit, ok := value.(*ast.BasicLit)
					if !ok || lit.Kind != token.INT {
						continue
					}
					code, err := strconv.Atoi(lit.Value)
					if err != nil {
						t.Fatal(err)
					}
					named++
					if ours[jetstream.ErrorCode(code)] != "" {
						t.Errorf("nats.go names %d %s (%s); use it instead of %s", code, vs.Names[i].Name, filepath.Base(path), ours[jetstream.ErrorCode(code)])
					}
				}
			}
		}
	}
	if named < 10 {
		t.Fatalf("found only %d ErrorCode constants in %s: the test no longer reads nats.go's codes", named, dir)
	}
}
