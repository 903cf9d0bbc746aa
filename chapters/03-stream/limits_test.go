package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/nats.go/jetstream"
)

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
// limits stored records, which are larger than their payloads. A file
// record is 22 + subject + payload + 8 bytes, plus 4 + the header bytes when
// the message has headers (a message ID is one); a memory record is subject
// + headers + payload + 16. Two subject lengths, with and without a message
// ID, for each storage type check the formula; the page's figures are for
// a 10-byte payload on sensors.temp.
func TestC24_MaxBytesCountsRecordsNotPayload(t *testing.T) {
	if got := streamConfig(time.Hour).MaxBytes; got != 10_485_760 {
		t.Fatalf("MaxBytes = %d, want 10485760 (10 MiB)", got)
	}
	const payload, n = "0123456789", 100
	// What nats.go sends for jetstream.WithMsgID("message-1"): 36 bytes.
	const idHeader = "NATS/1.0\r\nNats-Msg-Id: message-1\r\n\r\n"
	for _, tc := range []struct {
		storage          jetstream.StorageType
		record           func(subject, header string) int
		page, pageWithID int // what the page says a record on sensors.temp costs
	}{
		{jetstream.FileStorage, func(subject, header string) int {
			size := 22 + len(subject) + len(payload) + 8
			if header != "" {
				size += 4 + len(header)
			}
			return size
		}, 52, 92},
		{jetstream.MemoryStorage, func(subject, header string) int {
			return len(subject) + len(header) + len(payload) + 16
		}, 38, 74},
	} {
		// A server per storage type, and nothing deleted: deleting the last
		// stream and creating one at once can fail in nats-server 2.15.2
		// (its cleanup of the empty streams directory races the create).
		_, js := jstest.Connect(t, jstest.Server(t))
		ctx := jstest.Context(t)
		name := strings.ToLower(tc.storage.String())
		if got, gotID := tc.record("sensors.temp", ""), tc.record("sensors.temp", idHeader); got != tc.page || gotID != tc.pageWithID {
			t.Fatalf("%s: the formula gives %d and %d bytes for sensors.temp, the page says %d and %d", name, got, gotID, tc.page, tc.pageWithID)
		}
		stream, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{"sensors.temp", "s"}, Storage: tc.storage})
		if err != nil {
			t.Fatal(err)
		}
		var want uint64
		check := func(what string) {
			t.Helper()
			info, err := stream.Info(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if info.State.Bytes != want {
				t.Errorf("%s: after %s the stream uses %d bytes, want %d", name, what, info.State.Bytes, want)
			}
		}
		for k, subject := range []string{"sensors.temp", "s"} { // 12 bytes and 1 byte
			for i := 0; i < n; i++ {
				if _, err := js.Publish(ctx, subject, []byte(payload)); err != nil {
					t.Fatal(err)
				}
			}
			want += uint64(n * tc.record(subject, ""))
			check(fmt.Sprintf("%d more %d-byte payloads on %s", n, len(payload), subject))

			id := fmt.Sprintf("message-%d", k+1) // as long as message-1: a new ID, or it is a duplicate
			if ack, err := js.Publish(ctx, subject, []byte(payload), jetstream.WithMsgID(id)); err != nil || ack.Duplicate {
				t.Fatalf("publish with message ID %s: %v (duplicate: %v)", id, err, ack != nil && ack.Duplicate)
			}
			want += uint64(tc.record(subject, idHeader))
			check("one more with the message ID " + id + " on " + subject)
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

// The page: MaxMsgsPerSubject is a limit too, and a message beyond it
// removes the oldest one of its subject, not of the stream.
func TestMaxMsgsPerSubjectIsALimitToo(t *testing.T) {
	_, js, stream := newStream(t, jetstream.StreamConfig{Name: "latest", Subjects: []string{"sensors.>"}, MaxMsgsPerSubject: 1})
	publish(t, js, "sensors.temp", 3)
	publish(t, js, "sensors.humidity", 1)
	info, err := stream.Info(jstest.Context(t))
	if err != nil {
		t.Fatal(err)
	}
	if s := info.State; s.Msgs != 2 || s.FirstSeq != 3 || s.LastSeq != 4 {
		t.Fatalf("with one message per subject: %d messages, seq %d to %d; want 2: seq 3 (the last on sensors.temp) and 4", s.Msgs, s.FirstSeq, s.LastSeq)
	}
}

// The standalone program prints the stream as the server stored it: the
// server fills in what the configuration left out. The duplicates window
// is 2 minutes unless set, and never longer than MaxAge: with the seed's
// nine seconds, it is nine seconds.
func TestTheServerFillsInWhatWasLeftOut(t *testing.T) {
	_, js := jstest.Connect(t, jstest.Server(t))
	ctx := jstest.Context(t)
	for _, tc := range []struct {
		maxAge, duplicates time.Duration
	}{
		{0, 2 * time.Minute},
		{time.Hour, 2 * time.Minute},
		{9 * time.Second, 9 * time.Second},
	} {
		name := fmt.Sprintf("AGE_%d", int(tc.maxAge.Seconds()))
		stream, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{strings.ToLower(name)}, MaxAge: tc.maxAge})
		if err != nil {
			t.Fatal(err)
		}
		cfg := stream.CachedInfo().Config
		if cfg.Duplicates != tc.duplicates {
			t.Errorf("MaxAge %s: duplicates window %s, want %s", tc.maxAge, cfg.Duplicates, tc.duplicates)
		}
		if cfg.Retention != jetstream.LimitsPolicy || cfg.Storage != jetstream.FileStorage || cfg.Discard != jetstream.DiscardOld ||
			cfg.Replicas != 1 || cfg.MaxMsgsPerSubject != -1 || cfg.MaxMsgs != -1 || cfg.MaxBytes != -1 {
			t.Errorf("MaxAge %s: stored %+v; want limits retention, file storage, DiscardOld, 1 replica and no other limits (-1)", tc.maxAge, cfg)
		}
	}
}

// The page: the limits apply under every retention policy, not only under
// LimitsPolicy. MaxMsgs 2 keeps two of three messages, and MaxAge then
// removes those too, although no consumer acknowledged them.
func TestLimitsApplyUnderEveryPolicy(t *testing.T) {
	_, js := jstest.Connect(t, jstest.Server(t))
	ctx := jstest.Context(t)
	const maxAge = 500 * time.Millisecond
	streams := map[string]jetstream.Stream{}
	for _, retention := range []jetstream.RetentionPolicy{jetstream.LimitsPolicy, jetstream.InterestPolicy, jetstream.WorkQueuePolicy} {
		name := strings.ToUpper(retention.String())
		stream, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{name}, Retention: retention, MaxMsgs: 2, MaxAge: maxAge})
		if err != nil {
			t.Fatal(err)
		}
		// A consumer that never acks: interest retention stores only what
		// some consumer is interested in.
		if _, err := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: "idle", AckPolicy: jetstream.AckExplicitPolicy}); err != nil {
			t.Fatal(err)
		}
		published := time.Now()
		publish(t, js, name, 3)
		info, err := stream.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if s := info.State; time.Since(published) < maxAge && (s.Msgs != 2 || s.FirstSeq != 2) {
			t.Errorf("%s: %d messages from seq %d with MaxMsgs 2, want 2 from seq 2", name, s.Msgs, s.FirstSeq)
		}
		streams[name] = stream
	}
	jstest.Eventually(t, func() error { // the three expire at about the same time
		for name, stream := range streams {
			if got := msgs(t, stream); got != 0 {
				return fmt.Errorf("%s: %d messages still stored after MaxAge", name, got)
			}
		}
		return nil
	})
}
