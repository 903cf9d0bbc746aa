package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// The stores the roles share with natscli: "nats kv get example_kv KEY"
// reads what "11-kv put" wrote, and "nats object get example_objects NAME"
// what "11-kv object put" stored.
const (
	kvBucket      = "example_kv"
	objectsBucket = "example_objects"
	roleTimeout   = 10 * time.Second
	objectTimeout = time.Minute // a large file on a slow disk
)

// ensureKV binds to example_kv and creates it if it is missing. It never
// changes a bucket that exists, which natscli may have made with other
// settings ("nats kv add example_kv").
func ensureKV(ctx context.Context, js jetstream.JetStream, notes io.Writer) (jetstream.KeyValue, error) {
	kv, err := js.KeyValue(ctx, kvBucket)
	if err == nil {
		return kv, nil
	}
	if !errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil, fmt.Errorf("look up bucket %s: %w", kvBucket, err)
	}
	kv, err = js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: kvBucket, History: 5})
	if errors.Is(err, jetstream.ErrBucketExists) {
		return js.KeyValue(ctx, kvBucket) // another role created it a moment ago
	}
	if err != nil {
		return nil, fmt.Errorf("create bucket %s: %w", kvBucket, err)
	}
	fmt.Fprintf(notes, "Created bucket %s (history 5), as it did not exist.\n", kvBucket)
	return kv, nil
}

// ensureObjects does the same for the object store example_objects.
func ensureObjects(ctx context.Context, js jetstream.JetStream, notes io.Writer) (jetstream.ObjectStore, error) {
	obs, err := js.ObjectStore(ctx, objectsBucket)
	if err == nil {
		return obs, nil
	}
	if !errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil, fmt.Errorf("look up object store %s: %w", objectsBucket, err)
	}
	obs, err = js.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: objectsBucket})
	if errors.Is(err, jetstream.ErrBucketExists) {
		return js.ObjectStore(ctx, objectsBucket)
	}
	if err != nil {
		return nil, fmt.Errorf("create object store %s: %w", objectsBucket, err)
	}
	fmt.Fprintf(notes, "Created object store %s, as it did not exist.\n", objectsBucket)
	return obs, nil
}

// putRole writes value under key: the put role.
func putRole(ctx context.Context, js jetstream.JetStream, out io.Writer, key, value string) error {
	ctx, cancel := context.WithTimeout(ctx, roleTimeout)
	defer cancel()
	kv, err := ensureKV(ctx, js, out)
	if err != nil {
		return err
	}
	rev, err := kv.PutString(ctx, key, value)
	if errors.Is(err, jetstream.ErrInvalidKey) {
		return fmt.Errorf("put %q: not a valid key (letters, digits and - / _ = . only, no dot at either end)", key)
	}
	if err != nil {
		return fmt.Errorf("put %s in %s: %w", key, kvBucket, err)
	}
	fmt.Fprintf(out, "Put %s = %q in %s: revision %d\n", key, value, kvBucket, rev)
	return nil
}

// getRole prints the value of key, and nothing else, so that a shell can
// capture it: the get role.
func getRole(ctx context.Context, js jetstream.JetStream, out io.Writer, key string) error {
	ctx, cancel := context.WithTimeout(ctx, roleTimeout)
	defer cancel()
	kv, err := ensureKV(ctx, js, io.Discard)
	if err != nil {
		return err
	}
	entry, err := kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		// Also what a deleted or purged key gives.
		return fmt.Errorf("get %s: %s has no such key (write it first: 11-kv put %s VALUE)", key, kvBucket, key)
	}
	if err != nil {
		return fmt.Errorf("get %s from %s: %w", key, kvBucket, err)
	}
	fmt.Fprintf(out, "%s\n", entry.Value())
	return nil
}

// objectPutRole stores a file under its base name: the object put role.
// (obs.PutFile would name it by the path exactly as given.)
func objectPutRole(ctx context.Context, js jetstream.JetStream, out io.Writer, path string) error {
	ctx, cancel := context.WithTimeout(ctx, objectTimeout)
	defer cancel()
	obs, err := ensureObjects(ctx, js, out)
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open the file to store: %w", err)
	}
	defer f.Close() // read only: closing cannot lose anything
	info, err := obs.Put(ctx, jetstream.ObjectMeta{Name: filepath.Base(path)}, f)
	if err != nil {
		return fmt.Errorf("store %s in %s: %w", path, objectsBucket, err)
	}
	fmt.Fprintf(out, "Stored %s in %s: %d bytes in %d chunks, digest %s\n", info.Name, objectsBucket, info.Size, info.Chunks, info.Digest)
	return nil
}

// objectGetRole writes the object name to the file path: the object get
// role. It writes a temporary file first and renames it only once the whole
// object arrived and its digest matched, so a failed get leaves no
// half-written file behind.
func objectGetRole(ctx context.Context, js jetstream.JetStream, out io.Writer, name, path string) (err error) {
	ctx, cancel := context.WithTimeout(ctx, objectTimeout)
	defer cancel()
	obs, err := ensureObjects(ctx, js, io.Discard)
	if err != nil {
		return err
	}
	obj, err := obs.Get(ctx, name)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return fmt.Errorf("get %s: %s has no such object (store one first: 11-kv object put FILE)", name, objectsBucket)
	}
	if err != nil {
		return fmt.Errorf("get %s from %s: %w", name, objectsBucket, err)
	}
	defer func() { err = errors.Join(err, obj.Close()) }()
	tmp, err := os.CreateTemp(filepath.Dir(path), ".11-kv-*")
	if err != nil {
		return fmt.Errorf("create a temporary file next to %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, os.Remove(tmp.Name()))
		}
	}()
	n, copyErr := io.Copy(tmp, obj) // the digest is checked when the copy reaches the end
	closeErr := tmp.Close()
	switch {
	case errors.Is(copyErr, jetstream.ErrDigestMismatch):
		return fmt.Errorf("get %s: the data does not match its SHA-256 digest; nothing written", name)
	case copyErr != nil:
		return fmt.Errorf("get %s: %w", name, copyErr)
	case closeErr != nil:
		return fmt.Errorf("write %s: %w", tmp.Name(), closeErr)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("move the object into place: %w", err)
	}
	fmt.Fprintf(out, "Wrote %s from %s to %s: %d bytes, digest checked\n", name, objectsBucket, path, n)
	return nil
}
