package main

import (
	"context"
	"errors"
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
