package main

import (
	"strings"
	"testing"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/nats.go/jetstream"
)

// C15: under limits retention, the default, acks remove nothing: a new
// consumer reads every acked message again. Only a limit removes messages.
func TestC15_AcksDoNotRemoveMessages(t *testing.T) {
	// No Retention in the config: limits is the default.
	_, js, stream := newStream(t, jetstream.StreamConfig{Name: "limits", Subjects: []string{"limits"}})
	if got := stream.CachedInfo().Config.Retention; got != jetstream.LimitsPolicy {
		t.Fatalf("default retention %v, want Limits", got)
	}
	ctx := jstest.Context(t)
	publishN(t, js, "limits", 3)
	first, err := durable(ctx, stream, "first")
	if err != nil {
		t.Fatal(err)
	}
	doubleAck(t, fetch(t, first, 3)...)
	info, err := first.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.AckFloor.Stream != 3 {
		t.Fatalf("ack floor %d, want 3", info.AckFloor.Stream)
	}
	second, err := durable(ctx, stream, "second")
	if err != nil {
		t.Fatal(err)
	}
	msgs := fetch(t, second, 3)
	if got := seq(t, msgs[0]); got != 1 {
		t.Fatalf("a new consumer starts at seq %d, want 1", got)
	}
	if got := state(t, stream).Msgs; got != 3 {
		t.Fatalf("%d messages after every ack, want 3", got)
	}
}

// C15: at MaxMsgs, DiscardOld (the default) removes the oldest message to
// make room, and every publish succeeds.
func TestC15_DiscardOldRemovesTheOldest(t *testing.T) {
	_, js := jstest.Connect(t, jstest.Server(t))
	stream, err := limitedStream(jstest.Context(t), js, "old", jetstream.DiscardOld)
	if err != nil {
		t.Fatal(err)
	}
	if got := stream.CachedInfo().Config.Discard; got != jetstream.DiscardOld {
		t.Fatalf("discard %v, want DiscardOld", got)
	}
	// DiscardOld is also what a stream gets when its config says nothing.
	plain, err := js.CreateStream(jstest.Context(t), jetstream.StreamConfig{Name: "plain", Subjects: []string{"plain"}, MaxMsgs: 3})
	if err != nil {
		t.Fatal(err)
	}
	if got := plain.CachedInfo().Config.Discard; got != jetstream.DiscardOld {
		t.Fatalf("default discard %v, want DiscardOld", got)
	}
	if acks := publishN(t, js, "old", 5); acks[4].Sequence != 5 {
		t.Fatalf("fifth PubAck seq %d, want 5", acks[4].Sequence)
	}
	if s := state(t, stream); s.Msgs != 3 || s.FirstSeq != 3 || s.LastSeq != 5 {
		t.Fatalf("%d messages, seq %d to %d; want 3, seq 3 to 5", s.Msgs, s.FirstSeq, s.LastSeq)
	}
}

// C15: MaxMsgsPerSubject is a limit too, counted per subject: with 1, each
// subject keeps only its newest message, whatever the other subjects hold.
func TestC15_MaxMsgsPerSubjectKeepsTheNewestOfEach(t *testing.T) {
	_, js, stream := newStream(t, jetstream.StreamConfig{Name: "latest", Subjects: []string{"latest.*"}, MaxMsgsPerSubject: 1})
	publishN(t, js, "latest.a", 3) // seq 1 to 3
	publishN(t, js, "latest.b", 2) // seq 4 and 5
	if s := state(t, stream); s.Msgs != 2 || s.NumSubjects != 2 {
		t.Fatalf("%d messages on %d subjects, want 2 on 2", s.Msgs, s.NumSubjects)
	}
	hasSeqs(t, stream, map[uint64]bool{1: false, 2: false, 3: true, 4: false, 5: true})
}

