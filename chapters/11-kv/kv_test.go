package main

import (
	"context"
	"errors"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/nats.go/jetstream"
)

// The server's error codes that nats.go has no constant for.
const (
	codeStoreFailed    jetstream.ErrorCode = 10077 // "maximum bytes exceeded" and other store limits
	codeInvalidMsgTTL  jetstream.ErrorCode = 10165 // "invalid per-message TTL"
	codeMsgTTLDisabled jetstream.ErrorCode = 10166 // "per-message TTL is disabled"
	codeInvalidConfig  jetstream.ErrorCode = 10052 // "invalid stream configuration"
	codeSealedStream   jetstream.ErrorCode = 10109 // "invalid operation on sealed stream"
)

// newBucket starts a server and creates a bucket on it.
func newBucket(t *testing.T, cfg jetstream.KeyValueConfig) (jetstream.JetStream, jetstream.KeyValue) {
	t.Helper()
	_, js := jstest.Connect(t, jstest.Server(t))
	kv, err := js.CreateKeyValue(jstest.Context(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return js, kv
}

func put(t *testing.T, kv jetstream.KeyValue, key, value string) uint64 {
	t.Helper()
	rev, err := kv.PutString(jstest.Context(t), key, value)
	if err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
	return rev
}

// streamInfo returns the current info of a bucket's stream.
func streamInfo(t *testing.T, js jetstream.JetStream, name string) *jetstream.StreamInfo {
	t.Helper()
	ctx := jstest.Context(t)
	stream, err := js.Stream(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// A bucket is the stream KV_<bucket> on $KV.<bucket>.>, with History as
// its per-subject limit, DiscardNew, rollups allowed and deletes denied;
// TTL is MaxAge, and LimitMarkerTTL turns per-message TTLs on.
func TestABucketIsAStream(t *testing.T) {
	t.Parallel()
	js, _ := newBucket(t, jetstream.KeyValueConfig{Bucket: "profiles", History: 5})
	ctx := jstest.Context(t)
	cfg := streamInfo(t, js, "KV_profiles").Config
	if !slices.Equal(cfg.Subjects, []string{"$KV.profiles.>"}) || cfg.MaxMsgsPerSubject != 5 || cfg.Discard != jetstream.DiscardNew ||
		!cfg.AllowRollup || !cfg.DenyDelete || !cfg.AllowDirect || cfg.MaxMsgs != -1 || cfg.MaxAge != 0 ||
		cfg.Storage != jetstream.FileStorage || cfg.Duplicates != 2*time.Minute || cfg.AllowMsgTTL {
		t.Fatalf("KV_profiles: %+v", cfg)
	}

	if _, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "sessions", TTL: time.Minute, LimitMarkerTTL: time.Second}); err != nil {
		t.Fatal(err)
	}
	cfg = streamInfo(t, js, "KV_sessions").Config
	if cfg.MaxAge != time.Minute || cfg.Duplicates != time.Minute || cfg.MaxMsgsPerSubject != 1 || !cfg.AllowMsgTTL || cfg.SubjectDeleteMarkerTTL != time.Second {
		t.Fatalf("KV_sessions: max age %s, duplicates %s, per subject %d, msg TTL %t, marker TTL %s",
			cfg.MaxAge, cfg.Duplicates, cfg.MaxMsgsPerSubject, cfg.AllowMsgTTL, cfg.SubjectDeleteMarkerTTL)
	}
}

// A revision is the stream sequence: one counter for the whole bucket.
// GetRevision with another key's revision finds nothing.
func TestARevisionIsTheStreamSequence(t *testing.T) {
	t.Parallel()
	js, kv := newBucket(t, jetstream.KeyValueConfig{Bucket: "profiles", History: 5})
	ctx := jstest.Context(t)
	revs := []uint64{put(t, kv, "alice", "blue"), put(t, kv, "bob", "green"), put(t, kv, "alice", "red")}
	if !slices.Equal(revs, []uint64{1, 2, 3}) {
		t.Fatalf("revisions %v, want 1 2 3", revs)
	}
	if last := streamInfo(t, js, "KV_profiles").State.LastSeq; last != 3 {
		t.Fatalf("stream's last sequence %d, want 3", last)
	}
	e, err := kv.GetRevision(ctx, "alice", 1)
	if err != nil || string(e.Value()) != "blue" {
		t.Fatalf("alice at revision 1: %v", err)
	}
	if _, err := kv.GetRevision(ctx, "alice", 2); !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Fatalf("alice at bob's revision 2: %v, want ErrKeyNotFound", err)
	}
}

// Create refuses a key that exists (10071), and works again after Delete or
// Purge. Update with revision 0 is Create without that: it fails on a key
// whose last operation was a delete.
func TestCreateRefusesAKeyThatExists(t *testing.T) {
	t.Parallel()
	_, kv := newBucket(t, jetstream.KeyValueConfig{Bucket: "profiles"})
	ctx := jstest.Context(t)
	if _, err := kv.Create(ctx, "carol", []byte("black")); err != nil {
		t.Fatal(err)
	}
	_, err := kv.Create(ctx, "carol", []byte("white"))
	if !errors.Is(err, jetstream.ErrKeyExists) || apiCode(err) != jetstream.JSErrCodeStreamWrongLastSequence {
		t.Fatalf("create again: %v, want ErrKeyExists with 10071", err)
	}
	for _, remove := range []func(context.Context, string, ...jetstream.KVDeleteOpt) error{kv.Delete, kv.Purge} {
		if err := remove(ctx, "carol"); err != nil {
			t.Fatal(err)
		}
		if _, err := kv.Update(ctx, "carol", []byte("grey"), 0); !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			t.Fatalf("update from 0 after a delete marker: %v, want a mismatch", err)
		}
		if _, err := kv.Create(ctx, "carol", []byte("white")); err != nil {
			t.Fatalf("create after a delete marker: %v", err)
		}
	}
	if _, err := kv.Update(ctx, "dave", []byte("new"), 0); err != nil {
		t.Fatalf("update from 0 of a key that never existed: %v", err)
	}
}

