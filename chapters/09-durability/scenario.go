package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/connect"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/embedded"
	"github.com/nats-io/nats.go/jetstream"
)

// docs:start demo
// demo runs the chapter in one process. It needs a server it can restart,
// so it always starts its own, with the store in a new directory.
func demo(ctx context.Context, out io.Writer) (err error) {
	store, err := os.MkdirTemp("", "09-durability-*")
	if err != nil {
		return fmt.Errorf("create a store directory for the demo: %w", err)
	}
	defer func() {
		if rmErr := os.RemoveAll(store); rmErr != nil {
			err = errors.Join(err, fmt.Errorf("remove the demo's store %s: %w", store, rmErr))
		}
	}()
	fmt.Fprintln(out, "== File and memory storage across a restart (파일 저장 / 메모리 저장) ==")
	if err := withServer(ctx, store, func(ctx context.Context, js jetstream.JetStream) error {
		return beforeRestart(ctx, js, out)
	}); err != nil {
		return err
	}
	fmt.Fprintln(out, "Restarting the server on the same store directory.")
	return withServer(ctx, store, func(ctx context.Context, js jetstream.JetStream) error {
		file, err := afterRestart(ctx, js, out)
		if err != nil {
			return err
		}
		fmt.Fprintln(out, "\n== Publishing with a message ID (dedupe) ==")
		if err := dedupe(ctx, js, file, out); err != nil {
			return err
		}
		fmt.Fprintln(out, "\n== Expected last sequence ==")
		if err := expectLastSequence(ctx, js, file, out); err != nil {
			return err
		}
		fmt.Fprintln(out, "\n== Acknowledgements ==")
		return acknowledgements(ctx, js, file, out)
	})
}

// withServer starts a server on store, connects to it, runs f, then
// disconnects and shuts the server down cleanly (as Ctrl+C does in chapter 01).
func withServer(ctx context.Context, store string, f func(context.Context, jetstream.JetStream) error) (err error) {
	s, err := embedded.Start(embedded.Options{StoreDir: store})
	if err != nil {
		return err
	}
	defer s.Stop() // Shutdown: every stream flushed and closed; the store stays
	ctx, closeOption := connect.CancelOnClose(ctx)
	nc, err := connect.To(s.URL(), "09-durability demo", closeOption)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, connect.Drain(nc)) }()
	js, err := connect.JetStream(ctx, nc)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second) // a stuck step fails the demo instead of hanging it
	defer cancel()
	return f(ctx, js)
}

// docs:end demo
