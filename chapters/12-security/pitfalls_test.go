package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// A publisher that may publish to the stream but not subscribe to its
// inbox: the stream stores the message, and its PubAck, sent to the inbox,
// never arrives. The client sees a timeout. Retrying stores the message
// again, unless it carries a message ID. (The short contexts are the
// pitfall itself: no refusal ever ends these calls.)
func TestPublisherWithoutItsInboxStoresButNeverHearsBack(t *testing.T) {
	t.Parallel()
	s := startConfigured(t, `authorization { users: [
		{user: admin, password: admin}
		{user: blind, password: blind, permissions: {publish: "orders.>", subscribe: {deny: ">"}}}
	]}`)
	ctx := jstest.Context(t)
	admin := connectWith(t, s.ClientURL(), nats.UserInfo("admin", "admin"))
	stream, err := admin.js.CreateStream(ctx, jetstream.StreamConfig{Name: ordersStream, Subjects: []string{ordersSubjects}})
	if err != nil {
		t.Fatal(err)
	}
	blind := connectWith(t, s.ClientURL(), nats.UserInfo("blind", "blind"))
	stored := func(want uint64) {
		t.Helper()
		jstest.Eventually(t, func() error {
			info, err := stream.Info(ctx)
			if err != nil {
				return err
			}
			if info.State.Msgs != want {
				return fmt.Errorf("ORDERS holds %d messages, want %d", info.State.Msgs, want)
			}
			return nil
		})
	}
	publish := func(subject string, opts ...jetstream.PublishOpt) {
		t.Helper()
		short, cancel := context.WithTimeout(ctx, 100*time.Millisecond) // any timeout: no PubAck ever comes
		defer cancel()
		if _, err := blind.js.Publish(short, subject, []byte("1 book"), opts...); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("js.Publish: %v, want a timeout", err)
		}
	}

	publish("orders.1")
	stored(1)
	select {
	case refusal := <-blind.refusals:
		if !errors.Is(refusal, nats.ErrPermissionViolation) {
			t.Fatalf("the error handler got %v", refusal)
		}
	case <-ctx.Done():
		t.Fatal("no refusal of the inbox subscription")
	}
	publish("orders.1") // the retry that a timeout invites
	stored(2)

	publish("orders.3", jetstream.WithMsgID("order-3"))
	stored(3)
	publish("orders.3", jetstream.WithMsgID("order-3")) // the same message again: the stream drops it
	// One server handles one connection's messages in order: once the next
	// message is stored, the repeat has been handled.
	publish("orders.4", jetstream.WithMsgID("order-4"))
	jstest.Eventually(t, func() error {
		_, err := stream.GetLastMsgForSubject(ctx, "orders.4")
		return err
	})
	stored(4)
}

