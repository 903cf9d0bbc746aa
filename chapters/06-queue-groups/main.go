// Chapter 06 is load balancing, the seed's "Queue Groups (로드 밸런싱)":
// task_publisher.py and worker.py in Go. The workers share one durable
// consumer, so each task goes to one worker, and a task a worker never
// acknowledged goes to another.
//
//	go run ./chapters/06-queue-groups                          two workers, five tasks, embedded
//	go run ./chapters/06-queue-groups worker -name worker-1    one worker, until Ctrl+C
//	go run ./chapters/06-queue-groups publish [-count 5]       five tasks, one a second
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/cli"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/connect"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/embedded"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/examplestream"
	"github.com/nats-io/nats.go/jetstream"
)

// docs:start names
const (
	// queueGroup is the seed's queue name. Here it names the one consumer
	// that every worker shares.
	queueGroup = "workers"
	// tasksSubject keeps tasks apart from chapter 04's messages on
	// my.subject.test; example_stream captures it through my.subject.*.
	tasksSubject = "my.subject.tasks"
)

// docs:end names

const usage = `usage: 06-queue-groups [-server URL]                                    (the whole scenario)
       06-queue-groups publish [-server URL] [-count N] [-interval D] [-subject S]
       06-queue-groups worker [-server URL] [-name NAME] [-count N] [-work D] [-ack-wait D]`

func main() {
	ctx, stop := signals()
	defer stop()
	os.Exit(cli.Exit("06-queue-groups", run(ctx, os.Args[1:], os.Stdout)))
}

// docs:start signals
// signals returns a context that Ctrl+C (SIGINT) or SIGTERM ends, so that a
// worker stops through its normal path: give back the task in hand, drain.
func signals() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// docs:end signals

func run(ctx context.Context, args []string, stdout io.Writer) (err error) {
	role := "demo"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		role, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("06-queue-groups "+role, flag.ContinueOnError)
	serverURL := fs.String("server", os.Getenv("NATS_URL"), "NATS server URL; empty starts an embedded server (default $NATS_URL)")
	var (
		count    *int
		subject  *string
		interval *time.Duration
		name     *string
		work     *time.Duration
		ackWait  *time.Duration
	)
	switch role {
	case "demo":
	case "publish":
		count = fs.Int("count", 5, "tasks to publish")
		interval = fs.Duration("interval", time.Second, "pause between publishes (the seed's asyncio.sleep(1))")
		subject = fs.String("subject", tasksSubject, "subject to publish the tasks to")
	case "worker":
		name = fs.String("name", fmt.Sprintf("worker-%d", os.Getpid()), "name printed before each task this worker takes")
		count = fs.Int("count", 0, "stop after N tasks (0: run until Ctrl+C)")
		work = fs.Duration("work", 0, "simulated work per task")
		ackWait = fs.Duration("ack-wait", 30*time.Second, "how long a task stays with a worker that neither acks it nor reports progress; one setting shared by all workers (the last one started sets it)")
	default:
		return cli.Usagef(usage, "unknown role %q", role)
	}
	if err := cli.Parse(fs, usage, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return cli.Usagef(usage, "unexpected argument %q", fs.Arg(0))
	}
	switch {
	case count != nil && *count < 0:
		return cli.Usagef(usage, "-count must not be negative")
	case interval != nil && *interval < 0:
		return cli.Usagef(usage, "-interval must not be negative")
	case name != nil && strings.TrimSpace(*name) == "":
		return cli.Usagef(usage, "-name must not be empty")
	case work != nil && *work < 0:
		return cli.Usagef(usage, "-work must not be negative")
	case ackWait != nil && *ackWait < time.Millisecond:
		return cli.Usagef(usage, "-ack-wait must be at least 1ms")
	}

	url, stopServer, err := embedded.URLOrStart(*serverURL)
	if err != nil {
		return err
	}
	defer stopServer()
	ctx, closeOption := connect.CancelOnClose(ctx)
	nc, err := connect.To(url, "06-queue-groups "+role, closeOption)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, connect.Drain(nc)) }()
	js, err := connect.JetStream(ctx, nc)
	if err != nil {
		return err
	}
	stream, err := examplestream.Ensure(ctx, js, stdout)
	if err != nil {
		return err
	}

	switch role {
	case "publish":
		return publish(ctx, js, stdout, *subject, *count, *interval)
	case "worker":
		return workerRole(ctx, stream, stdout, worker{name: *name, limit: *count, work: *work}, *ackWait)
	default:
		return demo(ctx, js, stream, stdout)
	}
}

