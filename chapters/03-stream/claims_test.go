package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/examplestream"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// C04: a stream captures every message on its subjects, including plain core
// publishes; and two streams in one account may not share a subject.
func TestC04_StreamsCaptureCorePublishes(t *testing.T) {
	nc, js, stream := newStream(t, streamConfig(time.Minute))
	for i := 0; i < 3; i++ {
		if err := nc.Publish("my.subject.core", []byte("plain NATS publish")); err != nil {
			t.Fatal(err)
		}
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	jstest.Eventually(t, func() error {
		if got := msgs(t, stream); got != 3 {
			return fmt.Errorf("stream holds %d core-published messages, want 3", got)
		}
		return nil
	})
	_, err := js.CreateStream(jstest.Context(t), jetstream.StreamConfig{Name: "other", Subjects: []string{"my.subject.test"}})
	if apiCode(err) != 10065 {
		t.Fatalf("overlapping stream: %v, want error 10065 (subjects overlap)", err)
	}
}

// C18: "*" matches exactly one token. orders.* stores orders.created but not
// orders.created.eu or orders; orders.> takes any depth below orders, and
// still not orders itself.
func TestC18_StarMatchesExactlyOneToken(t *testing.T) {
	_, js, star := newStream(t, jetstream.StreamConfig{Name: "orders", Subjects: []string{"orders.*"}})
	ctx := jstest.Context(t)
	for _, subject := range []string{"orders.created", "orders.updated"} {
		if _, err := js.Publish(ctx, subject, nil); err != nil {
			t.Fatalf("%s not captured by orders.*: %v", subject, err)
		}
	}
	for _, subject := range []string{"orders.created.eu", "orders"} {
		if _, err := js.Publish(ctx, subject, nil); !errors.Is(err, jetstream.ErrNoStreamResponse) {
			t.Fatalf("publish %s: %v, want ErrNoStreamResponse (no stream captures it)", subject, err)
		}
	}
	if got := msgs(t, star); got != 2 {
		t.Fatalf("orders.* stored %d messages, want 2", got)
	}
	if _, err := js.UpdateStream(ctx, jetstream.StreamConfig{Name: "orders", Subjects: []string{"orders.>"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "orders.created.eu", nil); err != nil {
		t.Fatalf("orders.> does not capture orders.created.eu: %v", err)
	}
	if _, err := js.Publish(ctx, "orders", nil); !errors.Is(err, jetstream.ErrNoStreamResponse) {
		t.Fatalf("publish orders with orders.>: %v, want ErrNoStreamResponse (> needs at least one token)", err)
	}
}

// C19: a stream name is unique, and nats.go refuses names with . * > / \
// or a space, tab or line break before sending. The server has rules of its
// own for clients that do not check: * and > get 10052, / and \ 10128. A
// name with a . adds a token to the API subject, which no API request
// matches, so nothing answers; and no subject may hold a space at all.
// An identical create is a no-op, and a conflicting create fails with 10058.
func TestC19_StreamNameRules(t *testing.T) {
	nc, js, stream := newStream(t, streamConfig(9*time.Second))
	ctx := jstest.Context(t)
	for _, name := range []string{"a.b", "a*", "a>", "a b", "a/b", `a\b`, "a\tb", "a\rb", "a\nb"} {
		if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{"x"}}); !errors.Is(err, jetstream.ErrInvalidStreamName) {
			t.Errorf("name %q: %v, want ErrInvalidStreamName", name, err)
		}
	}
	for name, code := range map[string]jetstream.ErrorCode{"a*": 10052, "a>": 10052, "a/b": 10128, `a\b`: 10128} {
		body, err := json.Marshal(map[string]any{"name": name, "subjects": []string{"x"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, apiErr := streamRequest(t, nc, "$JS.API.STREAM.CREATE."+name, string(body)); apiErr == nil || apiErr.ErrorCode != code {
			t.Errorf("the server's answer to the stream name %q: %v, want error %d", name, apiErr, code)
		}
	}
	if _, err := nc.Request("$JS.API.STREAM.CREATE.a.b", []byte(`{"name":"a.b","subjects":["x"]}`), 500*time.Millisecond); !errors.Is(err, nats.ErrTimeout) {
		t.Errorf("create a.b: %v, want no answer (nats.ErrTimeout)", err)
	}
	if _, err := nc.Request("$JS.API.STREAM.CREATE.a b", nil, 500*time.Millisecond); !errors.Is(err, nats.ErrBadSubject) {
		t.Errorf("create \"a b\": %v, want nats.ErrBadSubject: no subject holds a space", err)
	}

	publish(t, js, "my.subject.test", 2)
	if _, err := js.CreateStream(ctx, streamConfig(9*time.Second)); err != nil {
		t.Fatalf("identical create: %v, want success", err)
	}
	if got := msgs(t, stream); got != 2 {
		t.Fatalf("identical create left %d messages, want 2", got)
	}
	_, err := js.CreateStream(ctx, streamConfig(time.Hour))
	if !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) || apiCode(err) != 10058 {
		t.Fatalf("conflicting create: %v, want 10058 stream name already in use", err)
	}
}

// C20: a retention policy decides what makes a message removable, not how
// long it stays: after the same publish and ack, limits keeps the message,
// interest and work-queue retention remove it. How long is MaxAge (C21).
func TestC20_RetentionDecidesWhatRemovesAMessage(t *testing.T) {
	_, js := jstest.Connect(t, jstest.Server(t))
	ctx := jstest.Context(t)
	for _, tc := range []struct {
		retention jetstream.RetentionPolicy
		left      uint64
	}{
		{jetstream.LimitsPolicy, 1},
		{jetstream.InterestPolicy, 0},
		{jetstream.WorkQueuePolicy, 0},
	} {
		name := strings.ToLower(tc.retention.String())
		stream, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{name}, Retention: tc.retention, MaxAge: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		cons, err := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: "reader", AckPolicy: jetstream.AckExplicitPolicy})
		if err != nil {
			t.Fatal(err)
		}
		publish(t, js, name, 1)
		msg, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if err := msg.DoubleAck(ctx); err != nil {
			t.Fatal(err)
		}
		jstest.Eventually(t, func() error {
			if got := msgs(t, stream); got != tc.left {
				return fmt.Errorf("%s retention: %d messages after the ack, want %d", name, got, tc.left)
			}
			return nil
		})
	}
}

// The page's interest rule: a message on an interest stream waits only for
// the consumers whose filter matches it, and with none it is not stored at
// all, although the publish gets a PubAck with a sequence.
func TestInterestWaitsForTheConsumersWhoseFilterMatches(t *testing.T) {
	_, js, stream := newStream(t, jetstream.StreamConfig{Name: "orders", Subjects: []string{"orders.>"}, Retention: jetstream.InterestPolicy})
	ctx := jstest.Context(t)
	consumers := map[string]jetstream.Consumer{}
	for _, filter := range []string{"orders.a", "orders.b"} {
		cons, err := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: strings.ReplaceAll(filter, ".", "_"), FilterSubject: filter, AckPolicy: jetstream.AckExplicitPolicy})
		if err != nil {
			t.Fatal(err)
		}
		consumers[filter] = cons
	}
	publish(t, js, "orders.a", 1)
	if got := msgs(t, stream); got != 1 {
		t.Fatalf("orders.a with a consumer on it: %d messages stored, want 1", got)
	}
	msg, err := consumers["orders.a"].Next(jetstream.FetchMaxWait(5 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if err := msg.DoubleAck(ctx); err != nil {
		t.Fatal(err)
	}
	jstest.Eventually(t, func() error {
		if got := msgs(t, stream); got != 0 {
			return fmt.Errorf("%d messages after the one matching consumer acked, want 0 (the consumer on orders.b does not count)", got)
		}
		return nil
	})

	ack, err := js.Publish(ctx, "orders.c", []byte("nobody reads orders.c"))
	if err != nil || ack.Sequence != 2 {
		t.Fatalf("publish orders.c: %v, %+v; want a PubAck with seq 2", err, ack)
	}
	if got := msgs(t, stream); got != 0 {
		t.Fatalf("orders.c with no consumer on it: %d messages stored, want 0", got)
	}
}

// streamRequest sends a raw JetStream API request, as a client other than
// nats.go would, and decodes the reply.
func streamRequest(t *testing.T, nc *nats.Conn, subject, body string) (cfg struct {
	MaxAge int64 `json:"max_age"`
}, apiErr *jetstream.APIError) {
	t.Helper()
	reply, err := nc.Request(subject, []byte(body), 5*time.Second)
	if err != nil {
		t.Fatalf("request %s: %v", subject, err)
	}
	var resp struct {
		Config *struct {
			MaxAge int64 `json:"max_age"`
		} `json:"config"`
		Error *jetstream.APIError `json:"error"`
	}
	if err := json.Unmarshal(reply.Data, &resp); err != nil {
		t.Fatalf("decode %s: %v", reply.Data, err)
	}
	if resp.Config != nil {
		cfg = *resp.Config
	}
	return cfg, resp.Error
}

// C22: nats-py's max_age is in seconds and multiplied by 10^9 on the wire,
// so stream.py's 9 * 10**9 arrives as 9e18 ns: about 285 years, accepted as
// a valid (and useless) limit. The same mistake with 10 s overflows int64
// and is refused as invalid JSON. Go's time.Duration sends what it says.
func TestC22_SeedMaxAgeIs285Years(t *testing.T) {
	nc, js := jstest.Connect(t, jstest.Server(t))

	cfg, apiErr := streamRequest(t, nc, "$JS.API.STREAM.CREATE.seed",
		`{"name":"seed","subjects":["seed"],"max_age":9000000000000000000}`)
	if apiErr != nil {
		t.Fatalf("9e18 ns refused: %v", apiErr)
	}
	maxAge := time.Duration(cfg.MaxAge)
	if maxAge != 2_500_000*time.Hour {
		t.Fatalf("stored max_age %s, want 2500000h", maxAge)
	}
	if years := maxAge.Hours() / 24 / 365.25; years < 285 || years > 286 {
		t.Fatalf("max_age is %.1f years, want about 285", years)
	}

	_, apiErr = streamRequest(t, nc, "$JS.API.STREAM.CREATE.seed10",
		`{"name":"seed10","subjects":["seed10"],"max_age":10000000000000000000}`)
	if apiErr == nil || apiErr.ErrorCode != 10025 {
		t.Fatalf("1e19 ns: %v, want error 10025 (invalid JSON)", apiErr)
	}

	// The tutorial's streamConfig sends nine seconds, in nanoseconds.
	if _, err := js.CreateStream(jstest.Context(t), streamConfig(9*time.Second)); err != nil {
		t.Fatal(err)
	}
	cfg, apiErr = streamRequest(t, nc, "$JS.API.STREAM.INFO.example_stream", "")
	if apiErr != nil || cfg.MaxAge != 9_000_000_000 {
		t.Fatalf("example_stream max_age on the wire = %d (%v), want 9000000000", cfg.MaxAge, apiErr)
	}
}

// C25: stream.py deletes the stream on every run, and with it every stored
// message and every consumer. The chapter's default keeps both; -recreate
// reproduces the loss and says so.
func TestC25_RecreateDestroysMessagesAndConsumers(t *testing.T) {
	s := jstest.Server(t)
	_, js := jstest.Connect(t, s)
	ctx := jstest.Context(t)
	var out strings.Builder
	chapter := func(args ...string) {
		t.Helper()
		out.Reset()
		if err := run(ctx, append([]string{"-server", s.URL(), "-max-age", "1h"}, args...), &out); err != nil {
			t.Fatalf("run %v: %v", args, err)
		}
	}
	chapter()
	publish(t, js, "my.subject.test", 5)
	if _, err := js.CreateOrUpdateConsumer(ctx, "example_stream", jetstream.ConsumerConfig{Durable: "workers"}); err != nil {
		t.Fatal(err)
	}

	chapter()
	if !strings.Contains(out.String(), "5 stored messages kept") {
		t.Fatalf("second run did not keep the messages:\n%s", &out)
	}
	stream, err := js.Stream(ctx, "example_stream")
	if err != nil {
		t.Fatal(err)
	}
	if st := stream.CachedInfo().State; st.Msgs != 5 || st.Consumers != 1 {
		t.Fatalf("after a plain rerun: %d messages, %d consumers; want 5 and 1", st.Msgs, st.Consumers)
	}

	chapter("-recreate")
	if !strings.Contains(out.String(), "and with it 5 messages and 1 consumer") {
		t.Fatalf("-recreate did not say what it deleted:\n%s", &out)
	}
	if got := msgs(t, stream); got != 0 {
		t.Fatalf("after -recreate: %d messages, want 0", got)
	}
	if _, err := js.Consumer(ctx, "example_stream", "workers"); !errors.Is(err, jetstream.ErrConsumerNotFound) {
		t.Fatalf("durable after -recreate: %v, want ErrConsumerNotFound", err)
	}
}

// C26: "Subjects to subscribe" is misleading: a stream's subjects are what it
// captures and stores, with nobody subscribed. Delivery needs a consumer,
// which can come later and still read everything stored.
func TestC26_SubjectsAreCapturedNotSubscribed(t *testing.T) {
	_, js, stream := newStream(t, streamConfig(time.Hour))
	publish(t, js, "my.subject.test", 3)
	info, err := stream.Info(jstest.Context(t))
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 3 || info.State.Consumers != 0 {
		t.Fatalf("%d messages, %d consumers; want 3 stored with no consumer", info.State.Msgs, info.State.Consumers)
	}
	cons, err := stream.CreateConsumer(jstest.Context(t), jetstream.ConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.Fetch(3, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for msg := range batch.Messages() {
		got = append(got, string(msg.Data()))
	}
	if strings.Join(got, ",") != "Message 1,Message 2,Message 3" {
		t.Fatalf("late consumer read %q", got)
	}
}

// The page's warning: storage cannot change in place, and neither can
// retention to or from work queue; the chapter's createOrUpdate then fails,
// points to -recreate, and leaves the stream as it was.
func TestUpdateRefusesStorageAndWorkQueueChanges(t *testing.T) {
	_, js, stream := newStream(t, streamConfig(time.Hour))
	ctx := jstest.Context(t)
	memory := streamConfig(time.Hour)
	memory.Storage = jetstream.MemoryStorage
	workQueue := streamConfig(time.Hour)
	workQueue.Retention = jetstream.WorkQueuePolicy
	for what, cfg := range map[string]jetstream.StreamConfig{"storage file to memory": memory, "retention limits to work queue": workQueue} {
		var out strings.Builder
		_, err := createOrUpdate(ctx, &out, js, cfg)
		if err == nil || !strings.Contains(err.Error(), "rerun with -recreate, which deletes its messages") {
			t.Errorf("%s: %v, want an error that suggests -recreate", what, err)
		}
		if out.Len() > 0 {
			t.Errorf("%s: printed %q, want nothing", what, out.String())
		}
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if cfg := info.Config; cfg.Storage != jetstream.FileStorage || cfg.Retention != jetstream.LimitsPolicy {
		t.Fatalf("after the refused updates: %s storage, %s retention; want File and Limits", cfg.Storage, cfg.Retention)
	}
}

// The standalone program: CreateOrUpdateStream on an existing stream
// updates it in place, keeping its messages and its consumers.
func TestCreateOrUpdateStreamKeepsMessagesAndConsumers(t *testing.T) {
	_, js := jstest.Connect(t, jstest.Server(t))
	ctx := jstest.Context(t)
	cfg := jetstream.StreamConfig{Name: "SENSORS", Subjects: []string{"sensors.>"}, MaxAge: time.Hour}
	stream, err := js.CreateOrUpdateStream(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	publish(t, js, "sensors.temp", 2)
	if _, err := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: "dashboard"}); err != nil {
		t.Fatal(err)
	}
	for _, maxAge := range []time.Duration{time.Hour, 2 * time.Hour} { // the same, then a change
		cfg.MaxAge = maxAge
		updated, err := js.CreateOrUpdateStream(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		info, err := updated.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if s := info.State; s.Msgs != 2 || s.Consumers != 1 || info.Config.MaxAge != maxAge {
			t.Fatalf("after CreateOrUpdateStream with MaxAge %s: %d messages, %d consumers, MaxAge %s; want 2, 1, %s", maxAge, s.Msgs, s.Consumers, info.Config.MaxAge, maxAge)
		}
	}
}

// The later chapters create example_stream themselves when it is missing;
// they must create the same stream as this chapter.
func TestLaterChaptersUseThisConfiguration(t *testing.T) {
	if !reflect.DeepEqual(examplestream.Config(), streamConfig(9*time.Second)) {
		t.Fatalf("examplestream.Config() = %+v\nchapter 03 creates %+v", examplestream.Config(), streamConfig(9*time.Second))
	}
}