// Within one account, JetStream API rights reach subjects that subscribe
// permissions deny: a user who may not subscribe to secret.> creates a
// stream on it, and reads it through a consumer. Accounts, not subject
// permissions, keep users apart. (Pinned for nats-server v2.15.2; a later
// version may close this.)
func TestJetStreamAPIRightsReachWhatSubscribeDenies(t *testing.T) {
	t.Parallel()
	s := startConfigured(t, `authorization { users: [
		{user: admin, password: admin}
		{user: sneaky, password: sneaky, permissions: {
			publish: ["$JS.API.>", "$JS.ACK.>"]
			subscribe: {allow: "_INBOX.>", deny: "secret.>"}
		}}
	]}`)
	ctx := jstest.Context(t)
	sneaky := connectWith(t, s.ClientURL(), nats.UserInfo("sneaky", "sneaky"))
	refusedWithin(t, ctx, sneaky, `Subscription to "secret.>"`, func(context.Context) error {
		if _, err := sneaky.nc.SubscribeSync("secret.>"); err != nil {
			return err
		}
		return sneaky.nc.Flush()
	})

	if _, err := sneaky.js.CreateStream(ctx, jetstream.StreamConfig{Name: "SNOOP", Subjects: []string{"secret.>"}}); err != nil {
		t.Fatal(err)
	}
	admin := connectWith(t, s.ClientURL(), nats.UserInfo("admin", "admin"))
	if err := admin.nc.Publish("secret.salary", []byte("100k")); err != nil { // a plain publish, as an unsuspecting service would
		t.Fatal(err)
	}
	if err := admin.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	cons, err := sneaky.js.OrderedConsumer(ctx, "SNOOP", jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	msg, err := cons.Next(jetstream.FetchMaxWait(jstest.Deadline))
	if err != nil {
		t.Fatal(err)
	}
	if msg.Subject() != "secret.salary" || string(msg.Data()) != "100k" {
		t.Errorf("read %s %q", msg.Subject(), msg.Data())
	}
}

// The reply subject of a pull request is not checked against the reader's
// publish permissions: a reader who may not publish to audit.> has the
// consumer's messages delivered there, and a stream on audit.> stores them.
// (Pinned for nats-server v2.15.2.)
func TestPullReplySubjectIsNotCheckedAgainstPublishPermissions(t *testing.T) {
	t.Parallel()
	ts, ctx := ordersServer(t)
	admin := ts.as(t, "admin")
	audit, err := admin.js.CreateStream(ctx, jetstream.StreamConfig{Name: "AUDIT", Subjects: []string{"audit.>"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.as(t, "publisher").js.Publish(ctx, "orders.1", []byte("1 book")); err != nil {
		t.Fatal(err)
	}
	reader := ts.as(t, "reader")
	refusedWithin(t, ctx, reader, `Publish to "audit.forged"`, func(context.Context) error {
		if err := reader.nc.Publish("audit.forged", []byte("forged")); err != nil {
			return err
		}
		return reader.nc.Flush()
	})
	pull := "$JS.API.CONSUMER.MSG.NEXT." + ordersStream + "." + ordersConsumer
	if err := reader.nc.PublishRequest(pull, "audit.forged", []byte(`{"batch":1,"no_wait":true}`)); err != nil {
		t.Fatal(err)
	}
	if err := reader.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	jstest.Eventually(t, func() error {
		info, err := audit.Info(ctx)
		if err != nil {
			return err
		}
		if info.State.Msgs != 1 {
			return fmt.Errorf("AUDIT holds %d messages, want 1", info.State.Msgs)
		}
		return nil
	})
}

// In a configuration file, an empty allow list means no restriction at
// all: publish: [] lets the user publish anywhere. deny: ">" forbids
// everything.
func TestEmptyAllowListInAConfigFileAllowsEverything(t *testing.T) {
	t.Parallel()
	s := startConfigured(t, `authorization { users: [
		{user: open, password: open, permissions: {publish: []}}
		{user: shut, password: shut, permissions: {publish: {deny: ">"}}}
		{user: listener, password: listener}
	]}`)
	ctx := jstest.Context(t)
	listener := connectWith(t, s.ClientURL(), nats.UserInfo("listener", "listener"))
	sub, err := listener.nc.SubscribeSync("anything.at.all")
	if err != nil {
		t.Fatal(err)
	}
	if err := listener.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	open := connectWith(t, s.ClientURL(), nats.UserInfo("open", "open"))
	if err := open.nc.Publish("anything.at.all", []byte("got through")); err != nil {
		t.Fatal(err)
	}
	if err := open.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := sub.NextMsg(jstest.Deadline); err != nil {
		t.Fatalf("publish: [] did not let the message through: %v", err)
	}
	shut := connectWith(t, s.ClientURL(), nats.UserInfo("shut", "shut"))
	refusedWithin(t, ctx, shut, `Publish to "anything.at.all"`, func(context.Context) error {
		if err := shut.nc.Publish("anything.at.all", []byte("stopped")); err != nil {
			return err
		}
		return shut.nc.Flush()
	})
}

// deny wins over allow: a user who may publish anywhere but to
// $JS.API.STREAM.DELETE.> may look at a stream and not delete it.
func TestDenyOverridesAllow(t *testing.T) {
	t.Parallel()
	s := startConfigured(t, `authorization { users: [
		{user: careful, password: careful, permissions: {
			publish: {allow: ">", deny: "$JS.API.STREAM.DELETE.>"}
		}}
	]}`)
	ctx := jstest.Context(t)
	careful := connectWith(t, s.ClientURL(), nats.UserInfo("careful", "careful"))
	if _, err := careful.js.CreateStream(ctx, jetstream.StreamConfig{Name: ordersStream, Subjects: []string{ordersSubjects}}); err != nil {
		t.Fatal(err)
	}
	if _, err := careful.js.Stream(ctx, ordersStream); err != nil {
		t.Fatal(err)
	}
	refusedWithin(t, ctx, careful, `Publish to "$JS.API.STREAM.DELETE.ORDERS"`, func(ctx context.Context) error {
		return careful.js.DeleteStream(ctx, ordersStream)
	})
}

// Without an error handler of its own, a program's refusals go to
// nats.go's default handler, which prints them to stderr. (Not parallel:
// it replaces os.Stderr for a moment.)
func TestWithoutAnErrorHandlerTheRefusalGoesToStderr(t *testing.T) {
	ts, ctx := ordersServer(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	stderr := os.Stderr
	os.Stderr = w
	defer func() { os.Stderr = stderr }()
	printed := make(chan string, 1)
	go func() {
		line, err := bufio.NewReader(r).ReadString('\n')
		if err != nil {
			line = err.Error()
		}
		printed <- line
	}()
	auth, err := ts.creds.signIn("publisher")
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(ts.creds.url, auth, nats.RootCAs(filepath.Join(ts.creds.dir, caFile)))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if err := nc.Publish("payments.1", []byte("100 EUR")); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	select {
	case line := <-printed:
		if !strings.Contains(line, `Permissions Violation for Publish to "payments.1"`) {
			t.Errorf("stderr got %q", line)
		}
	case <-ctx.Done():
		t.Fatal("nothing on stderr")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}
