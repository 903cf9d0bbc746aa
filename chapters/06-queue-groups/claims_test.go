package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"syscall"
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

// tally collects the tasks that workers finished, safe for concurrent use.
type tally struct {
	mu    sync.Mutex
	tasks []task
}

func (l *tally) add(t task) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.tasks = append(l.tasks, t)
}

func (l *tally) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.tasks)
}

// check fails the test unless stream sequences 1..n were done once each, by
// at least minWorkers different workers.
func (l *tally) check(t *testing.T, n, minWorkers int) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	times, byWorker := map[uint64]int{}, map[string]int{}
	for _, task := range l.tasks {
		times[task.seq]++
		byWorker[task.worker]++
	}
	for seq := uint64(1); seq <= uint64(n); seq++ {
		if times[seq] != 1 {
			t.Errorf("task seq %d was done %d times, want once", seq, times[seq])
		}
	}
	if len(l.tasks) != n || len(byWorker) < minWorkers {
		t.Fatalf("%d tasks done by %v, want %d tasks shared by at least %d workers", len(l.tasks), byWorker, n, minWorkers)
	}
}

// startWorkers runs the chapter's workers on cons until the test ends, and
// waits until each has a pull request waiting, so tasks can go to any.
func startWorkers(t *testing.T, cons jetstream.Consumer, workers ...worker) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	errs := make([]error, len(workers))
	for i, w := range workers {
		wg.Go(func() { _, errs[i] = w.run(ctx, cons) })
	}
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Error(err)
		}
	})
	if err := waitForWorkers(jstest.Context(t), cons, len(workers)); err != nil {
		t.Fatal(err)
	}
}

