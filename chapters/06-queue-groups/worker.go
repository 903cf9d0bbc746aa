package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/connect"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/examplestream"
	"github.com/nats-io/nats.go/jetstream"
)

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

// pullHeartbeat bounds a stall of nats.go v1.55's Consume: now and then it
// skips asking for the next task, when a handler returns before Consume has
// marked its last request as sent (common under the race detector). It asks
// again once the server's heartbeats have been missing for twice this: 30 s
// with Consume's default, 4 s here.
const pullHeartbeat = 2 * time.Second

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
		// Hold one task at a time: Consume asks for the next one only once
		// the handler has returned, so while this worker is busy, the server
		// keeps the next tasks for the workers that are waiting. (Messages,
		// the iterator, would do the same; Consume's handler runs on a
		// goroutine of its own, which leaves run free to watch ctx.)
		jetstream.PullMaxMessages(1),
		jetstream.PullHeartbeat(pullHeartbeat),
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
