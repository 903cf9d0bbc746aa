// A first connection: connect to NATS and ask JetStream about your account.
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
	nc, err := nats.Connect(url,
		nats.Name("02-client"),                   // how the server lists this connection
		nats.MaxReconnects(10),                   // once connected, a lost server is retried 10 times,
		nats.ReconnectWait(500*time.Millisecond), // half a second apart (default: 60 times, 2 s apart)
	)
	if err != nil {
		log.Fatalf("connect to %s: %v (start a server with: nats-server -js)", url, err)
	}
	defer nc.Close()
	fmt.Printf("connected to nats-server %s\n", nc.ConnectedServerVersion())

	js, err := jetstream.New(nc) // sends nothing yet, so it succeeds even without JetStream
	if err != nil {
		log.Fatalf("create a JetStream context: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	info, err := js.AccountInfo(ctx) // the first request to JetStream
	if errors.Is(err, jetstream.ErrJetStreamNotEnabled) {
		log.Fatalf("JetStream is not enabled on %s (restart the server with: nats-server -js)", url)
	}
	if err != nil {
		log.Fatalf("ask JetStream for account info: %v", err)
	}
	fmt.Println("JetStream is enabled for this account")
	l := info.Limits // -1: the account has no limit of its own
	fmt.Printf("account limits: memory %d, storage %d, streams %d, consumers %d\n",
		l.MaxMemory, l.MaxStore, l.MaxStreams, l.MaxConsumers)
}
