// A key-value bucket is a stream that keeps the latest values of its keys.
// It uses the server NATS_URL names (default localhost:4222).
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func main() {
	log.SetFlags(0) // an error is one plain line
	url := os.Getenv("NATS_URL")
	if url == "" {
		url = nats.DefaultURL
	}
	nc, err := nats.Connect(url)
	if err != nil {
		log.Fatalf("connect to %s: %v (start a server with: nats-server -js)", url, err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		log.Fatalf("create a JetStream context: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// A fresh bucket named profiles, so that every run prints the same. In
	// memory: a file stream deleted and made again at once can keep its old
	// messages on nats-server 2.15.2.
	if err := js.DeleteKeyValue(ctx, "profiles"); err != nil && !errors.Is(err, jetstream.ErrBucketNotFound) {
		log.Fatalf("delete bucket profiles: %v", err)
	}
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "profiles", History: 5, Storage: jetstream.MemoryStorage})
	if err != nil {
		log.Fatalf("create bucket profiles: %v (is JetStream enabled? nats-server -js)", err)
	}

	// Each write gets the bucket's next revision, whatever its key.
	for _, put := range [][2]string{{"alice", "blue"}, {"bob", "green"}, {"alice", "red"}} {
		rev, err := kv.PutString(ctx, put[0], put[1])
		if err != nil {
			log.Fatalf("put %s: %v", put[0], err)
		}
		fmt.Printf("put %s=%s: revision %d\n", put[0], put[1], rev)
	}
	alice, err := kv.Get(ctx, "alice")
	if err != nil {
		log.Fatalf("get alice: %v", err)
	}
	fmt.Printf("get alice: %s (revision %d)\n", alice.Value(), alice.Revision())

	// Update is compare-and-swap: it writes only if alice is still at that revision.
	if _, err := kv.Update(ctx, "alice", []byte("purple"), 1); !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		log.Fatalf("update alice from revision 1: %v (want a revision mismatch)", err)
	}
	fmt.Println("update alice from revision 1: refused, alice has changed since")
	rev, err := kv.Update(ctx, "alice", []byte("purple"), alice.Revision())
	if err != nil {
		log.Fatalf("update alice from revision %d: %v", alice.Revision(), err)
	}
	fmt.Printf("update alice from revision %d: revision %d\n", alice.Revision(), rev)

	// The bucket is a stream: one subject per key, one message per revision.
	stream, err := js.Stream(ctx, "KV_profiles")
	if err != nil {
		log.Fatalf("look up the bucket's stream: %v", err)
	}
	info := stream.CachedInfo()
	fmt.Printf("stream %s: subjects %v, %d messages, at most %d per subject\n", info.Config.Name, info.Config.Subjects, info.State.Msgs, info.Config.MaxMsgsPerSubject)
}
