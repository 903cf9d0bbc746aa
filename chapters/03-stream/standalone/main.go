// A stream with the limits the seed meant: created, or updated in place, and
// printed as the server stored it. It uses the server NATS_URL names (default
// localhost:4222).
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"strings"
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

	// Created on the first run, updated in place on the next: what it stores stays.
	stream, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:      "SENSORS",
		Subjects:  []string{"sensors.>"},  // what it captures: sensors.temp, sensors.room1.temp, ...
		Retention: jetstream.LimitsPolicy, // only the limits below remove a message
		Storage:   jetstream.FileStorage,  // on disk, in the server's store directory
		MaxAge:    9 * time.Second,        // each message, from when it was stored
		MaxMsgs:   1000,                   // in the whole stream: the oldest goes first
		MaxBytes:  10 * 1024 * 1024,       // 10 MiB of stored records, not of payloads
	})
	if err != nil {
		log.Fatalf("create or update stream SENSORS: %v (is JetStream enabled? nats-server -js)", err)
	}

	cfg := stream.CachedInfo().Config // as stored: the server fills in what was left out
	fmt.Printf("stream %s captures %s\n", cfg.Name, strings.Join(cfg.Subjects, ", "))
	fmt.Printf("  retention %s, storage %s, replicas %d\n", cfg.Retention, cfg.Storage, cfg.Replicas)
	fmt.Printf("  max age %s, max msgs %d, max bytes %d, max msgs per subject %d\n",
		cfg.MaxAge, cfg.MaxMsgs, cfg.MaxBytes, cfg.MaxMsgsPerSubject)
	fmt.Printf("  discard %s, duplicates window %s\n", cfg.Discard, cfg.Duplicates)
}