// docs:start publish
// publish sends count tasks with a JetStream publish, as chapter 04 does:
// each call returns once the stream has stored the task (its PubAck).
func publish(ctx context.Context, js jetstream.JetStream, out io.Writer, subject string, count int, interval time.Duration) error {
	for i := 1; i <= count; i++ {
		message := fmt.Sprintf("Message %d", i)
		pubCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		ack, err := js.Publish(pubCtx, subject, []byte(message))
		cancel()
		if errors.Is(err, jetstream.ErrNoStreamResponse) {
			return fmt.Errorf("publish to %s: no stream captures this subject (example_stream takes my.subject.*)", subject)
		}
		if err != nil {
			return fmt.Errorf("publish %q to %s: %w", message, subject, err)
		}
		fmt.Fprintf(out, "Published: %s (stream %s, seq %d)\n", message, ack.Stream, ack.Sequence)
		if i < count && interval > 0 {
			select {
			case <-ctx.Done():
				return context.Cause(ctx)
			case <-time.After(interval):
			}
		}
	}
	return nil
}

// docs:end publish

// docs:start consumer
// sharedConsumer creates the consumer that all workers share, or returns it
// if another worker created it first. Every worker sends the same
// configuration, so two workers that start at the same moment both get the
// one consumer "workers": there is nothing to race for.
func sharedConsumer(ctx context.Context, stream jetstream.Stream, ackWait time.Duration) (jetstream.Consumer, error) {
	cons, err := stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:       queueGroup,                  // named: it outlives every worker, and they all find it
		FilterSubject: tasksSubject,                // tasks only, not the stream's other messages
		AckPolicy:     jetstream.AckExplicitPolicy, // a task is done when a worker acks it
		AckWait:       ackWait,                     // unacked this long: the task goes to another worker
	})
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeConsumerCreate {
		// Such as "can not update push consumer to pull based": a consumer of
		// that name exists, made by another program (the seed's worker.py).
		return nil, fmt.Errorf("the consumer %q on %s exists with a shape this worker cannot change: %s (remove it with: nats consumer rm %s %s)",
			queueGroup, examplestream.Name, apiErr.Description, examplestream.Name, queueGroup)
	}
	if err != nil {
		return nil, fmt.Errorf("create or update the shared consumer %q on %s: %w", queueGroup, examplestream.Name, err)
	}
	return cons, nil
}

// docs:end consumer

// docs:start task
// A task is one delivery of a message to a worker. Delivery counts from 1;
// more means the server gave the task out before and got no ack for it.
type task struct {
	worker, subject, data string
	seq, delivery         uint64
}

func (t task) String() string {
	redelivered := ""
	if t.delivery > 1 {
		redelivered = fmt.Sprintf(", delivery %d", t.delivery)
	}
	return fmt.Sprintf("[%s] Received a message on '%s': %s (seq %d%s)", t.worker, t.subject, t.data, t.seq, redelivered)
}

// docs:end task

// docs:start worker
// A worker takes tasks from the shared consumer, one at a time.
type worker struct {
	name  string
	limit int           // stop after this many tasks; 0: until ctx ends
	work  time.Duration // simulated work per task
	// received and done, when set, hear of each task as it arrives and once
	// its ack is confirmed. They run on the worker's delivery goroutine.
	received, done func(task)
}

