package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/connect"
	"github.com/nats-io/nats.go/jetstream"
)

// The demo publishes this many messages, one every publishPace, and stops
// the stream's leader once stopAfter of them are acknowledged.
const (
	demoMessages = 300
	stopAfter    = 100
	restartAfter = 200
	publishPace  = 2 * time.Millisecond
)

// demo runs the chapter in one process: a cluster of three nodes, a stream
// with three replicas, a publisher and a consumer, and a leader that stops
// in the middle. Names and timings, which change from run to run, go to log.
func demo(ctx context.Context, out, log io.Writer) (err error) {
	dir, err := os.MkdirTemp("", "10-cluster-*")
	if err != nil {
		return fmt.Errorf("create a directory for the nodes' stores: %w", err)
	}
	defer func() {
		if rmErr := os.RemoveAll(dir); rmErr != nil {
			err = errors.Join(err, fmt.Errorf("remove the nodes' stores: %w", rmErr))
		}
	}()
	started := time.Now()
	c, err := startCluster(dir)
	if err != nil {
		return err
	}
	defer c.shutdown()
	fmt.Fprintf(out, "Started n1, n2 and n3, the nodes of cluster %q, in this process: each has its own store, and routes to all three.\n", clusterName)
	metaLeader, err := c.waitReady(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(log, "10-cluster: %s is the meta leader, %s after the start\n", metaLeader, time.Since(started).Round(time.Millisecond))
	fmt.Fprintln(out, "The cluster is ready: it elected a meta leader, which knows all 3 nodes.")

	ctx, closeOption := connect.CancelOnClose(ctx)
	nc, err := connect.To(c.urls(), "10-cluster", closeOption)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, connect.Drain(nc)) }()
	js, err := clusterJetStream(ctx, nc, log)
	if err != nil {
		return err
	}
	stream, err := ensureStream(ctx, js, out, log)
	if err != nil {
		return err
	}
	cons, err := ensureConsumer(ctx, stream, log)
	if err != nil {
		return err
	}
	info := cons.CachedInfo()
	if info.Cluster == nil {
		return fmt.Errorf("consumer %s has no cluster information: is this a cluster?", consumerName)
	}
	fmt.Fprintf(out, "Created the durable consumer %s: it has %d replicas too, like its stream.\n", consumerName, 1+len(info.Cluster.Replicas))

	// The consumer reads while the publisher publishes.
	var (
		mu       sync.Mutex
		consumed = make(map[string]bool)
	)
	consumeCtx, stopConsuming := context.WithCancel(ctx)
	defer stopConsuming()
	consumeDone := make(chan error, 1)
	go func() {
		consumeDone <- consume(consumeCtx, cons, log, func(msg jetstream.Msg) bool {
			mu.Lock()
			defer mu.Unlock()
			consumed[string(msg.Data())] = true
			return len(consumed) >= demoMessages
		})
	}()

	fmt.Fprintf(out, "Publishing %s to %s on %s, while %s consumes them.\n", message(1), message(demoMessages), subject, consumerName)
	acked, err := publishThroughLoss(ctx, c, publisher{js: js, log: log}, log)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "After %s, the stream's leader stopped: a follower took over, and the publisher went on.\n", message(stopAfter))
	fmt.Fprintf(out, "After %s, the stopped node started again on its store, and caught up.\n", message(restartAfter))
	fmt.Fprintf(out, "All %d messages were acknowledged.\n", len(acked))
	for _, n := range c.nodes {
		if err := waitStored(ctx, n, demoMessages); err != nil {
			return err
		}
	}

	select {
	case err := <-consumeDone:
		if err != nil {
			return err
		}
	case <-time.After(readyTimeout):
		mu.Lock()
		defer mu.Unlock()
		return fmt.Errorf("%s received %d of %d messages within %s", consumerName, len(consumed), demoMessages, readyTimeout)
	}
	mu.Lock()
	consumedCount := len(consumed)
	mu.Unlock()
	if err := totals(ctx, c, stream, out, acked, consumedCount); err != nil {
		return err
	}
	return placementLimit(ctx, js, out)
}

