package main

import (
	"context"
	"io"
	"log"
	"os"
	"time"
)

// The whole scenario, as "go run ./chapters/10-cluster" prints it. The
// nodes' names and the timings change from run to run, so they go to stderr.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := demo(ctx, os.Stdout, io.Discard); err != nil {
		log.Fatal(err)
	}
	// Output:
	// Started n1, n2 and n3, the nodes of cluster "tutorial", in this process: each has its own store, and routes to all three.
	// The cluster is ready: it elected a meta leader, which knows all 3 nodes.
	// Created stream ORDERS with 3 replicas.
	// Created the durable consumer processor: it has 3 replicas too, like its stream.
	// Publishing Message 1 to Message 300 on orders.new, while processor consumes them.
	// After Message 100, the stream's leader stopped: a follower took over, and the publisher went on.
	// After Message 200, the stopped node started again on its store, and caught up.
	// All 300 messages were acknowledged.
	// published 300, acknowledged 300, stored 300 on each of 3 nodes, consumed 300, lost 0
	// A stream with 5 replicas on 3 nodes is refused: error 10005, no suitable peers for placement.
}