// History is how many revisions of each key the bucket keeps: 1 unless
// set, at most 64. Older ones are gone, for History and for watchers.
func TestHistoryKeepsTheLastRevisionsOfEachKey(t *testing.T) {
	t.Parallel()
	js, kv := newBucket(t, jetstream.KeyValueConfig{Bucket: "profiles", History: 3})
	ctx := jstest.Context(t)
	for _, v := range []string{"v1", "v2", "v3", "v4", "v5"} {
		put(t, kv, "alice", v)
	}
	history, err := kv.History(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range history {
		got = append(got, describe(e))
	}
	if want := []string{"PUT@3 v3", "PUT@4 v4", "PUT@5 v5"}; !slices.Equal(got, want) {
		t.Fatalf("history %v, want %v", got, want)
	}

	byDefault, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "defaults"})
	if err != nil {
		t.Fatal(err)
	}
	put(t, byDefault, "k", "1")
	put(t, byDefault, "k", "2")
	if history, err := byDefault.History(ctx, "k"); err != nil || len(history) != 1 {
		t.Fatalf("default history: %d entries (%v), want 1", len(history), err)
	}
	if _, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "long", History: 65}); !errors.Is(err, jetstream.ErrHistoryTooLarge) {
		t.Fatalf("history 65: %v, want ErrHistoryTooLarge", err)
	}
}

