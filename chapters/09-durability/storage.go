package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// docs:start streams
const (
	fileStream      = "file_stream"
	memoryStream    = "memory_stream"
	messagesSubject = "file.messages" // the publish and verify roles, and the demo's restart
	tasksSubject    = "file.tasks"    // the demo's acknowledgements
)

// streamConfig is one stream, stored on disk or in memory: storage is the
// seed's "storage=StorageType.FILE, # Storage type: MEMORY or FILE".
func streamConfig(name, subjects string, storage jetstream.StorageType) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:     name,
		Subjects: []string{subjects},
		Storage:  storage,
		// No MaxAge: messages stay until deleted, and the duplicates window
		// keeps its default of two minutes (a shorter MaxAge would cap it).
	}
}

var (
	fileConfig   = streamConfig(fileStream, "file.>", jetstream.FileStorage)
	memoryConfig = streamConfig(memoryStream, "memory.>", jetstream.MemoryStorage)
)

// docs:end streams

// docs:start restart
// beforeRestart creates the same stream twice, on disk and in memory,
// publishes three messages to each, and lets a durable consumer on each
// receive and acknowledge two of them.
func beforeRestart(ctx context.Context, js jetstream.JetStream, out io.Writer) error {
	for _, cfg := range []jetstream.StreamConfig{fileConfig, memoryConfig} {
		stream, err := js.CreateStream(ctx, cfg)
		if err != nil {
			return fmt.Errorf("create stream %q: %w", cfg.Name, err)
		}
		subject := strings.TrimSuffix(cfg.Subjects[0], ">") + "messages"
		for n := 1; n <= 3; n++ {
			if _, err := js.Publish(ctx, subject, []byte(message(n)), jetstream.WithMsgID(messageID(n))); err != nil {
				return fmt.Errorf("publish %s to %s: %w", message(n), cfg.Name, err)
			}
		}
		reader, err := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: "reader", AckPolicy: jetstream.AckExplicitPolicy})
		if err != nil {
			return fmt.Errorf("create consumer \"reader\" on %s: %w", cfg.Name, err)
		}
		batch, err := reader.Fetch(2, jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			return fmt.Errorf("fetch from %s: %w", cfg.Name, err)
		}
		for msg := range batch.Messages() {
			if err := msg.DoubleAck(ctx); err != nil { // recorded by the server before the restart
				return fmt.Errorf("ack a message of %s: %w", cfg.Name, err)
			}
		}
		if err := batch.Error(); err != nil {
			return fmt.Errorf("fetch from %s: %w", cfg.Name, err)
		}
		fmt.Fprintf(out, "%s (%s storage): published Message 1 to 3; consumer \"reader\" received and acked 2 of them.\n", cfg.Name, storageName(cfg.Storage))
	}
	return nil
}

// afterRestart shows what is left of the two streams, and returns the file one.
func afterRestart(ctx context.Context, js jetstream.JetStream, out io.Writer) (jetstream.Stream, error) {
	file, err := js.Stream(ctx, fileStream)
	if err != nil {
		return nil, fmt.Errorf("%s after the restart: %w", fileStream, err)
	}
	reader, err := file.Consumer(ctx, "reader")
	if err != nil {
		return nil, fmt.Errorf("consumer \"reader\" of %s after the restart: %w", fileStream, err)
	}
	info := reader.CachedInfo()
	fmt.Fprintf(out, "%s after the restart: %d messages; consumer \"reader\" has acked up to seq %d, %d message still to deliver.\n",
		fileStream, file.CachedInfo().State.Msgs, info.AckFloor.Stream, info.NumPending)

	_, err = js.Stream(ctx, memoryStream)
	if !errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, fmt.Errorf("%s after the restart: %v, want stream not found", memoryStream, err)
	}
	fmt.Fprintf(out, "%s after the restart: stream not found (error %d). Its messages, its consumer and its definition are gone.\n", memoryStream, jetstream.JSErrCodeStreamNotFound)
	return file, nil
}

// docs:end restart
