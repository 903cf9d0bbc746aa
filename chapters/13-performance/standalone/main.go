// An async publisher with a bounded window: it sends without waiting for each acknowledgement,
// but never has more than 500 unacknowledged. It uses NATS_URL (default localhost:4222).
package main

import (
	"cmp"
	"context"
	"fmt"
	"log"
	"os"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

const messages, window = 20_000, 500

func main() {
	log.SetFlags(0) // an error is one plain line
	url := cmp.Or(os.Getenv("NATS_URL"), nats.DefaultURL)
	nc, err := nats.Connect(url)
	if err != nil {
		log.Fatalf("connect to %s: %v (start a server with: nats-server -js)", url, err)
	}
	defer nc.Close()
	var refused atomic.Int64 // a refusal arrives later, with the acknowledgements
	js, err := jetstream.New(nc,
		jetstream.WithPublishAsyncMaxPending(window), // a full window makes PublishMsgAsync wait
		jetstream.WithPublishAsyncErrHandler(func(_ jetstream.JetStream, _ *nats.Msg, err error) {
			if refused.Add(1) == 1 {
				log.Printf("first refusal: %v", err)
			}
		}))
	if err != nil {
		log.Fatalf("create a JetStream context: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// The stream BENCH on bench.>, emptied, so that every run prints the same.
	stream, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: "BENCH", Subjects: []string{"bench.>"}})
	if err != nil {
		log.Fatalf("create stream BENCH: %v (is JetStream enabled? nats-server -js)", err)
	}
	if err := stream.Purge(ctx); err != nil {
		log.Fatalf("purge stream BENCH: %v", err)
	}

	// One message, sent again and again. A full window waits up to 10 s for room, not 200 ms.
	msg := &nats.Msg{Subject: "bench.data", Data: make([]byte, 128)}
	wait := jetstream.WithStallWait(10 * time.Second)
	start := time.Now()
	for i := range messages {
		if _, err := js.PublishMsgAsync(msg, wait); err != nil {
			log.Fatalf("publish message %d: %v", i+1, err)
		}
	}
	select {
	case <-js.PublishAsyncComplete(): // every message acknowledged or refused
	case <-ctx.Done():
		log.Fatalf("%d acknowledgements still missing after a minute", js.PublishAsyncPending())
	}
	log.Printf("%.0f msgs/s (it varies from run to run, so it goes to stderr)", messages/time.Since(start).Seconds())
	if n := refused.Load(); n > 0 {
		log.Fatalf("%d of %d messages refused", n, messages)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		log.Fatalf("read stream BENCH: %v", err)
	}
	fmt.Printf("%d messages, at most %d unacknowledged: all acknowledged, and BENCH holds %d\n", messages, window, info.State.Msgs)
}