// Delete writes a marker: Get and Keys no longer see the key, History
// does. A Delete of a key that never existed writes a marker too, and takes
// a revision. Purge drops the key's history and keeps one marker;
// PurgeDeletes removes markers older than 30 minutes unless told otherwise.
func TestDeleteLeavesAMarkerPurgeDropsTheHistory(t *testing.T) {
	t.Parallel()
	_, kv := newBucket(t, jetstream.KeyValueConfig{Bucket: "profiles", History: 5})
	ctx := jstest.Context(t)
	put(t, kv, "alice", "blue")
	put(t, kv, "bob", "green")
	if err := kv.Delete(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Get(ctx, "bob"); !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Fatalf("get after delete: %v, want ErrKeyNotFound", err)
	}
	if keys, err := kv.Keys(ctx); err != nil || !slices.Equal(keys, []string{"alice"}) {
		t.Fatalf("keys %v (%v), want [alice]", keys, err)
	}
	history, err := kv.History(ctx, "bob")
	if err != nil || len(history) != 2 || history[1].Operation() != jetstream.KeyValueDelete {
		t.Fatalf("bob's history: %d entries (%v), want PUT then DEL", len(history), err)
	}

	if err := kv.Delete(ctx, "nobody"); err != nil {
		t.Fatalf("delete of a key that never existed: %v, want nil", err)
	}
	history, err = kv.History(ctx, "nobody")
	if err != nil || len(history) != 1 || history[0].Revision() != 4 {
		t.Fatalf("history of nobody: %d entries (%v), want one marker at revision 4", len(history), err)
	}

	put(t, kv, "alice", "red")
	if err := kv.Purge(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	history, err = kv.History(ctx, "alice")
	if err != nil || len(history) != 1 || history[0].Operation() != jetstream.KeyValuePurge {
		t.Fatalf("alice's history after purge: %d entries (%v), want one PURGE", len(history), err)
	}

	status := func() uint64 {
		st, err := kv.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return st.Values()
	}
	before := status() // bob PUT and DEL, nobody's DEL, alice's PURGE
	if err := kv.PurgeDeletes(ctx); err != nil {
		t.Fatal(err)
	}
	if after := status(); after != before-1 {
		t.Fatalf("PurgeDeletes(): %d values left of %d, want bob's PUT gone and the fresh markers kept", after, before)
	}
	if err := kv.PurgeDeletes(ctx, jetstream.DeleteMarkersOlderThan(-1)); err != nil {
		t.Fatal(err)
	}
	if after := status(); after != 0 {
		t.Fatalf("PurgeDeletes(DeleteMarkersOlderThan(-1)): %d values left, want 0", after)
	}
}

// Keys of an empty bucket is an error; ListKeys is not.
func TestKeysOfAnEmptyBucketIsAnError(t *testing.T) {
	t.Parallel()
	_, kv := newBucket(t, jetstream.KeyValueConfig{Bucket: "empty"})
	ctx := jstest.Context(t)
	if _, err := kv.Keys(ctx); !errors.Is(err, jetstream.ErrNoKeysFound) {
		t.Fatalf("Keys: %v, want ErrNoKeysFound", err)
	}
	list, err := kv.ListKeys(ctx)
	if err != nil {
		t.Fatalf("ListKeys: %v", err)
	}
	for key := range list.Keys() {
		t.Fatalf("ListKeys gave %s", key)
	}
}

// A key is everything after $KV.<bucket>., so it may span several subject
// tokens: a watch of user.* misses user.1.email, user.> does not. Spaces,
// wildcards, leading or trailing dots and non-ASCII letters are refused.
func TestAKeyMaySpanSeveralTokens(t *testing.T) {
	t.Parallel()
	_, kv := newBucket(t, jetstream.KeyValueConfig{Bucket: "users"})
	ctx := jstest.Context(t)
	put(t, kv, "user.1", "alice")
	put(t, kv, "user.1.email", "alice@example.com")
	put(t, kv, "dir/file=1.txt", "ok")
	for pattern, want := range map[string][]string{"user.*": {"user.1"}, "user.>": {"user.1", "user.1.email"}} {
		w, err := kv.Watch(ctx, pattern)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for e := range w.Updates() {
			if e == nil {
				break
			}
			got = append(got, e.Key())
		}
		if err := w.Stop(); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("watch %s: %v, want %v", pattern, got, want)
		}
	}
	for _, key := range []string{"a b", ".a", "a.", "a..b", "a*", "a>", "", "ключ"} {
		if _, err := kv.PutString(ctx, key, "x"); !errors.Is(err, jetstream.ErrInvalidKey) {
			t.Errorf("put %q: %v, want ErrInvalidKey", key, err)
		}
	}
}

// CreateKeyValue with the same configuration is a no-op; with another, it
// fails (10058), and CreateOrUpdateKeyValue is the way to change it. The
// roles therefore bind to an existing bucket and never change it.
func TestCreatingABucketAgainWithOtherSettingsFails(t *testing.T) {
	t.Parallel()
	js, _ := newBucket(t, jetstream.KeyValueConfig{Bucket: "example_kv"}) // as "nats kv add example_kv"
	ctx := jstest.Context(t)
	_, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "example_kv", History: 5})
	if !errors.Is(err, jetstream.ErrBucketExists) || apiCode(err) != jetstream.JSErrCodeStreamNameInUse {
		t.Fatalf("create with history 5: %v, want ErrBucketExists with 10058", err)
	}
	if _, err := ensureKV(ctx, js, io.Discard); err != nil {
		t.Fatalf("ensureKV on natscli's bucket: %v", err)
	}
	if history := streamInfo(t, js, "KV_example_kv").Config.MaxMsgsPerSubject; history != 1 {
		t.Fatalf("history %d after ensureKV, want natscli's 1 kept", history)
	}
	if _, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "example_kv", History: 5}); err != nil {
		t.Fatalf("CreateOrUpdateKeyValue: %v", err)
	}
}

// A bucket discards new writes, not old values: when it is full, Put fails
// with 10077 instead of evicting other keys.
func TestAFullBucketRefusesWrites(t *testing.T) {
	t.Parallel()
	_, kv := newBucket(t, jetstream.KeyValueConfig{Bucket: "small", MaxBytes: 200})
	ctx := jstest.Context(t)
	put(t, kv, "a", "first")
	var err error
	for i := 0; err == nil && i < 10; i++ {
		_, err = kv.Put(ctx, "k"+string(rune('0'+i)), make([]byte, 50))
	}
	if apiCode(err) != codeStoreFailed {
		t.Fatalf("put into a full bucket: %v, want error 10077", err)
	}
	if e, err := kv.Get(ctx, "a"); err != nil || string(e.Value()) != "first" {
		t.Fatalf("the first key after the bucket filled up: %v", err)
	}
}
