package main

import (
	"errors"
	"testing"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/nats.go/jetstream"
)

// waitGone waits until key is gone from the bucket and returns when that
// was seen.
func waitGone(t *testing.T, kv jetstream.KeyValue, key string) time.Time {
	t.Helper()
	ctx := jstest.Context(t)
	jstest.Eventually(t, func() error {
		if _, err := kv.Get(ctx, key); !errors.Is(err, jetstream.ErrKeyNotFound) {
			return errors.New(key + " is still there")
		}
		return nil
	})
	return time.Now()
}

// The bucket's TTL is the stream's MaxAge: a key goes once its last
// revision is older than that. Without LimitMarkerTTL that is silent: a
// watcher gets no entry. With it, the watcher gets a PURGE marker.
func TestBucketTTLRemovesKeys(t *testing.T) {
	t.Parallel()
	// A marker lives for LimitMarkerTTL; 5 s leaves a slow watcher time to get it.
	for _, markers := range []time.Duration{0, 5 * time.Second} {
		t.Run("LimitMarkerTTL="+markers.String(), func(t *testing.T) {
			t.Parallel()
			bucketTTL(t, markers)
		})
	}
}

func bucketTTL(t *testing.T, markers time.Duration) {
	js, kv := newBucket(t, jetstream.KeyValueConfig{Bucket: "sessions", TTL: 500 * time.Millisecond, LimitMarkerTTL: markers})
	ctx := jstest.Context(t)
	w, err := kv.WatchAll(ctx, jetstream.UpdatesOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	put(t, kv, "s1", "alice")
	start := time.Now()
	if took := waitGone(t, kv, "s1").Sub(start); took < 500*time.Millisecond {
		t.Fatalf("gone after %s, before the TTL of 500ms", took)
	} else {
		t.Logf("LimitMarkerTTL %s: the key was gone %s after its put", markers, took.Round(10*time.Millisecond))
	}
	if markers == 0 {
		if last := streamInfo(t, js, "KV_sessions").State.LastSeq; last != 1 {
			t.Fatalf("the stream's last sequence is %d; without markers the expiry should write nothing", last)
		}
		return // nothing written: there is nothing a watcher could be sent
	}
	// The watcher may have skipped s1's put, which the marker replaced
	// (history 1); the first entry that is not a put is the marker.
	e := next(t, w)
	for e.Operation() == jetstream.KeyValuePut {
		e = next(t, w)
	}
	if e.Key() != "s1" || e.Operation() != jetstream.KeyValuePurge {
		t.Fatalf("with markers: %s %s, want s1's PURGE marker", e.Key(), describe(e))
	}
}

// A per-key TTL (KeyTTL on Create) needs LimitMarkerTTL on the bucket, and
// at least one second. The key is gone after it, and watchers get a PURGE
// marker. Update and Put keep the value but drop the TTL: the key then
// never expires.
func TestAPerKeyTTLNeedsMarkersAndUpdateOrPutDropsIt(t *testing.T) {
	t.Parallel()
	js, plain := newBucket(t, jetstream.KeyValueConfig{Bucket: "plain"})
	ctx := jstest.Context(t)
	if _, err := plain.Create(ctx, "k", []byte("v"), jetstream.KeyTTL(time.Second)); apiCode(err) != codeMsgTTLDisabled {
		t.Fatalf("KeyTTL without LimitMarkerTTL: %v, want error %d", err, codeMsgTTLDisabled)
	}
	if _, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "short", LimitMarkerTTL: 500 * time.Millisecond}); apiCode(err) != codeInvalidConfig {
		t.Fatalf("LimitMarkerTTL 500ms: %v, want error %d", err, codeInvalidConfig)
	}
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "locks", LimitMarkerTTL: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Create(ctx, "k", []byte("v"), jetstream.KeyTTL(500*time.Millisecond)); apiCode(err) != codeInvalidMsgTTL {
		t.Fatalf("KeyTTL 500ms: %v, want error %d", err, codeInvalidMsgTTL)
	}

	w, err := kv.WatchAll(ctx, jetstream.UpdatesOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	start := time.Now()
	for _, key := range []string{"held", "renewed", "overwritten"} {
		if _, err := kv.Create(ctx, key, []byte("worker-1"), jetstream.KeyTTL(time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	updated, err := kv.Update(ctx, "renewed", []byte("worker-1 again"), 2)
	if err != nil {
		t.Fatal(err)
	}
	overwritten := put(t, kv, "overwritten", "worker-1 again")
	stream, err := js.Stream(ctx, "KV_locks")
	if err != nil {
		t.Fatal(err)
	}
	for seq, want := range map[uint64]string{1: "1s", updated: "", overwritten: ""} {
		msg, err := stream.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		if got := msg.Header.Get("Nats-TTL"); got != want {
			t.Fatalf("message %d (%s): Nats-TTL %q, want %q", seq, msg.Subject, got, want)
		}
	}

	// The watcher may skip puts that a later revision replaced (history 1);
	// the first entry that is not a put must be held's marker.
	marker := next(t, w)
	for marker.Operation() == jetstream.KeyValuePut {
		marker = next(t, w)
	}
	if marker.Key() != "held" || marker.Operation() != jetstream.KeyValuePurge {
		t.Fatalf("after the writes: %s %s, want held's PURGE marker", marker.Key(), describe(marker))
	}
	if took := time.Since(start); took < time.Second {
		t.Fatalf("held expired after %s, before its TTL", took)
	}
	// Had Update or Put kept or renewed the TTL, renewed or overwritten
	// would expire within a second or two. Waiting out that time is the test.
	select {
	case e := <-w.Updates():
		t.Fatalf("%s %s: renewed expired, or something else changed", e.Key(), describe(e))
	case <-time.After(2500*time.Millisecond - time.Since(start)):
	}
	for _, key := range []string{"renewed", "overwritten"} {
		if e, err := kv.Get(ctx, key); err != nil || string(e.Value()) != "worker-1 again" {
			t.Fatalf("%s after 2.5 s: %v, want it still there", key, err)
		}
	}
}