// run consumes until ctx ends, the worker has taken its limit of tasks, or
// something fails, and returns how many tasks it finished.
func (w worker) run(ctx context.Context, cons jetstream.Consumer) (finished int, err error) {
	failed := make(chan error, 1)
	fail := func(err error) {
		select {
		case failed <- err:
		default: // the first failure is the one to report
		}
	}
	opts := []jetstream.PullConsumeOpt{
		// Hold one task at a time: while this worker is busy, the server
		// keeps the next tasks for the workers that are waiting.
		jetstream.PullMaxMessages(1),
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			switch {
			case connect.Closed(err):
				fail(connect.ErrConnectionLost) // reconnecting failed; Consume stops
			case errors.Is(err, jetstream.ErrConsumerDeleted), errors.Is(err, jetstream.ErrConsumerNotFound):
				fail(fmt.Errorf("the shared consumer %q is gone (deleted?); start the worker again to recreate it: %w", queueGroup, err))
			}
		}),
	}
	if w.limit > 0 {
		opts = append(opts, jetstream.StopAfter(w.limit))
	}
	ackWait := cons.CachedInfo().Config.AckWait
	cc, err := cons.Consume(func(msg jetstream.Msg) {
		done, err := w.handle(ctx, msg, ackWait)
		if err != nil {
			fail(err)
		}
		if done {
			finished++
		}
	}, opts...)
	if err != nil {
		return 0, fmt.Errorf("start consuming from %q: %w", queueGroup, err)
	}
	select {
	case <-ctx.Done():
		// Take no new task; the one in hand is given back (see handle). Drain
		// returns at once; Closed tells when the last handler has returned.
		cc.Drain()
		<-cc.Closed()
		if cause := context.Cause(ctx); !errors.Is(cause, context.Canceled) {
			return finished, cause // the connection is gone, not a Ctrl+C
		}
	case err := <-failed:
		cc.Stop()
		<-cc.Closed()
		return finished, err
	case <-cc.Closed():
		if w.limit == 0 || finished < w.limit {
			// Not the limit: Consume stopped on its own, as it does when the
			// connection closes for good, sometimes before the error handler
			// or ctx has heard of it. Wait for them to say why.
			return finished, stopReason(ctx, failed)
		}
	}
	select {
	case err := <-failed:
		return finished, err
	default:
		return finished, nil
	}
}

// stopReason waits for the reason Consume stopped without being asked to:
// the first failure, or the end of ctx (a Ctrl+C is no error).
func stopReason(ctx context.Context, failed <-chan error) error {
	select {
	case err := <-failed:
		return err
	case <-ctx.Done():
		select {
		case err := <-failed:
			return err
		default:
		}
		if cause := context.Cause(ctx); !errors.Is(cause, context.Canceled) {
			return cause
		}
		return nil
	case <-time.After(5 * time.Second):
		return errors.New("stopped receiving tasks for no reason given (is the server still running?)")
	}
}

// handle does one task: report it, work on it, ack it, and say whether it
// got done. A task that cannot be finished because the worker is stopping
// is given back with Nak, so another worker gets it now, not after AckWait.
func (w worker) handle(ctx context.Context, msg jetstream.Msg, ackWait time.Duration) (done bool, err error) {
	meta, err := msg.Metadata()
	if err != nil {
		return false, fmt.Errorf("read task metadata: %w", err)
	}
	t := task{worker: w.name, subject: msg.Subject(), data: string(msg.Data()), seq: meta.Sequence.Stream, delivery: meta.NumDelivered}
	if w.received != nil {
		w.received(t)
	}
	if err := busy(ctx, msg, w.work, ackWait); err != nil {
		if ctx.Err() == nil {
			return false, err
		}
		if err := msg.Nak(); err != nil {
			return false, fmt.Errorf("give back task seq %d: %w", t.seq, err)
		}
		return false, nil
	}
	// DoubleAck waits until the server has recorded the ack, so a task counts
	// as done only when no other worker can get it again. It must work even
	// while the worker is stopping, hence a context without the cancel.
	ackCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := msg.DoubleAck(ackCtx); err != nil {
		return false, fmt.Errorf("ack task seq %d: %w (the server will give it to a worker again)", t.seq, err)
	}
	if w.done != nil {
		w.done(t)
	}
	return true, nil
}

