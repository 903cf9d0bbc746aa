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

// C19: a stream name is unique, may not contain . * > / \ or whitespace, an
// identical create is a no-op, and a conflicting create fails with 10058.
func TestC19_StreamNameRules(t *testing.T) {
	nc, js, stream := newStream(t, streamConfig(9*time.Second))
	ctx := jstest.Context(t)
	for _, name := range []string{"a.b", "a*", "a>", "a b", "a/b", `a\b`, "a\tb"} {
		if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{"x"}}); !errors.Is(err, jetstream.ErrInvalidStreamName) {
			t.Errorf("name %q: %v, want ErrInvalidStreamName", name, err)
		}
	}
	// The server enforces its own rules too, for clients that do not check.
	for _, name := range []string{"a/b", `a\b`} {
		body, err := json.Marshal(map[string]any{"name": name, "subjects": []string{"x"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, apiErr := streamRequest(t, nc, "$JS.API.STREAM.CREATE."+name, string(body)); apiErr == nil {
			t.Errorf("the server accepted the stream name %q", name)
		}
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

// C21: MaxAge is how long each message is kept, counted from when it was
// stored. The smallest allowed value, 100ms, keeps the test fast.
func TestC21_MaxAgeRemovesOldMessages(t *testing.T) {
	_, js, stream := newStream(t, jetstream.StreamConfig{Name: "short", Subjects: []string{"short"}, MaxAge: 100 * time.Millisecond})
	publish(t, js, "short", 3)
	info, err := stream.Info(jstest.Context(t))
	if err != nil {
		t.Fatal(err)
	}
	// Either all three are still there, or expiry already ran; never fewer
	// stored than published before any expiry could have happened.
	stored := time.Since(info.State.FirstTime)
	if stored < 100*time.Millisecond && info.State.Msgs != 3 {
		t.Fatalf("%d messages before MaxAge passed, want 3", info.State.Msgs)
	}
	jstest.Eventually(t, func() error {
		if got := msgs(t, stream); got != 0 {
			return fmt.Errorf("%d messages still stored after MaxAge", got)
		}
		return nil
	})
	// MaxAge has a floor: 100ms is accepted (above), 99ms is refused.
	_, err = js.CreateStream(jstest.Context(t), jetstream.StreamConfig{Name: "shorter", Subjects: []string{"shorter"}, MaxAge: 99 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "max age needs to be >= 100ms") {
		t.Fatalf("MaxAge 99ms: %v, want the error max age needs to be >= 100ms", err)
	}
}

// For C21: the age counts from when each message was stored, not from when the
// stream was created or its first message arrived. A message published after
// an earlier one has expired is there until its own MaxAge has passed, and
// is removed no earlier.
func TestC21_MaxAgeCountsFromEachMessagesStorage(t *testing.T) {
	const maxAge = 500 * time.Millisecond
	_, js, stream := newStream(t, jetstream.StreamConfig{Name: "aging", Subjects: []string{"aging"}, MaxAge: maxAge})
	ctx := jstest.Context(t)
	if _, err := js.Publish(ctx, "aging", []byte("first")); err != nil {
		t.Fatal(err)
	}
	jstest.Eventually(t, func() error {
		if got := msgs(t, stream); got != 0 {
			return fmt.Errorf("the first message is still stored (%d messages)", got)
		}
		return nil
	})

	beforeSecond := time.Now() // the second message is stored after this
	if _, err := js.Publish(ctx, "aging", []byte("second")); err != nil {
		t.Fatal(err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Younger than MaxAge when we asked: it must still be there.
	if time.Since(beforeSecond) < maxAge && (info.State.Msgs != 1 || info.State.FirstSeq != 2) {
		t.Fatalf("right after publishing: %d messages from seq %d, want the second message (seq 2)", info.State.Msgs, info.State.FirstSeq)
	}
	jstest.Eventually(t, func() error {
		if got := msgs(t, stream); got != 0 {
			return fmt.Errorf("the second message is still stored (%d messages)", got)
		}
		return nil
	})
	if gone := time.Since(beforeSecond); gone < maxAge {
		t.Fatalf("the second message was gone %s after it was published, before its MaxAge of %s", gone, maxAge)
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

// C23: max_msgs=1000 keeps the newest 1000 messages of the whole stream,
// whatever their subjects; with the default discard policy the oldest go.
func TestC23_MaxMsgsKeepsTheNewestThousand(t *testing.T) {
	_, js, stream := newStream(t, streamConfig(time.Hour))
	ctx := jstest.Context(t)
	for i := 1; i <= 1005; i++ {
		subject := "my.subject.a"
		if i%2 == 0 {
			subject = "my.subject.b"
		}
		if _, err := js.Publish(ctx, subject, nil); err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s := info.State; s.Msgs != 1000 || s.FirstSeq != 6 || s.LastSeq != 1005 {
		t.Fatalf("after 1005 publishes: %d messages, seq %d to %d; want 1000, 6 to 1005", s.Msgs, s.FirstSeq, s.LastSeq)
	}
}

// C24: max_bytes=10*1024*1024 is 10 MiB (10485760), not 10 MB, and it
// limits stored records, which are larger than their payloads:
// a file record is 22 + subject + payload + 8 bytes, a memory record
// subject + payload + 16. Two subject lengths for each storage type check
// the formula; my.subject.test with a 10-byte payload costs 55 and 41.
func TestC24_MaxBytesCountsRecordsNotPayload(t *testing.T) {
	if got := streamConfig(time.Hour).MaxBytes; got != 10_485_760 {
		t.Fatalf("MaxBytes = %d, want 10485760 (10 MiB)", got)
	}
	const payload, n = "0123456789", 1000
	for _, tc := range []struct {
		storage jetstream.StorageType
		record  func(subject string) int
		page    int // what the page says a record on my.subject.test costs
	}{
		{jetstream.FileStorage, func(subject string) int { return 22 + len(subject) + len(payload) + 8 }, 55},
		{jetstream.MemoryStorage, func(subject string) int { return len(subject) + len(payload) + 16 }, 41},
	} {
		// A server per storage type, and nothing deleted: deleting the last
		// stream and creating one at once can fail in nats-server 2.15.2
		// (its cleanup of the empty streams directory races the create).
		_, js := jstest.Connect(t, jstest.Server(t))
		ctx := jstest.Context(t)
		name := strings.ToLower(tc.storage.String())
		if got := tc.record("my.subject.test"); got != tc.page {
			t.Fatalf("%s: the formula gives %d bytes for my.subject.test, the page says %d", name, got, tc.page)
		}
		stream, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{"my.subject.test", "s"}, Storage: tc.storage})
		if err != nil {
			t.Fatal(err)
		}
		var want uint64
		for _, subject := range []string{"my.subject.test", "s"} { // 15 bytes and 1 byte
			for i := 0; i < n; i++ {
				if _, err := js.Publish(ctx, subject, []byte(payload)); err != nil {
					t.Fatal(err)
				}
			}
			want += uint64(n * tc.record(subject))
			info, err := stream.Info(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if info.State.Bytes != want {
				t.Errorf("%s: after %d more %d-byte payloads on %s the stream uses %d bytes, want %d (%d per record)",
					name, n, len(payload), subject, info.State.Bytes, want, tc.record(subject))
			}
		}
	}

	// The limit bites on those record sizes: room for ten file records
	// keeps exactly the last ten messages.
	_, js := jstest.Connect(t, jstest.Server(t))
	ctx := jstest.Context(t)
	const subject = "small.subject"
	record := int64(22 + len(subject) + len(payload) + 8)
	stream, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "small", Subjects: []string{subject}, MaxBytes: 10 * record})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 25; i++ {
		if _, err := js.Publish(ctx, subject, []byte(payload)); err != nil {
			t.Fatal(err)
		}
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s := info.State; s.Msgs != 10 || s.FirstSeq != 16 || int64(s.Bytes) > 10*record {
		t.Fatalf("MaxBytes %d: %d messages from seq %d, %d bytes; want 10 from 16", 10*record, s.Msgs, s.FirstSeq, s.Bytes)
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

// The later chapters create example_stream themselves when it is missing;
// they must create the same stream as this chapter.
func TestLaterChaptersUseThisConfiguration(t *testing.T) {
	if !reflect.DeepEqual(examplestream.Config(), streamConfig(9*time.Second)) {
		t.Fatalf("examplestream.Config() = %+v\nchapter 03 creates %+v", examplestream.Config(), streamConfig(9*time.Second))
	}
}
