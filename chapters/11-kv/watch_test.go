package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// next returns the watcher's next entry, failing the test after the deadline.
func next(t *testing.T, w jetstream.KeyWatcher) jetstream.KeyValueEntry {
	t.Helper()
	select {
	case e, ok := <-w.Updates():
		if !ok {
			t.Fatal("the watcher's channel closed")
		}
		return e
	case <-time.After(jstest.Deadline):
		t.Fatal("no entry from the watcher")
		return nil
	}
}

// A watcher sends nil once the current values are sent, at once on an
// empty bucket. With UpdatesOnly it sends no nil at all, and UpdatesOnly
// cannot be combined with IncludeHistory.
func TestWatchSendsNilOnceTheCurrentValuesAreSent(t *testing.T) {
	t.Parallel()
	_, kv := newBucket(t, jetstream.KeyValueConfig{Bucket: "settings", History: 5})
	ctx := jstest.Context(t)
	w, err := kv.WatchAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if e := next(t, w); e != nil {
		t.Fatalf("first entry on an empty bucket: %s, want nil", describe(e))
	}

	only, err := kv.WatchAll(ctx, jetstream.UpdatesOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer only.Stop()
	put(t, kv, "log.level", "info")
	if e := next(t, only); e == nil || e.Key() != "log.level" {
		t.Fatalf("UpdatesOnly: first entry %v, want the put and no nil before it", e)
	}
	if _, err := kv.WatchAll(ctx, jetstream.UpdatesOnly(), jetstream.IncludeHistory()); err == nil {
		t.Fatal("UpdatesOnly with IncludeHistory: no error")
	}
}

// A watch is state, not a log. A watcher that starts late gets the last
// value of each key, not the revisions before it (unless IncludeHistory
// asks for those the history still holds). A live watcher under fast writes
// can skip revisions that the history no longer holds when it gets there;
// what holds is that revisions only increase and that it ends on the last.
func TestAWatchIsStateNotALog(t *testing.T) {
	t.Parallel()
	js, kv := newBucket(t, jetstream.KeyValueConfig{Bucket: "counters"}) // history 1
	ctx := jstest.Context(t)
	for i := 1; i <= 10; i++ {
		put(t, kv, "visits", strconv.Itoa(i))
	}
	late, err := kv.WatchAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if e := next(t, late); e == nil || string(e.Value()) != "10" || next(t, late) != nil {
		t.Fatal("a late watcher: want visits=10, then nil")
	}
	if err := late.Stop(); err != nil {
		t.Fatal(err)
	}
	long, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "long", History: 5})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 10; i++ {
		put(t, long, "visits", strconv.Itoa(i))
	}
	history, err := long.WatchAll(ctx, jetstream.IncludeHistory())
	if err != nil {
		t.Fatal(err)
	}
	defer history.Stop()
	var got []string
	for e := next(t, history); e != nil; e = next(t, history) {
		got = append(got, string(e.Value()))
	}
	if strings.Join(got, " ") != "6 7 8 9 10" {
		t.Fatalf("IncludeHistory with history 5: %v, want 6 to 10", got)
	}

	// Live: a watcher that started before 300 fast writes.
	live, err := kv.WatchAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Stop()
	if e := next(t, live); e == nil || next(t, live) != nil {
		t.Fatal("live watcher: want visits=10, then nil")
	}
	const writes = 300
	var last uint64
	written := make(chan error, 1)
	go func() {
		var err error
		for i := 1; i <= writes && err == nil; i++ {
			last, err = kv.PutString(ctx, "visits", "w"+strconv.Itoa(i))
		}
		written <- err
	}()
	seen, previous := 0, uint64(10)
	for {
		e := next(t, live)
		if e.Revision() <= previous {
			t.Fatalf("revision %d after %d: revisions must increase", e.Revision(), previous)
		}
		previous, seen = e.Revision(), seen+1
		if string(e.Value()) == "w"+strconv.Itoa(writes) {
			break
		}
	}
	if err := <-written; err != nil {
		t.Fatal(err)
	}
	if previous != last {
		t.Fatalf("ended on revision %d, the last write was %d", previous, last)
	}
	t.Logf("the live watcher saw %d of %d revisions, in order, ending on the last", seen, writes)
}

// syncBuffer lets a test read what a goroutine has written so far.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitForLines waits until out holds every line of want.
func waitForLines(t *testing.T, out *syncBuffer, limit time.Duration, want ...string) error {
	t.Helper()
	return jstest.WaitFor(limit, func() error {
		for _, line := range want {
			if !strings.Contains(out.String(), line+"\n") {
				return fmt.Errorf("no line %q in:\n%s", line, out.String())
			}
		}
		return nil
	})
}

// restartable is a JetStream server that a test can stop and start again on
// the same port and store, as after "nats-server" is restarted.
type restartable struct {
	t     *testing.T
	store string
	port  int
	s     *server.Server
}

