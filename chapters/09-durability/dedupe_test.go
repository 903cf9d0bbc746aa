package main

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/embedded"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/examplestream"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/nats.go/jetstream"
)

// C44, deeper than chapter 04's TestC44_PublishWaitsForItsAckAndDedupesRetries:
// a message ID is remembered for the stream's duplicates window, two
// minutes by default and never longer than MaxAge.
func TestC44_TheDuplicatesWindow(t *testing.T) {
	_, js := jstest.Connect(t, jstest.Server(t))
	ctx := jstest.Context(t)

	t.Run("two minutes by default, capped at MaxAge", func(t *testing.T) {
		file, err := js.CreateStream(ctx, fileConfig)
		if err != nil {
			t.Fatal(err)
		}
		if got := file.CachedInfo().Config.Duplicates; got != 2*time.Minute {
			t.Fatalf("%s's duplicates window is %s, want 2m0s", fileStream, got)
		}
		example, err := js.CreateStream(ctx, examplestream.Config())
		if err != nil {
			t.Fatal(err)
		}
		if got := example.CachedInfo().Config.Duplicates; got != 9*time.Second {
			t.Fatalf("example_stream's duplicates window is %s, want its MaxAge, 9s", got)
		}
		_, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: "too_long", MaxAge: time.Second, Duplicates: 2 * time.Second})
		if apiErrorCode(err) != 10052 || !strings.Contains(err.Error(), "duplicates window can not be larger then max age") {
			t.Fatalf("a window longer than MaxAge: %v, want error 10052", err)
		}
		_, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: "too_short", Duplicates: 50 * time.Millisecond})
		if apiErrorCode(err) != 10052 || !strings.Contains(err.Error(), "duplicates window needs to be >= 100ms") {
			t.Fatalf("a window under 100ms: %v, want error 10052", err)
		}
		// The default is for streams that take publishes: one that copies
		// another stream's messages (Sources, Mirror) gets no window unless set.
		copied, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "copy", Sources: []*jetstream.StreamSource{{Name: fileStream}}})
		if err != nil {
			t.Fatal(err)
		}
		if got := copied.CachedInfo().Config.Duplicates; got != 0 {
			t.Fatalf("a stream with Sources has a %s duplicates window, want none", got)
		}
	})

	t.Run("a repeat inside the window gets the first message's PubAck", func(t *testing.T) {
		file, err := js.Stream(ctx, fileStream)
		if err != nil {
			t.Fatal(err)
		}
		first, err := js.Publish(ctx, messagesSubject, []byte("order 42"), jetstream.WithMsgID("order-42"))
		if err != nil {
			t.Fatal(err)
		}
		repeat, err := js.Publish(ctx, messagesSubject, []byte("order 42, changed"), jetstream.WithMsgID("order-42"))
		if err != nil {
			t.Fatal(err)
		}
		if first.Duplicate || !repeat.Duplicate || repeat.Sequence != first.Sequence {
			t.Fatalf("first %+v, repeat %+v: want the repeat flagged Duplicate, with the first's sequence", first, repeat)
		}
		kept, err := file.GetMsg(ctx, first.Sequence)
		if err != nil {
			t.Fatal(err)
		}
		if string(kept.Data) != "order 42" {
			t.Fatalf("seq %d holds %q: the repeat's payload is dropped, whatever it says", first.Sequence, kept.Data)
		}
	})

	t.Run("after the window the same ID is stored again", func(t *testing.T) {
		const window = 100 * time.Millisecond // the smallest the server allows
		short, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "short_window", Duplicates: window})
		if err != nil {
			t.Fatal(err)
		}
		sent := time.Now()
		first, err := js.Publish(ctx, "short_window", []byte("order 42"), jetstream.WithMsgID("order-42"))
		if err != nil {
			t.Fatal(err)
		}
		// Publish the repeat until it is stored: while it is a duplicate,
		// publishing it changes nothing, which is the point of the ID.
		var again *jetstream.PubAck
		jstest.Eventually(t, func() error {
			ack, err := js.Publish(ctx, "short_window", []byte("order 42"), jetstream.WithMsgID("order-42"))
			if err != nil {
				return err
			}
			if ack.Duplicate {
				return errors.New("the repeat is still a duplicate")
			}
			again = ack
			return nil
		})
		if waited := time.Since(sent); waited < window {
			t.Fatalf("the ID was forgotten after %s, before the %s window ended", waited, window)
		}
		info, err := short.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if again.Sequence != first.Sequence+1 || info.State.Msgs != 2 {
			t.Fatalf("after the window: seq %d and %d messages, want seq %d and 2 messages: stored twice", again.Sequence, info.State.Msgs, first.Sequence+1)
		}
	})
}

