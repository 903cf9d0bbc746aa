package main

import (
	"context"
	"fmt"
	"io"

	"github.com/nats-io/nats.go/jetstream"
)

// docs:start hood
// backingStreams prints the configuration nats.go gave the streams behind
// the scenario's buckets: KV_<bucket> and OBJ_<bucket>.
func backingStreams(ctx context.Context, js jetstream.JetStream, out io.Writer) error {
	for _, name := range []string{"KV_profiles", "KV_locks", "OBJ_files"} {
		stream, err := js.Stream(ctx, name)
		if err != nil {
			return fmt.Errorf("stream %s: %w", name, err)
		}
		cfg := stream.CachedInfo().Config
		fmt.Fprintf(out, "%s: Subjects %v, Storage %s, MaxMsgsPerSubject %d, MaxAge %s, Discard %s,\n",
			cfg.Name, cfg.Subjects, cfg.Storage, cfg.MaxMsgsPerSubject, cfg.MaxAge, cfg.Discard)
		fmt.Fprintf(out, "  AllowRollup %t, DenyDelete %t, AllowDirect %t, Duplicates %s, AllowMsgTTL %t, SubjectDeleteMarkerTTL %s\n",
			cfg.AllowRollup, cfg.DenyDelete, cfg.AllowDirect, cfg.Duplicates, cfg.AllowMsgTTL, cfg.SubjectDeleteMarkerTTL)
	}
	return nil
}

// docs:end hood
