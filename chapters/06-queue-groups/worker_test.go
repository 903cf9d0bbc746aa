package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/examplestream"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/nats.go/jetstream"
)

var demoTask = regexp.MustCompile(`(?m)^\[(worker-[12])\] Received a message on 'my\.subject\.tasks': Message (\d) \(seq (\d)\)$`)

// The whole scenario: five tasks, each done exactly once, both workers
// taking a share. Which worker takes which varies, so the test counts.
func TestDemoSharesFiveTasks(t *testing.T) {
	for run := range 5 {
		var out strings.Builder
		start := time.Now()
		if err := runDemo(&out); err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		t.Logf("run %d took %s", run, time.Since(start))
		times, byWorker, doneBy := map[string]int{}, map[string]int{}, map[string]string{}
		for _, m := range demoTask.FindAllStringSubmatch(out.String(), -1) {
			if m[2] != m[3] {
				t.Fatalf("run %d: line %q: Message N should be seq N", run, m[0])
			}
			times[m[2]]++
			byWorker[m[1]]++
			doneBy[m[2]] = m[1]
		}
		// Both workers wait before the tasks come, and each holds one task:
		// the first two tasks go to different workers.
		if doneBy["1"] == doneBy["2"] {
			t.Fatalf("run %d: %s did both Message 1 and Message 2:\n%s", run, doneBy["1"], out.String())
		}
		for _, k := range []string{"1", "2", "3", "4", "5"} {
			if times[k] != 1 {
				t.Fatalf("run %d: Message %s done %d times:\n%s", run, k, times[k], out.String())
			}
		}
		if len(times) != 5 || len(byWorker) != 2 {
			t.Fatalf("run %d: tasks %v by workers %v:\n%s", run, times, byWorker, out.String())
		}
		if !strings.HasSuffix(out.String(), "Each of the 5 tasks was done once, and both workers took a share.\n") {
			t.Fatalf("run %d: no summary:\n%s", run, out.String())
		}
	}
}

func runDemo(out io.Writer) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return run(ctx, nil, out)
}

// The server hands each task to the pull request that has waited longest.
// With both workers idle before each task, they take turns.
func TestIdleWorkersTakeTurns(t *testing.T) {
	_, js, stream := newExampleStream(t)
	ctx := jstest.Context(t)
	cons, err := sharedConsumer(ctx, stream, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var done tally
	startWorkers(t, cons, worker{name: "worker-1", done: done.add}, worker{name: "worker-2", done: done.add})
	for i := 1; i <= 6; i++ {
		if err := waitForWorkers(ctx, cons, 2); err != nil {
			t.Fatal(err)
		}
		if _, err := js.Publish(ctx, tasksSubject, fmt.Appendf(nil, "Message %d", i)); err != nil {
			t.Fatal(err)
		}
		jstest.Eventually(t, func() error {
			if done.len() < i {
				return fmt.Errorf("task %d not done yet", i)
			}
			return nil
		})
	}
	done.mu.Lock()
	defer done.mu.Unlock()
	for i, task := range done.tasks {
		if i >= 2 && task.worker != done.tasks[i-2].worker {
			t.Fatalf("tasks went to %v, want the two workers in turn", done.tasks)
		}
		if i >= 1 && task.worker == done.tasks[i-1].worker {
			t.Fatalf("tasks went to %v, want the two workers in turn", done.tasks)
		}
	}
}

// PullMaxMessages(1) is what spreads the tasks. By default Consume asks for
// many messages at once (jetstream.DefaultMaxMessages, 500 in nats.go
// v1.55, as its pull request shows): a worker that starts while six tasks
// are stored takes all six into its buffer, and a second worker gets none
// even while the first is stuck on its first task. With PullMaxMessages(1),
// Consume asks for the next task only once the handler has returned: had
// the stuck worker asked for a second, worker-2 would not find its five.
func TestOneTaskInHandLeavesTheRestForOthers(t *testing.T) {
	nc, js, stream := newExampleStream(t)
	ctx := jstest.Context(t)
	if err := publish(ctx, js, io.Discard, tasksSubject, 6, 0); err != nil {
		t.Fatal(err)
	}
	handedOut := func(cons jetstream.Consumer, inHand int, left uint64) {
		t.Helper()
		jstest.Eventually(t, func() error {
			info, err := cons.Info(ctx)
			if err != nil {
				return err
			}
			if info.NumAckPending != inHand || info.NumPending != left {
				return fmt.Errorf("%d tasks handed out and %d left, want %d and %d", info.NumAckPending, info.NumPending, inHand, left)
			}
			return nil
		})
	}

	// Consume's defaults, on a consumer of its own: a worker stuck on its
	// first task holds all six, and leaves none for anyone else.
	greedy, err := stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "greedy", FilterSubject: tasksSubject})
	if err != nil {
		t.Fatal(err)
	}
	// The pull requests Consume sends are plain NATS messages: listen in.
	pulls, err := nc.SubscribeSync("$JS.API.CONSUMER.MSG.NEXT." + examplestream.Name + ".greedy")
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	cc, err := greedy.Consume(func(msg jetstream.Msg) { <-release })
	if err != nil {
		t.Fatal(err)
	}
	handedOut(greedy, 6, 0)
	pull, err := pulls.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var request struct{ Batch int }
	if err := json.Unmarshal(pull.Data, &request); err != nil {
		t.Fatal(err)
	}
	if request.Batch != 500 || jetstream.DefaultMaxMessages != 500 {
		t.Fatalf("Consume asked for %d messages (DefaultMaxMessages %d); the page says 500", request.Batch, jetstream.DefaultMaxMessages)
	}
	cc.Stop()
	close(release)
	<-cc.Closed()

	// The chapter's workers: one task in hand, so worker-2 gets the other five.
	cons, err := sharedConsumer(ctx, stream, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	stuck := make(chan struct{})
	holder := worker{name: "worker-1", received: func(task) { <-stuck }}
	ctx1, stop1 := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		if _, err := holder.run(ctx1, cons); err != nil {
			t.Error(err)
		}
	})
	handedOut(cons, 1, 5)
	var done tally
	w2 := worker{name: "worker-2", limit: 5, done: done.add}
	if _, err := w2.run(ctx, cons); err != nil {
		t.Fatal(err)
	}
	if done.len() != 5 {
		t.Fatalf("worker-2 finished %d tasks, want the 5 that worker-1 did not hold", done.len())
	}
	stop1()
	close(stuck)
	wg.Wait()
}