// C36: in a queue group each message goes to one worker. True per
// delivery, for the chapter's shared pull consumer and for the seed's push
// consumer with a deliver group alike. But a task that a worker did not ack
// is delivered again, to any worker: at least once, not exactly once.
func TestC36_EachDeliveryGoesToOneWorker(t *testing.T) {
	nc, js, stream := newExampleStream(t)
	ctx := jstest.Context(t)
	const tasks = 20

	t.Run("shared pull consumer", func(t *testing.T) {
		cons, err := sharedConsumer(ctx, stream, 30*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		var done tally
		startWorkers(t, cons, worker{name: "worker-1", done: done.add}, worker{name: "worker-2", done: done.add})
		if err := publish(ctx, js, io.Discard, tasksSubject, tasks, 0); err != nil {
			t.Fatal(err)
		}
		jstest.Eventually(t, func() error {
			if n := done.len(); n < tasks {
				return fmt.Errorf("%d of %d tasks done", n, tasks)
			}
			return nil
		})
		done.check(t, tasks, 2)
	})

	t.Run("push consumer with deliver group", func(t *testing.T) {
		config := jetstream.ConsumerConfig{Durable: "push-workers", DeliverGroup: "push-workers", DeliverSubject: "deliver.push-workers",
			FilterSubject: tasksSubject, AckPolicy: jetstream.AckExplicitPolicy}
		var mu sync.Mutex
		times := map[uint64]int{}
		delivered := make(chan struct{}, 2*tasks)
		for range 2 {
			cons, err := js.CreateOrUpdatePushConsumer(ctx, examplestream.Name, config)
			if err != nil {
				t.Fatal(err)
			}
			if got := cons.CachedInfo().Config; got.DeliverGroup != got.Durable {
				t.Fatalf("deliver group %q, durable %q: want the same name, as nats-py makes them", got.DeliverGroup, got.Durable)
			}
			cc, err := cons.Consume(func(msg jetstream.Msg) {
				meta, err := msg.Metadata()
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				times[meta.Sequence.Stream]++
				mu.Unlock()
				if err := msg.Ack(); err != nil {
					t.Error(err)
				}
				delivered <- struct{}{}
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(cc.Stop)
		}
		// The first subtest published seqs 1..20; the push consumer replays
		// them (DeliverAll) as its 20 deliveries.
		for range tasks {
			select {
			case <-delivered:
			case <-ctx.Done():
				t.Fatal("not every task was delivered")
			}
		}
		// One more round trip through the consumer: nothing else is on its way.
		info, err := stream.PushConsumer(ctx, "push-workers")
		if err != nil {
			t.Fatal(err)
		}
		jstest.Eventually(t, func() error {
			i, err := info.Info(ctx)
			if err != nil {
				return err
			}
			if i.AckFloor.Stream != tasks || i.NumAckPending != 0 {
				return fmt.Errorf("ack floor %d, %d unacked", i.AckFloor.Stream, i.NumAckPending)
			}
			return nil
		})
		mu.Lock()
		defer mu.Unlock()
		for seq := uint64(1); seq <= tasks; seq++ {
			if times[seq] != 1 {
				t.Errorf("seq %d was delivered %d times, want once", seq, times[seq])
			}
		}
	})

	t.Run("a redelivery goes to another worker", func(t *testing.T) {
		cons, err := stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "redelivery", FilterSubject: "my.subject.redelivery",
			AckPolicy: jetstream.AckExplicitPolicy, AckWait: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := js.Publish(ctx, "my.subject.redelivery", []byte("Message 1")); err != nil {
			t.Fatal(err)
		}
		// worker-1 takes the task and never acks it: a crash, as far as the server knows.
		first, err := cons.Next(jetstream.FetchContext(ctx))
		if err != nil {
			t.Fatal(err)
		}
		var done tally
		got := make(chan task, 1)
		w := worker{name: "worker-2", limit: 1, received: func(t task) { got <- t }, done: done.add}
		if _, err := w.run(ctx, cons); err != nil {
			t.Fatal(err)
		}
		again := <-got
		meta, err := first.Metadata()
		if err != nil {
			t.Fatal(err)
		}
		if again.seq != meta.Sequence.Stream || again.delivery != 2 || done.len() != 1 {
			t.Fatalf("worker-2 got %v, want seq %d as delivery 2, and finished it", again, meta.Sequence.Stream)
		}
	})

	t.Run("push: a dead worker's task goes to another worker", func(t *testing.T) {
		const subject = "my.subject.pushed"
		config := jetstream.ConsumerConfig{Durable: "push-redelivery", DeliverGroup: "push-redelivery", DeliverSubject: "deliver.push-redelivery",
			FilterSubject: subject, AckPolicy: jetstream.AckExplicitPolicy, AckWait: 100 * time.Millisecond}
		// worker-1 has a connection of its own, to die with.
		nc1, err := nats.Connect(nc.ConnectedUrl())
		if err != nil {
			t.Fatal(err)
		}
		defer nc1.Close()
		js1, err := jetstream.New(nc1)
		if err != nil {
			t.Fatal(err)
		}
		cons1, err := js1.CreateOrUpdatePushConsumer(ctx, examplestream.Name, config)
		if err != nil {
			t.Fatal(err)
		}
		took := make(chan uint64, 1)
		if _, err := cons1.Consume(func(msg jetstream.Msg) { // never acks
			if meta, err := msg.Metadata(); err == nil {
				select {
				case took <- meta.Sequence.Stream:
				default:
				}
			}
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := js.Publish(ctx, subject, []byte("Message 1")); err != nil {
			t.Fatal(err)
		}
		seq := <-took
		nc1.Close() // the crash: worker-1 is gone, its task unacked

		// worker-2 joins the group and gets the task once AckWait has passed.
		cons2, err := js.CreateOrUpdatePushConsumer(ctx, examplestream.Name, config)
		if err != nil {
			t.Fatal(err)
		}
		got := make(chan *jetstream.MsgMetadata, 1)
		cc, err := cons2.Consume(func(msg jetstream.Msg) {
			meta, err := msg.Metadata()
			if err != nil {
				t.Error(err)
				return
			}
			if err := msg.DoubleAck(ctx); err != nil {
				t.Error(err)
			}
			select {
			case got <- meta:
			default:
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		defer cc.Stop()
		select {
		case meta := <-got:
			// Delivery 2 as a rule; more if a redelivery fell in the moment
			// between worker-1's end and worker-2's start, with nobody listening.
			if meta.Sequence.Stream != seq || meta.NumDelivered < 2 {
				t.Fatalf("worker-2 got seq %d as delivery %d, want seq %d redelivered", meta.Sequence.Stream, meta.NumDelivered, seq)
			}
		case <-ctx.Done():
			t.Fatal("the dead worker's task never reached worker-2")
		}
	})
}

// C37: worker.py's two main() calls can both find no consumer "workers"
// and both create it, each with its own random deliver subject (nats-py's
// inbox). nats.go reproduces both outcomes with the same steps in the same
// order. The chapter's workers send one identical configuration instead,
// so concurrent creates all succeed and agree.
func TestC37_SeedCreateRaceAndTheIdempotentFix(t *testing.T) {
	nc, js, stream := newExampleStream(t)
	ctx := jstest.Context(t)
	seedConfig := func() jetstream.ConsumerConfig {
		return jetstream.ConsumerConfig{Durable: queueGroup, DeliverGroup: queueGroup, DeliverSubject: nc.NewInbox(),
			FilterSubject: tasksSubject, AckPolicy: jetstream.AckExplicitPolicy}
	}
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
		first, err := js.CreateOrUpdatePushConsumer(ctx, examplestream.Name, seedConfig())
		if err != nil {
			t.Fatal(err)
		}
		second, err := js.CreateOrUpdatePushConsumer(ctx, examplestream.Name, seedConfig())
		if err != nil {
			t.Fatalf("the second create, an update in disguise: %v", err)
		}
		var mu sync.Mutex
		got := map[string]int{}
		arrived := make(chan struct{}, 8)
		for name, cons := range map[string]jetstream.PushConsumer{"Consumer1": first, "Consumer2": second} {
			cc, err := cons.Consume(func(msg jetstream.Msg) {
				mu.Lock()
				got[name]++
				mu.Unlock()
				if err := msg.DoubleAck(ctx); err != nil {
					t.Error(err)
				}
				arrived <- struct{}{}
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(cc.Stop)
		}
		if err := publish(ctx, js, io.Discard, tasksSubject, 4, 0); err != nil {
			t.Fatal(err)
		}
		for range 4 {
			<-arrived
		}
		info, err := second.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		if got["Consumer1"] != 0 || got["Consumer2"] != 4 || info.AckFloor.Stream != 4 {
			t.Fatalf("deliveries %v, ack floor %d: want all four to Consumer2, none to Consumer1", got, info.AckFloor.Stream)
		}
	})

	t.Run("first worker already listening: the second create fails", func(t *testing.T) {
		bothLookedFirst(t)
		first, err := js.CreateOrUpdatePushConsumer(ctx, examplestream.Name, seedConfig())
		if err != nil {
			t.Fatal(err)
		}
		cc, err := first.Consume(func(msg jetstream.Msg) {})
		if err != nil {
			t.Fatal(err)
		}
		defer cc.Stop()
		_, err = js.CreateOrUpdatePushConsumer(ctx, examplestream.Name, seedConfig())
		var apiErr *jetstream.APIError
		if !errors.As(err, &apiErr) || apiErr.ErrorCode != jetstream.JSErrCodeConsumerNameExists {
			t.Fatalf("second create: %v, want 10013 consumer name already in use", err)
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

// C38: worker.py connects to nats://nats.nats:4222, a Kubernetes service
// name, and nats-py retries for about two minutes. The chapter fails at
// once with the reason. nats.invalid is used because .invalid never resolves.
func TestC38_UnresolvableHostFailsFast(t *testing.T) {
	start := time.Now()
	err := run(jstest.Context(t), []string{"worker", "-server", "nats://nats.invalid:4222"}, io.Discard)
	var dnsErr *net.DNSError
	if !errors.As(err, &dnsErr) || !strings.Contains(err.Error(), "cannot connect to nats://nats.invalid:4222") {
		t.Fatalf("worker with an unresolvable server: %v, want a DNS error that names the URL", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("took %s to fail, want at most the 2 s dial timeout", took)
	}
}

// C39: worker.py catches ErrNoServers, but nats-py raises NoServersError,
// so its "Could not connect" branch never runs. nats.go reports "nobody
// listening" as nats.ErrNoServers, which is the error the chapter matches.
func TestC39_TheConnectionErrorIsMatchedRightly(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "nats://" + l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = nats.Connect(url)
	if !errors.Is(err, nats.ErrNoServers) {
		t.Fatalf("nats.Connect with nobody listening: %v, want nats.ErrNoServers", err)
	}
	err = run(jstest.Context(t), []string{"worker", "-server", url}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "no NATS server is listening there") {
		t.Fatalf("worker with nobody listening: %v, want the chapter's explanation", err)
	}
	// A name that does not resolve is another error, not ErrNoServers, and
	// gets its own message.
	if _, err := nats.Connect("nats://nats.invalid:4222"); err == nil || errors.Is(err, nats.ErrNoServers) {
		t.Fatalf("unresolvable host: %v, want an error other than ErrNoServers", err)
	}
}

// C40: worker.py sets queue_group = "order_group" and never uses it: the
// queue is hard-coded "workers". The chapter names the queue once, and that
// name is the shared consumer's.
func TestC40_TheQueueNameIsTheConsumerName(t *testing.T) {
	s := jstest.Server(t)
	_, js := jstest.Connect(t, s)
	ctx := jstest.Context(t)
	if err := run(ctx, []string{"publish", "-server", s.URL(), "-interval", "0", "-count", "1"}, io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := run(ctx, []string{"worker", "-server", s.URL(), "-count", "1"}, io.Discard); err != nil {
		t.Fatal(err)
	}
	names, err := consumerNames(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	if queueGroup != "workers" || !slices.Equal(names, []string{queueGroup}) {
		t.Fatalf("consumers %v, want just the queue name %q", names, queueGroup)
	}
}

// C41: the seed's "two consumer tasks in the same queue group" are two
// subscriptions on one JetStream consumer. Three workers, each on its own
// connection as separate processes would be, leave exactly one consumer,
// with a pull request waiting from each.
func TestC41_ManyWorkersOneConsumer(t *testing.T) {
	s := jstest.Server(t)
	_, js := jstest.Connect(t, s)
	ctx := jstest.Context(t)
	if _, err := js.CreateStream(ctx, examplestream.Config()); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		_, js := jstest.Connect(t, s)
		stream, err := js.Stream(ctx, examplestream.Name)
		if err != nil {
			t.Fatal(err)
		}
		cons, err := sharedConsumer(ctx, stream, 30*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		startWorkers(t, cons, worker{name: fmt.Sprintf("worker-%d", i+1)})
	}
	names, err := consumerNames(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(names, []string{queueGroup}) {
		t.Fatalf("consumers %v, want just %q", names, queueGroup)
	}
	cons, err := js.Consumer(ctx, examplestream.Name, queueGroup)
	if err != nil {
		t.Fatal(err)
	}
	// Each worker's pull request reaches the server on its own connection, so
	// wait for the third rather than assume it has arrived.
	jstest.Eventually(t, func() error {
		info, err := cons.Info(ctx)
		if err != nil {
			return err
		}
		if info.NumWaiting != 3 {
			return fmt.Errorf("%d pull requests waiting, want one from each of 3 workers", info.NumWaiting)
		}
		return nil
	})
}

// C42: worker.py's loop.run_until_complete skips its finally blocks on
// Ctrl+C, so connections are never closed. The chapter's signal context
// covers SIGINT and SIGTERM: the worker gives back the task in hand (Nak),
// drains, and returns nil (exit 0). The Nak reaches the server before run
// returns: with AckWait at an hour, the task is available again at once.
func TestC42_SignalStopsWorkerCleanly(t *testing.T) {
	s := jstest.Server(t)
	_, js := jstest.Connect(t, s)
	ctx := jstest.Context(t)
	stream, err := js.CreateStream(ctx, examplestream.Config())
	if err != nil {
		t.Fatal(err)
	}
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			sigCtx, stop := signals()
			defer stop()
			var out strings.Builder
			returned := make(chan error, 1)
			go func() {
				returned <- run(sigCtx, []string{"worker", "-server", s.URL(), "-name", "worker-1", "-work", "1h", "-ack-wait", "1h"}, &out)
			}()
			cons := waitForConsumer(t, stream)
			if err := waitForWorkers(ctx, cons, 1); err != nil {
				t.Fatal(err)
			}
			if _, err := js.Publish(ctx, tasksSubject, []byte("Message 1")); err != nil {
				t.Fatal(err)
			}
			jstest.Eventually(t, func() error {
				info, err := cons.Info(ctx)
				if err != nil {
					return err
				}
				if info.NumAckPending != 1 {
					return fmt.Errorf("%d tasks in hand, want 1", info.NumAckPending)
				}
				return nil
			})
			if err := syscall.Kill(syscall.Getpid(), sig); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-returned:
				if err != nil {
					t.Fatalf("worker stopped by %s: %v, want nil (exit 0)", sig, err)
				}
			case <-ctx.Done():
				t.Fatalf("worker still running after %s", sig)
			}
			if !strings.HasSuffix(out.String(), "[worker-1] Stopped after finishing 0 tasks.\n") {
				t.Fatalf("output:\n%s", out.String())
			}
			// Not after the hour of AckWait: now, because the Nak arrived.
			again, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second))
			if err != nil {
				t.Fatalf("the task given back is not available: %v", err)
			}
			if err := again.DoubleAck(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// deleteConsumer removes a consumer of example_stream if it exists.
func deleteConsumer(t *testing.T, js jetstream.JetStream, name string) {
	t.Helper()
	err := js.DeleteConsumer(jstest.Context(t), examplestream.Name, name)
	if err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		t.Fatalf("delete consumer %s: %v", name, err)
	}
}

// waitForConsumer waits until a worker has created the shared consumer.
func waitForConsumer(t *testing.T, stream jetstream.Stream) jetstream.Consumer {
	t.Helper()
	var cons jetstream.Consumer
	jstest.Eventually(t, func() error {
		var err error
		cons, err = stream.Consumer(jstest.Context(t), queueGroup)
		return err
	})
	return cons
}

// C43: the seed's durable "workers" listens on my.subject.* from the start
// of the stream, so it first works through every message of sections 4 and 5
// as "tasks"; and as task_publisher.py publishes on my.subject.test, any
// subscriber.py still running prints the tasks too. The chapter's tasks
// have their own subject, and its consumer sees only them.
func TestC43_SeedWorkersReplayOldMessages(t *testing.T) {
	nc, js, stream := newExampleStream(t)
	ctx := jstest.Context(t)
	// Sections 4 and 5: five messages and a request are in the stream.
	if err := publish(ctx, js, io.Discard, "my.subject.test", 5, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "my.subject.requests", []byte("Hello, Consumers!")); err != nil {
		t.Fatal(err)
	}
	seed, err := js.CreateOrUpdatePushConsumer(ctx, examplestream.Name, jetstream.ConsumerConfig{
		Durable: queueGroup, DeliverGroup: queueGroup, DeliverSubject: nc.NewInbox(), FilterSubject: "my.subject.*",
		AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	if pending := seed.CachedInfo().NumPending; pending != 6 {
		t.Fatalf("the seed's workers start with %d messages waiting, want the 6 old ones", pending)
	}
	// The first task is the seed's worker's seventh delivery.
	if _, err := js.Publish(ctx, "my.subject.test", []byte("Message 1")); err != nil {
		t.Fatal(err)
	}
	var seen []string
	arrived := make(chan struct{})
	cc, err := seed.Consume(func(msg jetstream.Msg) {
		seen = append(seen, msg.Subject()+": "+string(msg.Data()))
		if err := msg.Ack(); err != nil {
			t.Error(err)
		}
		if len(seen) == 7 {
			close(arrived)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	<-arrived
	cc.Stop()
	if seen[6] != "my.subject.test: Message 1" || seen[0] != "my.subject.test: Message 1" || seen[5] != "my.subject.requests: Hello, Consumers!" {
		t.Fatalf("the seed's worker saw %q", seen)
	}
	// A chapter 04 style subscriber.py on my.subject.* sees the task too.
	sub, err := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{FilterSubject: "my.subject.*"})
	if err != nil {
		t.Fatal(err)
	}
	if pending := sub.CachedInfo().NumPending; pending != 7 {
		t.Fatalf("a my.subject.* subscriber has %d pending, want all 7, the task included", pending)
	}

	// The chapter: tasks on my.subject.tasks, a consumer filtered to them.
	if err := js.DeleteConsumer(ctx, examplestream.Name, queueGroup); err != nil {
		t.Fatal(err)
	}
	cons, err := sharedConsumer(ctx, stream, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, tasksSubject, []byte("Message 1")); err != nil {
		t.Fatal(err)
	}
	// The consumer counts a new message after the PubAck, on the server's
	// own time: wait for the count. Were the old messages counted too, it
	// would never be 1, and the wait would fail.
	jstest.Eventually(t, func() error {
		info, err := cons.Info(ctx)
		if err != nil {
			return err
		}
		if info.NumPending != 1 {
			return fmt.Errorf("the chapter's workers have %d tasks waiting, want just the 1 task", info.NumPending)
		}
		return nil
	})
	test, err := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{FilterSubject: "my.subject.test"})
	if err != nil {
		t.Fatal(err)
	}
	if pending := test.CachedInfo().NumPending; pending != 6 {
		t.Fatalf("chapter 04's subscriber on my.subject.test has %d pending, want its 6 messages and no task", pending)
	}
}
