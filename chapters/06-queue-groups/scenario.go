package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

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
