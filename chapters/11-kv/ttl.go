package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// docs:start ttl
// leases uses a key with a TTL of its own as a lock: Create takes it only if
// nobody holds it, and the server removes it when its TTL is up, writing a
// marker that a watcher sees. Per-key TTLs need LimitMarkerTTL on the
// bucket, and count in whole seconds.
func leases(ctx context.Context, js jetstream.JetStream, out io.Writer) (err error) {
	// LimitMarkerTTL: how long the server keeps the marker it writes when a
	// key expires, and what turns per-key TTLs on.
	kv, err := freshBucket(ctx, js, jetstream.KeyValueConfig{Bucket: "locks", LimitMarkerTTL: time.Minute})
	if err != nil {
		return err
	}
	w, err := kv.Watch(ctx, "job.42", jetstream.UpdatesOnly()) // changes from now on; no nil marker
	if err != nil {
		return fmt.Errorf("watch job.42: %w", err)
	}
	defer func() { err = errors.Join(err, stopWatcher(w)) }()

	rev, err := kv.Create(ctx, "job.42", []byte("worker-1"), jetstream.KeyTTL(time.Second))
	if err != nil {
		return fmt.Errorf("worker-1 takes job.42: %w", err)
	}
	fmt.Fprintf(out, "worker-1 takes the lock job.42 for 1s: revision %d\n", rev)
	_, err = kv.Create(ctx, "job.42", []byte("worker-2"), jetstream.KeyTTL(time.Second))
	if !errors.Is(err, jetstream.ErrKeyExists) {
		return fmt.Errorf("worker-2 takes job.42 while worker-1 holds it: %v, want ErrKeyExists", err)
	}
	fmt.Fprintln(out, "worker-2 tries: refused, the key exists")

	for {
		var entry jetstream.KeyValueEntry
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for job.42 to expire: %w", context.Cause(ctx))
		case e, ok := <-w.Updates():
			if !ok {
				return errors.New("the watch of locks ended before job.42 expired")
			}
			entry = e
		}
		if entry.Operation() == jetstream.KeyValuePurge { // the server's marker: the TTL is up
			fmt.Fprintf(out, "watch: %s %s, written by the server\n", entry.Key(), describe(entry))
			break
		}
	}
	rev, err = kv.Create(ctx, "job.42", []byte("worker-2"), jetstream.KeyTTL(time.Second))
	if err != nil {
		return fmt.Errorf("worker-2 takes job.42 after it expired: %w", err)
	}
	fmt.Fprintf(out, "worker-2 tries again: revision %d\n", rev)
	return nil
}

// docs:end ttl