// C44: the stream rebuilds its message IDs from the stored messages when the
// server starts, so a publisher that retries after a restart (the kill -9
// transcript) still gets "duplicate" for a message that was stored.
func TestC44_MessageIDsSurviveARestart(t *testing.T) {
	store := t.TempDir()
	ctx := jstest.Context(t)
	s := jstest.ServerWith(t, embedded.Options{StoreDir: store})
	nc, js := jstest.Connect(t, s)
	if _, err := js.CreateStream(ctx, fileConfig); err != nil {
		t.Fatal(err)
	}
	first, err := js.Publish(ctx, messagesSubject, []byte(message(1)), jetstream.WithMsgID(messageID(1)))
	if err != nil {
		t.Fatal(err)
	}
	nc.Close()
	s.Stop()

	_, js = jstest.Connect(t, jstest.ServerWith(t, embedded.Options{StoreDir: store}))
	repeat, err := js.Publish(ctx, messagesSubject, []byte(message(1)), jetstream.WithMsgID(messageID(1)))
	if err != nil {
		t.Fatal(err)
	}
	if !repeat.Duplicate || repeat.Sequence != first.Sequence {
		t.Fatalf("repeat after the restart: %+v, want a duplicate of seq %d", repeat, first.Sequence)
	}
}

// The page says: an expected last sequence, message ID or stream makes a
// publish conditional; the server refuses it when the condition is stale.
func TestPublishExpectations(t *testing.T) {
	_, js, stream := newFileStream(t)
	ctx := jstest.Context(t)
	if _, err := js.Publish(ctx, messagesSubject, []byte(message(1))); err != nil {
		t.Fatal(err)
	}
	if err := expectLastSequence(ctx, js, stream, new(strings.Builder)); err != nil {
		t.Fatal(err) // the chapter's own check: seq 1 is current, then stale (10071)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 2 {
		t.Fatalf("%d messages after one accepted and one refused publish, want 2", info.State.Msgs)
	}

	if _, err := js.Publish(ctx, messagesSubject, []byte(message(6)), jetstream.WithMsgID(messageID(6))); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, messagesSubject, []byte(message(7)), jetstream.WithExpectLastMsgID(messageID(6))); err != nil {
		t.Fatalf("expecting the last message ID to be the current one: %v", err)
	}
	_, err = js.Publish(ctx, messagesSubject, []byte(message(8)), jetstream.WithExpectLastMsgID(messageID(6)))
	if code := apiErrorCode(err); code != 10070 {
		t.Fatalf("expecting a stale last message ID: %v, want error 10070", err)
	}
	_, err = js.Publish(ctx, messagesSubject, []byte(message(8)), jetstream.WithExpectStream("example_stream"))
	if code := apiErrorCode(err); code != 10060 {
		t.Fatalf("expecting another stream: %v, want error 10060", err)
	}
	if _, err := js.Publish(ctx, messagesSubject, []byte(message(8)), jetstream.WithExpectStream(fileStream)); err != nil {
		t.Fatalf("expecting the right stream: %v", err)
	}
}
