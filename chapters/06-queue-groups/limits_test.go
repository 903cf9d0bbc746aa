package main

import (
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/examplestream"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Under limits retention, MaxAge removes a message whether or not a worker
// holds it. example_stream keeps messages nine seconds; this copy keeps them
// 100 ms. A worker takes the task and dies without acking, with the
// worker's default AckWait of 30 s: the task is gone long before AckWait
// could hand it to anyone, and the consumer counts it as done. A worker
// started later with a short -ack-wait gets nothing either.
func TestAHeldTaskExpiresWithTheStream(t *testing.T) {
	_, js := jstest.Connect(t, jstest.Server(t))
	ctx := jstest.Context(t)
	config := examplestream.Config()
	config.MaxAge = 100 * time.Millisecond
	stream, err := js.CreateStream(ctx, config)
	if err != nil {
		t.Fatal(err)
	}
	cons, err := sharedConsumer(ctx, stream, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := publish(ctx, js, io.Discard, tasksSubject, 1, 0); err != nil {
		t.Fatal(err)
	}
	// worker-1 takes the task, then crashes: no ack, no Nak, no progress.
	if _, err := cons.Next(jetstream.FetchContext(ctx)); err != nil {
		t.Fatal(err)
	}
	took := time.Now()
	// jstest's deadline (20 s) is shorter than AckWait (30 s): whatever
	// happens here happens before any redelivery could.
	jstest.Eventually(t, func() error {
		info, err := stream.Info(ctx)
		if err != nil {
			return err
		}
		if info.State.Msgs != 0 {
			return fmt.Errorf("the stream still holds %d messages", info.State.Msgs)
		}
		return nil
	})
	t.Logf("the held task expired %s after it was taken", time.Since(took).Round(time.Millisecond))
	// The server settles the consumer's side of the removal on a goroutine
	// of its own (decStreamPending), after the stream's count has dropped:
	// wait for it. Still within the 20 s, before any AckWait could pass.
	jstest.Eventually(t, func() error {
		info, err := cons.Info(ctx)
		if err != nil {
			return err
		}
		if info.NumAckPending != 0 || info.NumPending != 0 || info.NumRedelivered != 0 || info.AckFloor.Stream != 1 {
			return fmt.Errorf("consumer after the expiry: %d held, %d pending, %d redelivered, ack floor %d; want 0, 0, 0 and 1 (counted as done)",
				info.NumAckPending, info.NumPending, info.NumRedelivered, info.AckFloor.Stream)
		}
		return nil
	})

	// worker-2 starts with -ack-wait 200ms, which sets it for the consumer,
	// and waits a whole second: the task does not come back.
	cons, err = sharedConsumer(ctx, stream, 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.Fetch(1, jetstream.FetchMaxWait(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for msg := range batch.Messages() {
		t.Fatalf("worker-2 got %q after the stream had removed it", msg.Data())
	}
	if err := batch.Error(); err != nil {
		t.Fatal(err)
	}
}

// MaxAckPending is the consumer's, not a worker's: it caps the tasks
// handed out and not yet acked across all workers together. It is 1000
// unless set. At 1, a second worker that asks gets nothing while the first
// holds a task, with a pull consumer and with a push consumer alike.
func TestMaxAckPendingIsSharedByAllWorkers(t *testing.T) {
	_, js, stream := newExampleStream(t)
	ctx := jstest.Context(t)
	cons, err := sharedConsumer(ctx, stream, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got := cons.CachedInfo().Config.MaxAckPending; got != 1000 {
		t.Fatalf("the shared consumer's MaxAckPending is %d, want the default 1000", got)
	}
	t.Run("pull", func(t *testing.T) {
		const subject = "my.subject.pull"
		one, err := stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "pull-one", FilterSubject: subject,
			AckPolicy: jetstream.AckExplicitPolicy, MaxAckPending: 1})
		if err != nil {
			t.Fatal(err)
		}
		if err := publish(ctx, js, io.Discard, subject, 2, 0); err != nil {
			t.Fatal(err)
		}
		held, err := one.Next(jetstream.FetchContext(ctx)) // worker-1 holds task 1
		if err != nil {
			t.Fatal(err)
		}
		// worker-2 asks for a task and waits a second: none, though one is stored.
		batch, err := one.Fetch(1, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for msg := range batch.Messages() {
			t.Fatalf("worker-2 got %q while worker-1 held a task", msg.Data())
		}
		if err := batch.Error(); err != nil {
			t.Fatal(err)
		}
		// NumPending counts a new message on the server's own time: wait for it.
		jstest.Eventually(t, func() error {
			info, err := one.Info(ctx)
			if err != nil {
				return err
			}
			if info.NumAckPending != 1 || info.NumPending != 1 {
				return fmt.Errorf("%d held, %d stored and waiting; want 1 and 1", info.NumAckPending, info.NumPending)
			}
			return nil
		})
		// Once worker-1 acks, worker-2 gets task 2.
		if err := held.DoubleAck(ctx); err != nil {
			t.Fatal(err)
		}
		next, err := one.Next(jetstream.FetchMaxWait(5 * time.Second))
		if err != nil {
			t.Fatalf("worker-2 after worker-1 acked: %v", err)
		}
		if string(next.Data()) != "Message 2" {
			t.Fatalf("worker-2 got %q, want Message 2", next.Data())
		}
	})

	t.Run("push with a deliver group", func(t *testing.T) {
		const subject = "my.subject.push"
		config := jetstream.ConsumerConfig{Durable: "push-one", DeliverGroup: "push-one", DeliverSubject: "deliver.push-one",
			FilterSubject: subject, AckPolicy: jetstream.AckExplicitPolicy, MaxAckPending: 1}
		received := make(chan jetstream.Msg, 2)
		for range 2 { // two workers; each keeps what it gets, unacked, for the test to ack
			cons, err := js.CreateOrUpdatePushConsumer(ctx, examplestream.Name, config)
			if err != nil {
				t.Fatal(err)
			}
			cc, err := cons.Consume(func(msg jetstream.Msg) { received <- msg })
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(cc.Stop)
		}
		if err := publish(ctx, js, io.Discard, subject, 2, 0); err != nil {
			t.Fatal(err)
		}
		held := <-received
		select {
		case msg := <-received:
			t.Fatalf("a worker got %q while another held %q", msg.Data(), held.Data())
		case <-time.After(time.Second): // a second with nothing pushed
		}
		if err := held.DoubleAck(ctx); err != nil {
			t.Fatal(err)
		}
		select {
		case msg := <-received:
			if string(msg.Data()) != "Message 2" {
				t.Fatalf("after the ack, a worker got %q, want Message 2", msg.Data())
			}
		case <-ctx.Done():
			t.Fatal("task 2 was not pushed after task 1 was acked")
		}
	})
}

// A core NATS queue group picks a member at random for each message
// (nats-server's weightedQSubIndex: uniformly among the members on one
// server), whether or not that member is still busy with the last one.
// Two members whose handlers are stuck on their first message: of 40
// messages, each still gets more queued behind the one in hand. Then, let
// go, they show who got which: a server that took turns would alternate
// strictly, and a random pick gives the same member two messages in a row
// somewhere (all but 2 of the 2^40 ways to split them).
func TestCoreQueueGroupPicksAMemberAtRandomBusyOrNot(t *testing.T) {
	nc, _ := jstest.Connect(t, jstest.Server(t))
	const subject, n = "tasks.core", 40
	release := make(chan struct{})
	var mu sync.Mutex
	inHand := 0
	owner := map[int]int{} // message number -> the member that got it
	var started [2]bool    // the member has its first message in hand
	var subs []*nats.Subscription
	for member := range 2 {
		sub, err := nc.QueueSubscribe(subject, queueGroup, func(msg *nats.Msg) {
			var k int
			if _, err := fmt.Sscanf(string(msg.Data), "Message %d", &k); err != nil {
				t.Error(err)
			}
			mu.Lock()
			owner[k] = member
			first := !started[member]
			if first {
				started[member] = true
				inHand++
			}
			mu.Unlock()
			if first {
				<-release // busy with its first message until the test says
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		subs = append(subs, sub)
	}
	released := false
	t.Cleanup(func() {
		if !released {
			close(release)
		}
	})
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := nc.Publish(subject, fmt.Appendf(nil, "Message %d", i+1)); err != nil {
			t.Fatal(err)
		}
	}
	if err := nc.Flush(); err != nil { // returns once the server has sent back every delivery
		t.Fatal(err)
	}
	// nats.go counts a message as pending until its handler returns, so
	// each member's Pending includes the one in hand.
	jstest.Eventually(t, func() error {
		mu.Lock()
		defer mu.Unlock()
		pending := 0
		for _, sub := range subs {
			msgs, _, err := sub.Pending()
			if err != nil {
				return err
			}
			pending += msgs
		}
		if inHand != 2 || pending != n {
			return fmt.Errorf("%d members busy, %d messages pending; want 2 and %d", inHand, pending, n)
		}
		return nil
	})
	for i, sub := range subs {
		pending, _, err := sub.Pending()
		if err != nil {
			t.Fatal(err)
		}
		if pending < 2 {
			t.Fatalf("member %d, busy with its first message, got no more: want the server to pick it anyway", i+1)
		}
	}

	close(release)
	released = true
	jstest.Eventually(t, func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(owner) != n {
			return fmt.Errorf("%d of %d messages handled", len(owner), n)
		}
		return nil
	})
	mu.Lock()
	defer mu.Unlock()
	for k := 1; k < n; k++ {
		if owner[k] == owner[k+1] {
			return // two in a row to one member: not taking turns
		}
	}
	t.Fatalf("the members took strict turns over %d messages (%v): want a random pick", n, owner)
}

// A core queue group stores nothing and takes no acks: a message that went
// to a member whose connection then closes is gone. Message 1 goes to
// member 1, the only one there, which dies before handling it; member 2,
// which joined meanwhile, gets Message 2 as its first message, never
// Message 1.
func TestCoreQueueGroupLosesADeadMembersMessage(t *testing.T) {
	s := jstest.Server(t)
	nc1, _ := jstest.Connect(t, s)
	nc2, _ := jstest.Connect(t, s)
	const subject = "tasks.core"
	took := make(chan struct{})
	if _, err := nc1.QueueSubscribe(subject, queueGroup, func(*nats.Msg) { close(took) }); err != nil {
		t.Fatal(err)
	}
	if err := nc1.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := nc2.Publish(subject, []byte("Message 1")); err != nil {
		t.Fatal(err)
	}
	<-took
	second, err := nc2.QueueSubscribeSync(subject, queueGroup)
	if err != nil {
		t.Fatal(err)
	}
	if err := nc2.Flush(); err != nil {
		t.Fatal(err)
	}
	nc1.Close() // member 1 dies with Message 1 unhandled, as far as anyone knows
	// Once the server has dropped member 1, member 2 is the group's only one.
	jstest.Eventually(t, func() error {
		if n := s.NumClients(); n != 1 {
			return fmt.Errorf("%d client connections, want member 2's alone", n)
		}
		return nil
	})
	if err := nc2.Publish(subject, []byte("Message 2")); err != nil {
		t.Fatal(err)
	}
	msg, err := second.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if string(msg.Data) != "Message 2" {
		t.Fatalf("member 2's first message is %q, want Message 2: Message 1 went with member 1", msg.Data)
	}
}