// busy stands in for the real work: it takes d. Every third of AckWait it
// tells the server the worker is still at it (InProgress), which restarts
// AckWait, so a slow task is not handed to a second worker meanwhile.
func busy(ctx context.Context, msg jetstream.Msg, d, ackWait time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d <= 0 {
		return nil
	}
	finished := time.NewTimer(d)
	defer finished.Stop()
	alive := time.NewTicker(max(ackWait/3, time.Millisecond))
	defer alive.Stop()
	for {
		select {
		case <-finished.C:
			return nil
		case <-alive.C:
			if err := msg.InProgress(); err != nil {
				return fmt.Errorf("tell the server the task is in progress: %w", err)
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// docs:end worker

// docs:start role
// workerRole is the worker role: one worker in this process, sharing the
// consumer with the workers in other processes.
func workerRole(ctx context.Context, stream jetstream.Stream, out io.Writer, w worker, ackWait time.Duration) error {
	cons, err := sharedConsumer(ctx, stream, ackWait)
	if err != nil {
		return err
	}
	w.received = func(t task) { fmt.Fprintln(out, t) }
	fmt.Fprintf(out, "[%s] Waiting for tasks on '%s' from the shared consumer %q. Press Ctrl+C to exit.\n", w.name, tasksSubject, queueGroup)
	finished, err := w.run(ctx, cons)
	if err != nil {
		return fmt.Errorf("%s: %w", w.name, err)
	}
	fmt.Fprintf(out, "[%s] Stopped after finishing %d tasks.\n", w.name, finished)
	return nil
}

// docs:end role

// docs:start demo
// demo runs two workers on the shared consumer in this process, publishes
// five tasks, and shows which worker did which.
func demo(ctx context.Context, js jetstream.JetStream, stream jetstream.Stream, out io.Writer) error {
	const workers, tasks = 2, 5
	cons, err := sharedConsumer(ctx, stream, 30*time.Second)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var mu sync.Mutex
	var done []task // every confirmed task, from both workers
	finished := func(t task) {
		mu.Lock()
		defer mu.Unlock()
		if done = append(done, t); len(done) == tasks {
			cancel() // all done: stop both workers
		}
	}
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for i := range workers {
		w := worker{name: fmt.Sprintf("worker-%d", i+1), work: 20 * time.Millisecond, done: finished}
		wg.Go(func() { _, errs[i] = w.run(ctx, cons) })
	}
	// Both workers must be waiting before the tasks come: the server hands
	// each task to the worker that has waited longest.
	if err := waitForWorkers(ctx, cons, workers); err != nil {
		cancel()
		wg.Wait()
		return err
	}
	fmt.Fprintf(out, "%d workers share the consumer %q on '%s'.\n", workers, queueGroup, tasksSubject)
	if err := publish(ctx, js, out, tasksSubject, tasks, 0); err != nil {
		cancel()
		wg.Wait()
		return err
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := context.Cause(ctx); !errors.Is(err, context.Canceled) {
		return err
	}

	slices.SortFunc(done, func(a, b task) int { return cmp.Compare(a.seq, b.seq) })
	seqs, byWorker := map[uint64]bool{}, map[string]int{}
	for _, t := range done {
		fmt.Fprintln(out, t)
		seqs[t.seq] = true
		byWorker[t.worker]++
	}
	if len(seqs) != tasks || len(byWorker) != workers {
		return fmt.Errorf("expected %d tasks done once each by %d workers, got %d different tasks by %d workers", tasks, workers, len(seqs), len(byWorker))
	}
	fmt.Fprintf(out, "Each of the %d tasks was done once, and both workers took a share.\n", tasks)
	return nil
}

// waitForWorkers waits until n workers have a pull request waiting on cons.
func waitForWorkers(ctx context.Context, cons jetstream.Consumer, n int) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for {
		info, err := cons.Info(ctx)
		if err != nil {
			return fmt.Errorf("wait for %d workers: %w", n, err)
		}
		if info.NumWaiting >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for %d workers: only %d are waiting: %w", n, info.NumWaiting, context.Cause(ctx))
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// docs:end demo