// A worker busy for longer than AckWait keeps its task, because it reports
// progress (InProgress) every third of AckWait; a second worker waiting
// meanwhile gets nothing, and the task is delivered once.
func TestProgressKeepsASlowTaskWithItsWorker(t *testing.T) {
	_, js, stream := newExampleStream(t)
	ctx := jstest.Context(t)
	const ackWait, work = 600 * time.Millisecond, 1500 * time.Millisecond
	cons, err := sharedConsumer(ctx, stream, ackWait)
	if err != nil {
		t.Fatal(err)
	}
	var done tally
	var mu sync.Mutex
	var received []task
	saw := func(t task) { mu.Lock(); received = append(received, t); mu.Unlock() }
	startWorkers(t, cons,
		worker{name: "slow", work: work, received: saw, done: done.add},
		worker{name: "idle", work: work, received: saw, done: done.add})
	if err := publish(ctx, js, io.Discard, tasksSubject, 1, 0); err != nil {
		t.Fatal(err)
	}
	jstest.Eventually(t, func() error {
		if done.len() < 1 {
			return fmt.Errorf("the task is not done yet")
		}
		return nil
	})
	info, err := cons.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(received) != 1 || received[0].delivery != 1 || info.NumRedelivered != 0 || info.AckFloor.Stream != 1 {
		t.Fatalf("received %v, %d redelivered: want one delivery, %s of work with AckWait %s", received, info.NumRedelivered, work, ackWait)
	}
}

// All workers share one consumer configuration: a worker started with
// another -ack-wait changes it for all of them (the last one wins).
func TestTheLastWorkerStartedSetsAckWait(t *testing.T) {
	_, _, stream := newExampleStream(t)
	ctx := jstest.Context(t)
	for _, ackWait := range []time.Duration{30 * time.Second, time.Second} {
		if _, err := sharedConsumer(ctx, stream, ackWait); err != nil {
			t.Fatal(err)
		}
	}
	cons, err := stream.Consumer(ctx, queueGroup)
	if err != nil {
		t.Fatal(err)
	}
	if got := cons.CachedInfo().Config.AckWait; got != time.Second {
		t.Fatalf("shared AckWait %s, want the last worker's 1s", got)
	}
}

