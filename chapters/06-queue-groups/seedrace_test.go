package main

import (
	"encoding/json"
	"errors"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/examplestream"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// seedCreate sends the request that nats-py v2's add_consumer sends for a
// durable (js/manager.py): the stream name and the configuration on
// $JS.API.CONSUMER.DURABLE.CREATE.<stream>.<durable>, with no "action", which
// the server takes as create or update. The configuration is js.subscribe's
// for a queue (js/client.py): durable and deliver group both the queue name,
// a new inbox to deliver to, the subject as filter, explicit acks. It returns
// the server's error code, or 0.
func seedCreate(t *testing.T, nc *nats.Conn, deliver string) int {
	t.Helper()
	config := jetstream.ConsumerConfig{Durable: queueGroup, DeliverGroup: queueGroup, DeliverSubject: deliver,
		FilterSubject: tasksSubject, AckPolicy: jetstream.AckExplicitPolicy}
	req, err := json.Marshal(map[string]any{"stream_name": examplestream.Name, "config": config})
	if err != nil {
		t.Fatal(err)
	}
	msg, err := nc.Request("$JS.API.CONSUMER.DURABLE.CREATE."+examplestream.Name+"."+queueGroup, req, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var resp struct {
		Error *struct {
			ErrCode int `json:"err_code"`
		} `json:"error"`
	}
	if err := json.Unmarshal(msg.Data, &resp); err != nil {
		t.Fatal(err)
	}
	if resp.Error != nil {
		return resp.Error.ErrCode
	}
	return 0
}

// C37: worker.py's two main() calls can both find no consumer "workers"
// and both create it, each with its own inbox. Sending nats-py's requests in
// that order gives both outcomes. The chapter's workers send one identical
// configuration instead, so concurrent creates all succeed and agree.
func TestC37_SeedCreateRaceAndTheIdempotentFix(t *testing.T) {
	nc, js, stream := newExampleStream(t)
	ctx := jstest.Context(t)
	bothLookedFirst := func(t *testing.T) {
		t.Helper()
		t.Cleanup(func() { deleteConsumer(t, js, queueGroup) })
		for range 2 { // Consumer1 and Consumer2 each look for "workers" first
			if _, err := js.PushConsumer(ctx, examplestream.Name, queueGroup); !errors.Is(err, jetstream.ErrConsumerNotFound) {
				t.Fatalf("lookup before creating: %v, want consumer not found", err)
			}
		}
	}

	t.Run("second create moves the deliver subject: the first worker gets nothing", func(t *testing.T) {
		bothLookedFirst(t)
		inboxes := map[string]string{"Consumer1": nc.NewInbox(), "Consumer2": nc.NewInbox()}
		for _, name := range []string{"Consumer1", "Consumer2"} {
			if code := seedCreate(t, nc, inboxes[name]); code != 0 {
				t.Fatalf("%s's create, the second an update in disguise: error %d", name, code)
			}
		}
		// Each worker subscribes to its own inbox in the queue group, as
		// nats-py's js.subscribe does, and acks what it gets.
		var mu sync.Mutex
		got := map[string]int{}
		arrived := make(chan struct{}, 8)
		for name, inbox := range inboxes {
			sub, err := nc.QueueSubscribe(inbox, queueGroup, func(msg *nats.Msg) {
				mu.Lock()
				got[name]++
				mu.Unlock()
				if err := msg.Ack(); err != nil {
					t.Error(err)
				}
				arrived <- struct{}{}
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if err := sub.Unsubscribe(); err != nil {
					t.Error(err)
				}
			})
		}
		if err := publish(ctx, js, io.Discard, tasksSubject, 4, 0); err != nil {
			t.Fatal(err)
		}
		for range 4 {
			select {
			case <-arrived:
			case <-ctx.Done():
				t.Fatal("not all four tasks arrived")
			}
		}
		cons, err := js.PushConsumer(ctx, examplestream.Name, queueGroup)
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		if got["Consumer1"] != 0 || got["Consumer2"] != 4 || cons.CachedInfo().Config.DeliverSubject != inboxes["Consumer2"] {
			t.Fatalf("deliveries %v, deliver subject %s: want all four to Consumer2's inbox %s, none to Consumer1",
				got, cons.CachedInfo().Config.DeliverSubject, inboxes["Consumer2"])
		}
	})

	t.Run("first worker already listening: the second create fails", func(t *testing.T) {
		bothLookedFirst(t)
		first := nc.NewInbox()
		if code := seedCreate(t, nc, first); code != 0 {
			t.Fatalf("first create: error %d", code)
		}
		sub, err := nc.QueueSubscribe(first, queueGroup, func(*nats.Msg) {})
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			if err := sub.Unsubscribe(); err != nil {
				t.Error(err)
			}
		}()
		// The server sees the interest on the first inbox before the second create.
		if err := nc.Flush(); err != nil {
			t.Fatal(err)
		}
		if code := seedCreate(t, nc, nc.NewInbox()); code != int(jetstream.JSErrCodeConsumerNameExists) {
			t.Fatalf("second create: error %d, want %d, consumer name already in use", code, jetstream.JSErrCodeConsumerNameExists)
		}
	})

	t.Run("identical configs created concurrently", func(t *testing.T) {
		for round := range 10 {
			const workers = 4
			start := make(chan struct{})
			errs := make([]error, workers)
			configs := make([]jetstream.ConsumerConfig, workers)
			var wg sync.WaitGroup
			for i := range workers {
				wg.Go(func() {
					<-start // all at once
					cons, err := sharedConsumer(ctx, stream, 30*time.Second)
					if err == nil {
						configs[i] = cons.CachedInfo().Config
					}
					errs[i] = err
				})
			}
			close(start)
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
			for _, c := range configs {
				if c.Durable != queueGroup || c.FilterSubject != tasksSubject || c.AckWait != 30*time.Second {
					t.Fatalf("round %d: a worker got config %+v", round, c)
				}
			}
			names, err := consumerNames(ctx, js)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(names, []string{queueGroup}) {
				t.Fatalf("round %d: consumers %v, want just %q", round, names, queueGroup)
			}
			deleteConsumer(t, js, queueGroup)
		}
	})

	t.Run("identical push configs with a fixed deliver subject, created concurrently", func(t *testing.T) {
		fixed := jetstream.ConsumerConfig{Durable: queueGroup, DeliverGroup: queueGroup, DeliverSubject: "deliver.workers",
			FilterSubject: tasksSubject, AckPolicy: jetstream.AckExplicitPolicy}
		for round := range 10 {
			const workers = 4
			start := make(chan struct{})
			errs := make([]error, workers)
			configs := make([]jetstream.ConsumerConfig, workers)
			listening := make([]jetstream.ConsumeContext, workers)
			var wg sync.WaitGroup
			for i := range workers {
				wg.Go(func() {
					<-start // all at once: each creates the consumer and subscribes
					cons, err := js.CreateOrUpdatePushConsumer(ctx, examplestream.Name, fixed)
					if err != nil {
						errs[i] = err
						return
					}
					configs[i] = cons.CachedInfo().Config
					listening[i], errs[i] = cons.Consume(func(msg jetstream.Msg) {})
				})
			}
			close(start)
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
			for _, c := range configs {
				if c.DeliverSubject != fixed.DeliverSubject {
					t.Fatalf("round %d: a worker got deliver subject %q, want %q", round, c.DeliverSubject, fixed.DeliverSubject)
				}
			}
			// With every worker listening, one more identical create still
			// succeeds: 10013 needs a different deliver subject.
			if _, err := js.CreateOrUpdatePushConsumer(ctx, examplestream.Name, fixed); err != nil {
				t.Fatalf("round %d: create while all listen: %v", round, err)
			}
			names, err := consumerNames(ctx, js)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(names, []string{queueGroup}) {
				t.Fatalf("round %d: consumers %v, want just %q", round, names, queueGroup)
			}
			for _, cc := range listening {
				cc.Stop()
			}
			deleteConsumer(t, js, queueGroup)
		}
	})
}
