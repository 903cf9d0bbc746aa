package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/recreate"
	"github.com/nats-io/nats.go/jetstream"
)

// docs:start basics
// basics shows what a bucket keeps: revisions shared by all its keys,
// Create that refuses a key that exists, a bounded history per key, Delete
// that leaves a marker, and Purge that drops the history.
func basics(ctx context.Context, js jetstream.JetStream, out io.Writer) error {
	kv, err := freshBucket(ctx, js, jetstream.KeyValueConfig{Bucket: "profiles", History: 3})
	if err != nil {
		return err
	}
	for _, put := range [][2]string{{"alice", "blue"}, {"bob", "green"}, {"alice", "red"}} {
		rev, err := kv.PutString(ctx, put[0], put[1])
		if err != nil {
			return fmt.Errorf("put %s: %w", put[0], err)
		}
		fmt.Fprintf(out, "put %s=%s: revision %d\n", put[0], put[1], rev)
	}

	// Create writes only a key that does not exist.
	rev, err := kv.Create(ctx, "carol", []byte("black"))
	if err != nil {
		return fmt.Errorf("create carol: %w", err)
	}
	fmt.Fprintf(out, "create carol: revision %d\n", rev)
	_, err = kv.Create(ctx, "carol", []byte("white"))
	if !errors.Is(err, jetstream.ErrKeyExists) {
		return fmt.Errorf("create carol again: %v, want ErrKeyExists", err)
	}
	fmt.Fprintf(out, "create carol again: refused, the key exists (error %d)\n", apiCode(err))

	// History 3: the stream keeps the last three revisions of each key.
	for _, color := range []string{"yellow", "purple"} {
		if _, err := kv.PutString(ctx, "alice", color); err != nil {
			return fmt.Errorf("put alice: %w", err)
		}
	}
	if err := printHistory(ctx, kv, out, "alice"); err != nil {
		return err
	}

	// Delete writes a marker: the key is gone for Get and Keys, not for History.
	if err := kv.Delete(ctx, "bob"); err != nil {
		return fmt.Errorf("delete bob: %w", err)
	}
	if _, err := kv.Get(ctx, "bob"); !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("get bob after delete: %v, want ErrKeyNotFound", err)
	}
	keys, err := kv.Keys(ctx)
	if err != nil {
		return fmt.Errorf("list keys: %w", err)
	}
	fmt.Fprintf(out, "delete bob: get says key not found; keys %v\n", keys)
	if err := printHistory(ctx, kv, out, "bob"); err != nil {
		return err
	}

	// Purge writes a marker too, and removes every earlier revision.
	if err := kv.Purge(ctx, "alice"); err != nil {
		return fmt.Errorf("purge alice: %w", err)
	}
	fmt.Fprint(out, "purge alice: ")
	if err := printHistory(ctx, kv, out, "alice"); err != nil {
		return err
	}

	// After a Delete or Purge, Create works again.
	rev, err = kv.Create(ctx, "bob", []byte("orange"))
	if err != nil {
		return fmt.Errorf("create bob after delete: %w", err)
	}
	fmt.Fprintf(out, "create bob after delete: revision %d\n", rev)
	return nil
}

// docs:end basics

// printHistory prints the revisions of key that the bucket still holds.
func printHistory(ctx context.Context, kv jetstream.KeyValue, out io.Writer, key string) error {
	history, err := kv.History(ctx, key)
	if err != nil {
		return fmt.Errorf("history of %s: %w", key, err)
	}
	var revs []string
	for _, e := range history {
		revs = append(revs, describe(e))
	}
	fmt.Fprintf(out, "history of %s: %s\n", key, strings.Join(revs, ", "))
	return nil
}

// describe is one entry as natscli's history shows it: operation, revision
// and value.
func describe(e jetstream.KeyValueEntry) string {
	switch e.Operation() {
	case jetstream.KeyValueDelete:
		return fmt.Sprintf("DEL@%d", e.Revision())
	case jetstream.KeyValuePurge:
		return fmt.Sprintf("PURGE@%d", e.Revision())
	default:
		return fmt.Sprintf("PUT@%d %s", e.Revision(), e.Value())
	}
}

// apiCode is the JetStream error code of err, such as 10071, or 0.
func apiCode(err error) jetstream.ErrorCode {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode
	}
	return 0
}

// freshBucket deletes the bucket if it exists and creates it with cfg, so
// that the scenario prints the same on every run. The scenario's buckets
// (profiles, counters, settings, locks, balances) are its own: the roles
// use example_kv and never delete it. recreate makes sure the new bucket is
// empty, which nats-server 2.15.2 does not promise right after a delete.
func freshBucket(ctx context.Context, js jetstream.JetStream, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	if err := js.DeleteKeyValue(ctx, cfg.Bucket); err != nil && !errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil, fmt.Errorf("delete bucket %s: %w", cfg.Bucket, err)
	}
	kv, err := recreate.KeyValue(ctx, js, cfg)
	if err != nil {
		return nil, fmt.Errorf("create bucket %s: %w", cfg.Bucket, err)
	}
	return kv, nil
}
