package main

import (
	"context"
	"fmt"
	"io"
)

// tour runs each role once with small counts, so that the whole chapter
// runs in seconds with nothing installed. Its rates are only a first look:
// an embedded server in the same process is not the server a reader runs
// (see the bench role).
func tour(ctx context.Context, dial dialer, out io.Writer) error {
	pub := publishConfig{stream: "PERF", subject: "perf.publish", size: 128, clients: 1, replicas: 1}
	steps := []struct {
		title string
		run   func() error
	}{
		{"Publish, waiting for each PubAck:", func() error {
			return publishRole(ctx, dial, with(pub, "sync", 2000, 0), out)
		}},
		{"Publish with a window of 500 awaiting their PubAck:", func() error {
			return publishRole(ctx, dial, with(pub, "async", 20_000, 500), out)
		}},
		{"The same with a window of 1:", func() error {
			return publishRole(ctx, dial, with(pub, "async", 2000, 1), out)
		}},
		{"Consume with a callback, then one message at a time:", func() error {
			if err := consumeRole(ctx, dial, consumeConfig{mode: "consume", msgs: 10_000, batch: 500, size: 128}, out); err != nil {
				return err
			}
			return consumeRole(ctx, dial, consumeConfig{mode: "next", msgs: 1000, batch: 1, size: 128}, out)
		}},
		{"Latency from publish to receive, core NATS then a file stream:", func() error {
			if err := latencyRole(ctx, dial, latencyConfig{path: "core", rate: 2000, msgs: 1000, size: 128}, out); err != nil {
				return err
			}
			return latencyRole(ctx, dial, latencyConfig{path: "file", rate: 2000, msgs: 1000, size: 128}, out)
		}},
	}
	for i, step := range steps {
		if i > 0 {
			fmt.Fprintln(out)
		}
		fmt.Fprintln(out, step.title)
		if err := step.run(); err != nil {
			return err
		}
	}
	return nil
}

func with(c publishConfig, mode string, msgs, window int) publishConfig {
	c.mode, c.msgs, c.window = mode, msgs, window
	return c
}