func startRestartable(t *testing.T) *restartable {
	r := &restartable{t: t, store: t.TempDir(), port: server.RANDOM_PORT}
	r.start()
	r.port = r.s.Addr().(*net.TCPAddr).Port
	t.Cleanup(func() { r.s.Shutdown() })
	return r
}

func (r *restartable) start() {
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: r.port, JetStream: true, StoreDir: r.store, NoSigs: true})
	if err != nil {
		r.t.Fatal(err)
	}
	s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		r.t.Fatal("server not ready")
	}
	r.s = s
}

func (r *restartable) restart() {
	r.s.Shutdown()
	r.s.WaitForShutdown()
	r.start()
}

// connect connects to the server with reconnects that never give up.
func (r *restartable) connect() (*nats.Conn, jetstream.JetStream) {
	nc, err := nats.Connect(r.s.ClientURL(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		r.t.Fatal(err)
	}
	return nc, js
}

// The watch role's watcher comes back after a server restart: on the
// reconnect it resumes after the last revision it printed, so it prints
// what was written while it was away, once, in order, within seconds
// rather than after the 10 to 20 s a watcher needs on its own.
func TestTheWatchRoleResumesAfterARestart(t *testing.T) {
	t.Parallel()
	srv := startRestartable(t)
	nc, js := srv.connect()
	ctx, cancel := context.WithCancel(jstest.Context(t))
	defer cancel()
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: kvBucket, History: 5})
	if err != nil {
		t.Fatal(err)
	}
	put(t, kv, "a", "1")
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- watch(ctx, nc, kv, &out, 0) }()
	if err := waitForLines(t, &out, jstest.Deadline, `a = "1" (revision 1)`, "(up to date: changes follow)"); err != nil {
		t.Fatal(err)
	}

	srv.restart()
	restarted := time.Now()
	_, writer := srv.connect()
	wkv, err := writer.KeyValue(ctx, kvBucket)
	if err != nil {
		t.Fatal(err)
	}
	put(t, wkv, "a", "2")
	put(t, wkv, "b", "1")
	// 8 s: sooner than a watcher recovers by itself (10 s at the earliest).
	if err := waitForLines(t, &out, 8*time.Second, `a = "2" (revision 2)`, `b = "1" (revision 3)`); err != nil {
		t.Fatal(err)
	}
	t.Logf("the changes arrived %s after the restart", time.Since(restarted).Round(time.Millisecond))
	want := "a = \"1\" (revision 1)\n(up to date: changes follow)\na = \"2\" (revision 2)\nb = \"1\" (revision 3)\n"
	if out.String() != want {
		t.Fatalf("printed:\n%s\nwant each revision once, in order:\n%s", out.String(), want)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("watch after Ctrl+C: %v", err)
	}
}

// A bucket in memory is gone after a restart, and so is its watch.
func TestAWatchOfAMemoryBucketEndsWithARestart(t *testing.T) {
	t.Parallel()
	srv := startRestartable(t)
	nc, js := srv.connect()
	ctx := jstest.Context(t)
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "sessions", Storage: jetstream.MemoryStorage})
	if err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- watch(ctx, nc, kv, &out, 0) }()
	if err := waitForLines(t, &out, jstest.Deadline, "(up to date: changes follow)"); err != nil {
		t.Fatal(err)
	}
	srv.restart()
	select {
	case err := <-done:
		if !errors.Is(err, errBucketGone) {
			t.Fatalf("watch of a memory bucket after a restart: %v, want errBucketGone", err)
		}
	case <-ctx.Done():
		t.Fatal("the watch did not end")
	}
}

// Opt-in (KV_SLOW_TEST=1), since it takes 10 to 20 s: a watcher left to
// itself after a server restart is silent until its consumer misses two
// heartbeats (5 s apart), then it is reset and delivers what it missed.
func TestAWatcherRecoversByItselfAfterARestart(t *testing.T) {
	if os.Getenv("KV_SLOW_TEST") != "1" {
		t.Skip("takes 10 to 20 s; run with KV_SLOW_TEST=1")
	}
	t.Parallel()
	srv := startRestartable(t)
	_, js := srv.connect()
	ctx := jstest.Context(t)
	ctx, cancel := context.WithTimeout(ctx, 40*time.Second)
	defer cancel()
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: kvBucket, History: 5})
	if err != nil {
		t.Fatal(err)
	}
	w, err := kv.WatchAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if e := next(t, w); e != nil {
		t.Fatal("want nil first")
	}
	srv.restart()
	restarted := time.Now()
	_, writer := srv.connect()
	wkv, err := writer.KeyValue(ctx, kvBucket)
	if err != nil {
		t.Fatal(err)
	}
	put(t, wkv, "a", "2")
	select {
	case e := <-w.Updates():
		took := time.Since(restarted)
		t.Logf("the watcher delivered %s %s after %s", e.Key(), describe(e), took.Round(time.Millisecond))
		if took < 5*time.Second {
			t.Fatalf("delivered after %s: the watcher was not silent", took)
		}
	case <-ctx.Done():
		t.Fatal("the watcher never recovered")
	}
}
