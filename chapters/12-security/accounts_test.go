package main

import (
	"errors"
	"testing"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// OTHER does not see APP's stream ORDERS (10059), and may create a stream
// of the same name on the same subjects: another stream, with its own
// messages.
func TestAccountsKeepSameNamedStreamsApart(t *testing.T) {
	t.Parallel()
	ts, ctx := ordersServer(t)
	if _, err := ts.as(t, "publisher").js.Publish(ctx, "orders.1", []byte("1 book")); err != nil {
		t.Fatal(err)
	}
	other := ts.as(t, "other")
	_, err := other.js.Stream(ctx, ordersStream)
	var apiErr *jetstream.APIError
	if !errors.Is(err, jetstream.ErrStreamNotFound) || !errors.As(err, &apiErr) || apiErr.ErrorCode != jetstream.JSErrCodeStreamNotFound {
		t.Fatalf("OTHER looks up ORDERS: %v, want stream not found (10059)", err)
	}
	stream, err := other.js.CreateStream(ctx, jetstream.StreamConfig{Name: ordersStream, Subjects: []string{ordersSubjects}})
	if err != nil {
		t.Fatal(err)
	}
	ack, err := other.js.Publish(ctx, "orders.1", []byte("2 pens"))
	if err != nil {
		t.Fatal(err)
	}
	if ack.Sequence != 1 {
		t.Errorf("OTHER's first message is number %d in its ORDERS", ack.Sequence)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 1 {
		t.Errorf("OTHER's ORDERS holds %d messages", info.State.Msgs)
	}
	if n := storedInOrders(t, ctx, ts); n != 1 {
		t.Errorf("APP's ORDERS holds %d messages, want its own 1", n)
	}
}

// Subjects are per account too: a core subscriber in OTHER never receives
// what APP publishes on the same subject.
func TestAccountsKeepSubjectsApart(t *testing.T) {
	t.Parallel()
	ts := startTestServer(t)
	other := ts.as(t, "other")
	sub, err := other.nc.SubscribeSync("news.>")
	if err != nil {
		t.Fatal(err)
	}
	if err := other.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	admin := ts.as(t, "admin")
	if err := admin.nc.Publish("news.app", []byte("from APP")); err != nil {
		t.Fatal(err)
	}
	if err := admin.nc.Flush(); err != nil { // the server has routed it: to no one in OTHER
		t.Fatal(err)
	}
	if err := other.nc.Publish("news.other", []byte("from OTHER")); err != nil {
		t.Fatal(err)
	}
	msg, err := sub.NextMsg(jstest.Deadline)
	if err != nil {
		t.Fatal(err)
	}
	if msg.Subject != "news.other" { // APP's message would have come first
		t.Fatalf("OTHER's subscriber received %s %q", msg.Subject, msg.Data)
	}
}

// An account without jetstream: enabled has no JetStream, even though the
// server has: every JetStream call gets 10039, which errors.Is matches
// whatever the text (AccountInfo says "jetstream", CreateStream "JetStream").
func TestAccountWithoutJetStream(t *testing.T) {
	t.Parallel()
	ts := startTestServer(t)
	ctx := jstest.Context(t)
	nojs := ts.as(t, "nojs")
	_, infoErr := nojs.js.AccountInfo(ctx)
	_, createErr := nojs.js.CreateStream(ctx, jetstream.StreamConfig{Name: ordersStream, Subjects: []string{ordersSubjects}})
	for what, err := range map[string]error{"AccountInfo": infoErr, "CreateStream": createErr} {
		var apiErr *jetstream.APIError
		if !errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount) || !errors.As(err, &apiErr) || apiErr.ErrorCode != jetstream.JSErrCodeJetStreamNotEnabledForAccount {
			t.Errorf("%s: %v, want JetStream not enabled for account (10039)", what, err)
		}
	}
	if infoErr.Error() == createErr.Error() {
		t.Errorf("both say %q", infoErr)
	}
	// Core NATS works: NOJS users may still publish and subscribe.
	if err := nojs.nc.Publish("news.nojs", nil); err != nil {
		t.Fatal(err)
	}
	if err := nojs.nc.FlushWithContext(ctx); err != nil {
		t.Fatal(err)
	}
	if !nojs.nc.IsConnected() {
		t.Fatal(nats.ErrConnectionClosed)
	}
}
