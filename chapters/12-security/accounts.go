package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/nats-io/nats.go/jetstream"
)

// docs:start accounts-step
// accountsStep shows accounts as walls: each has its own subjects and its
// own streams, and a user sees only its own account's. OTHER has no stream
// ORDERS until it creates one, which is another stream than APP's. NOJS
// has no JetStream at all.
func accountsStep(ctx context.Context, creds credentials, admin *session, out io.Writer) error {
	fmt.Fprintln(out, "Accounts:")
	other, err := creds.connect("other", nil)
	if err != nil {
		return err
	}
	defer other.close()
	_, err = other.js.Stream(ctx, ordersStream)
	if !errors.Is(err, jetstream.ErrStreamNotFound) { // 10059
		return fmt.Errorf("other: look up stream %s: %v, want stream not found", ordersStream, err)
	}
	result(out, "OTHER looks up stream "+ordersStream, err.Error())

	stream, err := other.js.CreateStream(ctx, jetstream.StreamConfig{Name: ordersStream, Subjects: []string{ordersSubjects}})
	if err != nil {
		return fmt.Errorf("other: create stream %s: %w", ordersStream, err)
	}
	app, err := appOrdersHolds(ctx, admin)
	if err != nil {
		return err
	}
	result(out, "OTHER creates its own "+ordersStream, fmt.Sprintf("it holds %d messages; APP's holds %d", stream.CachedInfo().State.Msgs, app))

	nojs, err := creds.connect("nojs", nil)
	if err != nil {
		return err
	}
	defer nojs.close()
	_, err = nojs.js.AccountInfo(ctx)
	if !errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount) { // 10039
		return fmt.Errorf("nojs: account info: %v, want JetStream not enabled for account", err)
	}
	result(out, "NOJS asks for account info", err.Error())
	return nil
}

// docs:end accounts-step

// removeOthersOrders deletes the stream ORDERS that OTHER created on an
// earlier run, so that every run prints the same.
func removeOthersOrders(ctx context.Context, creds credentials) error {
	other, err := creds.connect("other", nil)
	if err != nil {
		return err
	}
	defer other.close()
	if err := other.js.DeleteStream(ctx, ordersStream); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("other: delete stream %s: %w", ordersStream, err)
	}
	return nil
}

// appOrdersHolds asks admin how many messages APP's stream ORDERS holds.
func appOrdersHolds(ctx context.Context, admin *session) (uint64, error) {
	stream, err := admin.js.Stream(ctx, ordersStream)
	if err != nil {
		return 0, fmt.Errorf("admin: look up stream %s: %w", ordersStream, err)
	}
	return stream.CachedInfo().State.Msgs, nil
}