// C15: with DiscardNew, a full stream refuses the publish with error 10077:
// "maximum messages exceeded" at MaxMsgs, "maximum bytes exceeded" at
// MaxBytes. MaxBytes counts whole records (chapter 03, C24): room for
// exactly three records takes exactly three messages.
func TestC15_DiscardNewRefusesThePublish(t *testing.T) {
	_, js := jstest.Connect(t, jstest.Server(t))
	ctx := jstest.Context(t)
	stream, err := limitedStream(ctx, js, "new", jetstream.DiscardNew)
	if err != nil {
		t.Fatal(err)
	}
	publishN(t, js, "new", 3)
	_, err = js.Publish(ctx, "new", []byte("Message 4"))
	wantCode(t, "fourth publish at MaxMsgs 3", err, codeStoreFailed, "maximum messages exceeded")
	if s := state(t, stream); s.Msgs != 3 || s.FirstSeq != 1 || s.LastSeq != 3 {
		t.Fatalf("%d messages, seq %d to %d; want 3, seq 1 to 3", s.Msgs, s.FirstSeq, s.LastSeq)
	}

	const subject, payload = "bytes", "Message 1"
	record := int64(22 + len(subject) + len(payload) + 8) // a file record, as in C24
	bytes, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "bytes", Subjects: []string{subject}, MaxBytes: 3 * record, Discard: jetstream.DiscardNew})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		if _, err := js.Publish(ctx, subject, []byte(payload)); err != nil {
			t.Fatalf("publish %d of 3 that fit: %v", i, err)
		}
	}
	_, err = js.Publish(ctx, subject, []byte(payload))
	wantCode(t, "fourth publish at MaxBytes of three records", err, codeStoreFailed, "maximum bytes exceeded")
	if s := state(t, bytes); s.Msgs != 3 || int64(s.Bytes) != 3*record {
		t.Fatalf("%d messages in %d bytes, want 3 in %d", s.Msgs, s.Bytes, 3*record)
	}

	// The chapter's publishOrRefused reports the refusal as an answer.
	var out strings.Builder
	if err := publishOrRefused(ctx, js, &out, "new", "Message 5"); err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), "  Message 5 refused: maximum messages exceeded (10077)\n"; got != want {
		t.Fatalf("publishOrRefused printed %q, want %q", got, want)
	}
}

// C15: MaxAge removes a message once it is older than MaxAge, whether or not
// anyone read it. 100ms is the smallest MaxAge the server accepts. Expiry
// runs on a timer, so the test waits for it with a deadline and logs how
// long it took for each storage type; it asserts only "not before MaxAge".
func TestC15_MaxAgeRemovesOldMessages(t *testing.T) {
	_, js := jstest.Connect(t, jstest.Server(t))
	for _, storage := range []jetstream.StorageType{jetstream.FileStorage, jetstream.MemoryStorage} {
		name := "aging_" + storage.String()
		stream, err := js.CreateStream(jstest.Context(t), jetstream.StreamConfig{Name: name, Subjects: []string{name}, Storage: storage, MaxAge: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		publishN(t, js, name, 3)
		waitMsgs(t, stream, 0)
		elapsed := time.Since(start)
		if elapsed < 100*time.Millisecond {
			t.Fatalf("%s: messages gone after %s, before MaxAge", name, elapsed)
		}
		t.Logf("%s storage: 3 messages with MaxAge 100ms were gone after %s", storage, elapsed.Round(time.Millisecond))
		if s := state(t, stream); s.LastSeq != 3 || s.FirstSeq != 4 {
			t.Fatalf("%s after expiry: seq %d to %d, want first 4, last 3 (empty)", name, s.FirstSeq, s.LastSeq)
		}
	}
}

// C15 and C20: limits apply under every retention policy. A work queue (or
// interest) stream with MaxMsgs and DiscardNew refuses work when full, and
// MaxAge removes a message that a consumer received but never acked.
func TestC15_LimitsApplyUnderEveryPolicy(t *testing.T) {
	_, js := jstest.Connect(t, jstest.Server(t))
	ctx := jstest.Context(t)
	for _, p := range policies[1:] {
		full, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: p.name + "_full", Subjects: []string{p.name + ".full"}, Retention: p.retention, MaxMsgs: 2, Discard: jetstream.DiscardNew})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := durable(ctx, full, "reader"); err != nil {
			t.Fatal(err)
		}
		publishN(t, js, p.name+".full", 2)
		_, err = js.Publish(ctx, p.name+".full", []byte("Message 3"))
		wantCode(t, p.name+": third publish at MaxMsgs 2", err, codeStoreFailed, "maximum messages exceeded")

		aging, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: p.name + "_aging", Subjects: []string{p.name + ".aging"}, Retention: p.retention, MaxAge: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		reader, err := durable(ctx, aging, "reader")
		if err != nil {
			t.Fatal(err)
		}
		publishN(t, js, p.name+".aging", 1)
		fetch(t, reader, 1) // received, never acked
		waitMsgs(t, aging, 0)
	}
}