// A consumer "workers" left behind by the seed's worker.py is a push
// consumer, which cannot become a pull consumer: the worker says how to
// remove it.
func TestASeedConsumerLeftBehindIsExplained(t *testing.T) {
	s := jstest.Server(t)
	nc, js := jstest.Connect(t, s)
	ctx := jstest.Context(t)
	if _, err := js.CreateStream(ctx, examplestream.Config()); err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateOrUpdatePushConsumer(ctx, examplestream.Name, jetstream.ConsumerConfig{
		Durable: queueGroup, DeliverGroup: queueGroup, DeliverSubject: nc.NewInbox(), FilterSubject: "my.subject.*"}); err != nil {
		t.Fatal(err)
	}
	err := run(ctx, []string{"worker", "-server", s.URL(), "-count", "1"}, io.Discard)
	want := `the consumer "workers" on example_stream exists with a shape this worker cannot change: can not update push consumer to pull based (remove it with: nats consumer rm example_stream workers)`
	if err == nil || err.Error() != want {
		t.Fatalf("worker with the seed's consumer in place: %v\nwant: %s", err, want)
	}
}

// A worker whose consumer is deleted under it stops with an error that says
// so, instead of waiting forever.
func TestADeletedConsumerStopsTheWorker(t *testing.T) {
	_, js, stream := newExampleStream(t)
	ctx := jstest.Context(t)
	cons, err := sharedConsumer(ctx, stream, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	returned := make(chan error, 1)
	go func() {
		_, err := worker{name: "worker-1"}.run(ctx, cons)
		returned <- err
	}()
	if err := waitForWorkers(ctx, cons, 1); err != nil {
		t.Fatal(err)
	}
	if err := js.DeleteConsumer(ctx, examplestream.Name, queueGroup); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-returned:
		if err == nil || !strings.Contains(err.Error(), `the shared consumer "workers" is gone`) {
			t.Fatalf("worker after its consumer was deleted: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("the worker is still waiting on a deleted consumer")
	}
}

// With PullMaxMessages(1), nats.go v1.55's Consume now and then loses its
// request for the next message when the handler returns very fast: it
// skips the request while its last one is still marked in flight, and asks
// again only when heartbeats go missing, after twice PullHeartbeat (30 s by
// default). The race detector's slower goroutines make it common. This
// measures the longest wait between two of 300 tasks, for Consume's default
// heartbeat and for the worker's pullHeartbeat. Slow (up to a minute): it
// runs only with QUEUE_STALL_TEST=1, best with -race.
func TestAFastHandlerCanWaitTwoHeartbeats(t *testing.T) {
	if os.Getenv("QUEUE_STALL_TEST") == "" {
		t.Skip("set QUEUE_STALL_TEST=1 to measure (best with -race)")
	}
	_, js := jstest.Connect(t, jstest.Server(t))
	ctx := context.Background() // the waits here may be longer than jstest's deadline
	// Not example_stream: its nine seconds would remove the tasks a stall leaves waiting.
	stream, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "STALLS", Subjects: []string{tasksSubject}})
	if err != nil {
		t.Fatal(err)
	}
	const n = 300
	if err := publish(ctx, js, io.Discard, tasksSubject, n, 0); err != nil {
		t.Fatal(err)
	}
	for _, heartbeat := range []time.Duration{0, pullHeartbeat} {
		name := fmt.Sprintf("hb%s", heartbeat)
		cons, err := stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: name, FilterSubject: tasksSubject})
		if err != nil {
			t.Fatal(err)
		}
		opts := []jetstream.PullConsumeOpt{jetstream.PullMaxMessages(1)}
		if heartbeat > 0 {
			opts = append(opts, jetstream.PullHeartbeat(heartbeat))
		}
		arrived := make(chan time.Time, n)
		cc, err := cons.Consume(func(msg jetstream.Msg) {
			if err := msg.Ack(); err != nil {
				t.Error(err)
			}
			arrived <- time.Now()
		}, opts...)
		if err != nil {
			t.Fatal(err)
		}
		last, longest := time.Now(), time.Duration(0)
		for range n {
			select {
			case at := <-arrived:
				longest, last = max(longest, at.Sub(last)), at
			case <-time.After(time.Minute):
				info, err := cons.Info(ctx)
				if err != nil {
					t.Fatal(err)
				}
				t.Fatalf("%s: no task for a minute; consumer: %d pull requests waiting, %d unacked, %d not delivered",
					name, info.NumWaiting, info.NumAckPending, info.NumPending)
			}
		}
		cc.Stop()
		t.Logf("heartbeat %s (0: Consume's default): the longest wait between two tasks was %s", heartbeat, longest.Round(time.Millisecond))
		if heartbeat > 0 && longest > 2*heartbeat+time.Second {
			t.Errorf("with PullHeartbeat(%s), a task waited %s; want at most two heartbeats", heartbeat, longest)
		}
	}
}
