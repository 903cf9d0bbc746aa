// Package recreate creates a stream again right after it was deleted.
//
// On nats-server 2.15.2 that can go wrong: a file stream deleted a moment
// after a write can come back with its old messages or its old sequence
// numbers, or fail to be created with error 10049, "error creating store"
// (chapter 13's TestDeleteAndCreateAtOnceCanKeepTheMessages shows it). The
// chapters that delete and create on purpose, such as 03's -recreate and
// 08's swap, show the delete and call this instead of CreateStream, so that
// the bug does not leak into what they print.
package recreate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// errStoreCreate is the server's "error creating store for stream".
const errStoreCreate = 10049

// pause lets the server finish with the deleted stream's files before the
// next try; 20 ms was enough in every one of 600 tight loops.
const pause = 20 * time.Millisecond

// Stream creates the stream cfg describes, which must not exist, and makes
// sure it starts empty, from sequence 1. If the server answers 10049, or the
// new stream holds anything from the old one, it deletes it and tries again
// for as long as ctx allows.
func Stream(ctx context.Context, js jetstream.JetStream, cfg jetstream.StreamConfig) (jetstream.Stream, error) {
	return retry(ctx, cfg.Name, func() (jetstream.Stream, error) {
		return js.CreateStream(ctx, cfg)
	}, func() error { return js.DeleteStream(ctx, cfg.Name) })
}

// KeyValue does for a bucket what Stream does for a stream.
func KeyValue(ctx context.Context, js jetstream.JetStream, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	var kv jetstream.KeyValue
	_, err := retry(ctx, "KV_"+cfg.Bucket, func() (jetstream.Stream, error) {
		var err error
		if kv, err = js.CreateKeyValue(ctx, cfg); err != nil {
			return nil, err
		}
		return js.Stream(ctx, "KV_"+cfg.Bucket)
	}, func() error { return js.DeleteKeyValue(ctx, cfg.Bucket) })
	return kv, err
}

func retry(ctx context.Context, name string, create func() (jetstream.Stream, error), remove func() error) (jetstream.Stream, error) {
	for {
		stream, err := create()
		var apiErr *jetstream.APIError
		switch {
		case errors.As(err, &apiErr) && apiErr.ErrorCode == errStoreCreate:
		case err != nil:
			return nil, err
		default:
			info, err := stream.Info(ctx)
			if err != nil {
				return nil, fmt.Errorf("read stream %s: %w", name, err)
			}
			if info.State.Msgs == 0 && info.State.LastSeq == 0 {
				return stream, nil
			}
			// The old store came back: delete it again.
			if err := remove(); err != nil {
				return nil, fmt.Errorf("delete stream %s, which came back from before its delete: %w", name, err)
			}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("create stream %s again after its delete: %w", name, context.Cause(ctx))
		case <-time.After(pause):
		}
	}
}
