package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// demo runs the chapter's scenario in one process, one section after the
// other, each on buckets of its own.
func demo(ctx context.Context, js jetstream.JetStream, out io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	sections := []struct {
		title string
		run   func(context.Context, jetstream.JetStream, io.Writer) error
	}{
		{"Revisions, Create, history, Delete and Purge (bucket profiles, history 3)", basics},
		{"Two writers, compare-and-swap (bucket counters)", twoWriters},
		{"Watch (bucket settings)", watchSettings},
		{"A lock with a per-key TTL (bucket locks)", leases},
		{"Chapter 07's events, folded into the bucket balances", projection},
		{"The object store files", objects},
		{"A forged digest", tamper},
		{"Two puts to one name", orphans},
		{"Under the hood: the streams behind the buckets", backingStreams},
	}
	for i, s := range sections {
		if i > 0 {
			fmt.Fprintln(out)
		}
		fmt.Fprintf(out, "== %s\n", s.title)
		if err := s.run(ctx, js, out); err != nil {
			return err
		}
	}
	return nil
}
