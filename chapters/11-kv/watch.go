package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/connect"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// docs:start watch-demo
// watchSettings shows a watcher: first the current value of every key
// (a deleted key as its marker), then nil once they are all sent, then each
// change as it is written.
func watchSettings(ctx context.Context, js jetstream.JetStream, out io.Writer) error {
	kv, err := freshBucket(ctx, js, jetstream.KeyValueConfig{Bucket: "settings"})
	if err != nil {
		return err
	}
	for _, put := range [][2]string{{"log.level", "info"}, {"log.level.http", "debug"}, {"feature.search", "on"}} {
		if _, err := kv.PutString(ctx, put[0], put[1]); err != nil {
			return fmt.Errorf("put %s: %w", put[0], err)
		}
	}
	if err := kv.Delete(ctx, "feature.search"); err != nil {
		return fmt.Errorf("delete feature.search: %w", err)
	}

	w, err := kv.WatchAll(ctx)
	if err != nil {
		return fmt.Errorf("watch settings: %w", err)
	}
	defer func() { err = errors.Join(err, stopWatcher(w)) }()
	changes := [][2]string{{"log.level", "warn"}, {"feature.search", "off"}}
	for {
		var entry jetstream.KeyValueEntry
		select {
		case <-ctx.Done():
			return fmt.Errorf("watch settings: %w", context.Cause(ctx))
		case e, ok := <-w.Updates():
			if !ok {
				return errors.New("the watch of settings ended too early")
			}
			entry = e
		}
		if entry == nil { // the current values are all sent: now change some
			fmt.Fprintln(out, "nil: up to date, now two changes")
			for _, put := range changes {
				if _, err := kv.PutString(ctx, put[0], put[1]); err != nil {
					return fmt.Errorf("put %s: %w", put[0], err)
				}
			}
			continue
		}
		fmt.Fprintf(out, "watch: %s %s\n", entry.Key(), describe(entry))
		if entry.Key() == changes[len(changes)-1][0] && entry.Operation() == jetstream.KeyValuePut {
			return nil
		}
	}
}

// docs:end watch-demo

// docs:start watch
// watch prints the bucket's current values, a line once they are all
// shown, then every change until ctx ends, or until limit entries (0: no
// limit). A watcher's consumer lives in the server's memory; after a server
// restart the watcher stays silent until it misses its heartbeats (10 to 20
// s). So on each reconnect, watch replaces it with one that resumes after
// the last revision it printed.
func watch(ctx context.Context, nc *nats.Conn, kv jetstream.KeyValue, out io.Writer, limit int) (err error) {
	reconnected := make(chan struct{}, 1)
	previous := nc.ReconnectHandler()
	nc.SetReconnectHandler(func(c *nats.Conn) {
		if previous != nil {
			previous(c)
		}
		select {
		case reconnected <- struct{}{}:
		default: // a resume is already due
		}
	})
	defer nc.SetReconnectHandler(previous)

	w, err := kv.WatchAll(ctx)
	if err != nil {
		return fmt.Errorf("watch %s: %w", kv.Bucket(), err)
	}
	defer func() { err = errors.Join(err, stopWatcher(w)) }()
	var last uint64 // the last revision printed
	printed, upToDate := 0, false
	for {
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-reconnected:
			if err := stopWatcher(w); err != nil {
				return err
			}
			resumed, err := resume(ctx, kv, last)
			if err != nil {
				return err
			}
			w = resumed
		case entry, ok := <-w.Updates():
			switch {
			case !ok && ctx.Err() != nil:
				return context.Cause(ctx) // the watcher's subscription ends with ctx
			case !ok && nc.IsClosed():
				return connect.ErrConnectionLost
			case !ok:
				return fmt.Errorf("the watch of %s ended: %w", kv.Bucket(), errBucketGone)
			case entry == nil:
				if !upToDate { // a resumed watcher sends nil again
					fmt.Fprintln(out, "(up to date: changes follow)")
					upToDate = true
				}
				continue
			case entry.Revision() <= last:
				continue // printed before a resume
			}
			last = entry.Revision()
			fmt.Fprintln(out, line(entry))
			if printed++; limit > 0 && printed >= limit {
				return nil
			}
		}
	}
}

// errBucketGone ends a watch whose bucket no longer exists.
var errBucketGone = errors.New("the bucket is gone (deleted, or in memory and the server restarted)")

// resume starts a watcher at the revision after last. ResumeFromRevision
// sends every revision the bucket still holds from there, so what changed
// while the server was away is printed too. Right after a restart the
// server may not answer yet: resume tries again for a while.
func resume(ctx context.Context, kv jetstream.KeyValue, last uint64) (jetstream.KeyWatcher, error) {
	giveUp := time.After(30 * time.Second)
	for {
		// ctx, not a shorter one: the watcher lives as long as its context.
		w, err := kv.WatchAll(ctx, jetstream.ResumeFromRevision(last+1))
		if err == nil {
			return w, nil
		}
		if errors.Is(err, jetstream.ErrStreamNotFound) || errors.Is(err, nats.ErrStreamNotFound) {
			return nil, fmt.Errorf("resume the watch of %s after a reconnect: %w", kv.Bucket(), errBucketGone)
		}
		select {
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		case <-giveUp:
			return nil, fmt.Errorf("resume the watch of %s after a reconnect: %w", kv.Bucket(), err)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// docs:end watch

// line is one entry as the watch role prints it: key, value, revision.
func line(e jetstream.KeyValueEntry) string {
	switch e.Operation() {
	case jetstream.KeyValueDelete:
		return fmt.Sprintf("%s deleted (revision %d)", e.Key(), e.Revision())
	case jetstream.KeyValuePurge:
		return fmt.Sprintf("%s purged (revision %d)", e.Key(), e.Revision())
	default:
		return fmt.Sprintf("%s = %q (revision %d)", e.Key(), e.Value(), e.Revision())
	}
}

// stopWatcher stops w. A watcher whose connection is closed, or whose
// consumer (or whole stream, in memory) went with a server restart, has
// nothing left to stop.
func stopWatcher(w jetstream.KeyWatcher) error {
	err := w.Stop()
	if err == nil || errors.Is(err, nats.ErrConnectionClosed) || errors.Is(err, nats.ErrBadSubscription) ||
		errors.Is(err, nats.ErrConsumerNotFound) || errors.Is(err, nats.ErrStreamNotFound) {
		return nil
	}
	return fmt.Errorf("stop watching: %w", err)
}

// watchRole is the watch role, on example_kv.
func watchRole(ctx context.Context, nc *nats.Conn, js jetstream.JetStream, out io.Writer, limit int) error {
	setupCtx, cancel := context.WithTimeout(ctx, roleTimeout)
	defer cancel()
	kv, err := ensureKV(setupCtx, js, out)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Watching %s: its current values, then every change. Press Ctrl+C to exit.\n", kvBucket)
	err = watch(ctx, nc, kv, out, limit)
	if errors.Is(err, context.Canceled) {
		fmt.Fprintln(out, "Watch stopped.")
		return nil
	}
	return err
}