// publishThroughLoss publishes the demo's messages. Once stopAfter of them
// are acknowledged, the stream's leader stops; once restartAfter are, it
// starts again. Publishing goes on all the while.
func publishThroughLoss(ctx context.Context, c *cluster, p publisher, log io.Writer) (map[int]uint64, error) {
	leader := c.streamLeader(streamName)
	if leader == nil {
		return nil, fmt.Errorf("%s has no leader", streamName)
	}
	reached := make(chan int, 2)
	lossDone := make(chan error, 1)
	go func() { lossDone <- stopAndRestart(c, leader, reached, log) }()
	acked := make(map[int]uint64)
	err := func() error {
		defer close(reached)
		for n := 1; n <= demoMessages; n++ {
			ack, err := p.publish(ctx, n)
			if err != nil {
				return err
			}
			acked[n] = ack.Sequence
			if n == stopAfter || n == restartAfter {
				reached <- n
			}
			select {
			case <-ctx.Done():
				return context.Cause(ctx)
			case <-time.After(publishPace):
			}
		}
		return nil
	}()
	return acked, errors.Join(err, <-lossDone)
}

// stopAndRestart stops the leader once the publisher reaches stopAfter, and
// waits for another node to take over; it starts the node again once the
// publisher reaches restartAfter.
func stopAndRestart(c *cluster, leader *node, reached <-chan int, log io.Writer) error {
	if _, ok := <-reached; !ok {
		return nil // the publisher failed first
	}
	start := time.Now()
	leader.stop()
	err := waitFor(context.Background(), readyTimeout, func() error {
		if c.streamLeader(streamName) == nil {
			return fmt.Errorf("%s has no leader since %s stopped", streamName, leader.name)
		}
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(log, "10-cluster: stopped %s, the leader of %s; %s leads it now, %s after the stop began\n",
		leader.name, streamName, c.streamLeader(streamName).name, time.Since(start).Round(time.Millisecond))
	if _, ok := <-reached; !ok {
		return nil
	}
	start = time.Now()
	if err := leader.start(); err != nil {
		return err
	}
	if err := waitStored(context.Background(), leader, restartAfter); err != nil {
		return err
	}
	fmt.Fprintf(log, "10-cluster: %s is back, and holds at least %s, %s after its start\n", leader.name, message(restartAfter), time.Since(start).Round(time.Millisecond))
	return nil
}

// waitStored waits until node's copy of the stream holds want messages.
func waitStored(ctx context.Context, n *node, want int) error {
	return waitFor(ctx, readyTimeout, func() error {
		got, err := n.stored(streamName)
		if err != nil {
			return err
		}
		if got < uint64(want) {
			return fmt.Errorf("%s holds %d of %d messages", n.name, got, want)
		}
		return nil
	})
}

// totals checks the end state and prints it in one line: every acknowledged
// message stored once on every node, and consumed.
func totals(ctx context.Context, c *cluster, stream jetstream.Stream, out io.Writer, acked map[int]uint64, consumed int) error {
	msgs, err := readAll(ctx, stream)
	if err != nil {
		return err
	}
	if problems := checkOnce(msgs); len(problems) > 0 {
		return fmt.Errorf("%s: %v", streamName, problems)
	}
	storedIDs := make(map[string]bool, len(msgs))
	for _, m := range msgs {
		storedIDs[m.id] = true
	}
	lost := 0
	for n := range acked {
		if !storedIDs[messageID(n)] {
			lost++
		}
	}
	for _, n := range c.nodes {
		got, err := n.stored(streamName)
		if err != nil {
			return err
		}
		if got != uint64(len(msgs)) {
			return fmt.Errorf("%s holds %d messages, the stream %d", n.name, got, len(msgs))
		}
	}
	fmt.Fprintf(out, "published %d, acknowledged %d, stored %d on each of %d nodes, consumed %d, lost %d\n",
		demoMessages, len(acked), len(msgs), len(c.nodes), consumed, lost)
	return nil
}
