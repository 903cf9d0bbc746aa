package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/embedded"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/examplestream"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// newFileStream starts a private server with the chapter's file_stream on it.
func newFileStream(t *testing.T) (*nats.Conn, jetstream.JetStream, jetstream.Stream) {
	t.Helper()
	nc, js := jstest.Connect(t, jstest.Server(t))
	stream, err := js.CreateStream(jstest.Context(t), fileConfig)
	if err != nil {
		t.Fatal(err)
	}
	return nc, js, stream
}

// apiErrorCode returns the JetStream error code in err, or 0.
func apiErrorCode(err error) jetstream.ErrorCode {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode
	}
	return 0
}

// C14: memory storage is volatile, and that is all of it: after a restart
// the memory stream is gone, definition and consumer included. The file
// stream keeps its messages and its durable consumer's ack floor. (That a
// process killed without a clean shutdown loses nothing it acknowledged is
// tested by testdata/script/09-durability-kill.txtar, with kill -9.)
func TestC14_FileStreamSurvivesARestartMemoryStreamDoesNot(t *testing.T) {
	store := t.TempDir()
	ctx := jstest.Context(t)
	s := jstest.ServerWith(t, embedded.Options{StoreDir: store})
	nc, js := jstest.Connect(t, s)
	if err := beforeRestart(ctx, js, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{fileStream, memoryStream} {
		stream, err := js.Stream(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if msgs := stream.CachedInfo().State.Msgs; msgs != 3 {
			t.Fatalf("%s holds %d messages before the restart, want 3", name, msgs)
		}
	}
	nc.Close()
	s.Stop() // a clean shutdown, as Ctrl+C in chapter 01

	s = jstest.ServerWith(t, embedded.Options{StoreDir: store})
	_, js = jstest.Connect(t, s)
	file, err := js.Stream(ctx, fileStream)
	if err != nil {
		t.Fatalf("%s after the restart: %v", fileStream, err)
	}
	if got := file.CachedInfo().State; got.Msgs != 3 || got.FirstSeq != 1 || got.LastSeq != 3 {
		t.Fatalf("%s after the restart: %d messages, seq %d to %d; want 3, seq 1 to 3", fileStream, got.Msgs, got.FirstSeq, got.LastSeq)
	}
	reader, err := file.Consumer(ctx, "reader")
	if err != nil {
		t.Fatalf("consumer reader after the restart: %v", err)
	}
	if info := reader.CachedInfo(); info.AckFloor.Stream != 2 || info.NumPending != 1 || info.NumAckPending != 0 {
		t.Fatalf("reader after the restart: ack floor %d, %d pending, %d unacked; want 2, 1, 0", info.AckFloor.Stream, info.NumPending, info.NumAckPending)
	}
	msg, err := reader.Next(jetstream.FetchMaxWait(jstest.Deadline))
	if err != nil {
		t.Fatal(err)
	}
	if string(msg.Data()) != "Message 3" {
		t.Fatalf("reader goes on with %q, want Message 3", msg.Data())
	}

	if _, err := js.Stream(ctx, memoryStream); !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Fatalf("%s after the restart: %v, want ErrStreamNotFound", memoryStream, err)
	}
	names := js.StreamNames(ctx)
	var all []string
	for name := range names.Name() {
		all = append(all, name)
	}
	if err := names.Err(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(all, []string{fileStream}) {
		t.Fatalf("streams after the restart: %v, want only %s", all, fileStream)
	}
}

// C02's fsync half: the file store syncs to disk every two minutes by
// default (chapter 01's TestC02_FileStoreSyncsEveryTwoMinutesByDefault).
// "sync_interval: always" in the config file, or SyncAlways in
// server.Options, makes it sync before every acknowledgement.
func TestC02_SyncIntervalAlwaysSyncsBeforeEachAck(t *testing.T) {
	opts, err := server.ProcessConfigFile("testdata/sync-always.conf")
	if err != nil {
		t.Fatal(err)
	}
	if !opts.SyncAlways {
		t.Fatal("sync_interval: always did not set SyncAlways")
	}
	opts.Host, opts.Port, opts.StoreDir, opts.NoSigs = "127.0.0.1", server.RANDOM_PORT, t.TempDir(), true
	s, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	defer s.Shutdown()
	if !s.ReadyForConnections(5 * time.Second) {
		t.Fatal("server not ready")
	}
	if !s.JetStreamConfig().SyncAlways {
		t.Fatal("the server started from sync-always.conf does not sync always")
	}
	// The benchmark's server, built from server.Options, does the same.
	b := startServer(t, true)
	if !b.JetStreamConfig().SyncAlways {
		t.Fatal("SyncAlways in server.Options was not applied")
	}
}

// C09: "scales well and guarantees low latency" cannot be tested: there is
// no latency guarantee to test. What is true: a JetStream publish is a
// request that waits for the stream's answer, and a core publish is not.
func TestC09_AJetStreamPublishWaitsForTheStreamACorePublishDoesNot(t *testing.T) {
	t.Run("the JetStream publish carries a reply subject for its PubAck", func(t *testing.T) {
		nc, js, stream := newFileStream(t)
		ctx := jstest.Context(t)
		watch, err := nc.SubscribeSync(messagesSubject)
		if err != nil {
			t.Fatal(err)
		}
		if err := nc.Flush(); err != nil {
			t.Fatal(err)
		}
		if _, err := js.Publish(ctx, messagesSubject, []byte("JetStream publish")); err != nil {
			t.Fatal(err)
		}
		if err := nc.Publish(messagesSubject, []byte("core publish")); err != nil {
			t.Fatal(err)
		}
		jetStream, err := watch.NextMsg(jstest.Deadline)
		if err != nil {
			t.Fatal(err)
		}
		core, err := watch.NextMsg(jstest.Deadline)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(jetStream.Reply, nats.InboxPrefix) || core.Reply != "" {
			t.Fatalf("reply subjects: JetStream publish %q, core publish %q; want an inbox and none", jetStream.Reply, core.Reply)
		}
		jstest.Eventually(t, func() error { // the stream stores both; only one publisher heard so
			info, err := stream.Info(ctx)
			if err != nil {
				return err
			}
			if info.State.Msgs != 2 {
				return fmt.Errorf("%d messages stored, want 2", info.State.Msgs)
			}
			return nil
		})
	})

	t.Run("a refusal reaches the JetStream publisher only", func(t *testing.T) {
		nc, js := jstest.Connect(t, jstest.Server(t))
		ctx := jstest.Context(t)
		full, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "full", MaxMsgs: 1, Discard: jetstream.DiscardNew})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := js.Publish(ctx, "full", []byte("1")); err != nil {
			t.Fatal(err)
		}
		if _, err := js.Publish(ctx, "full", []byte("2")); apiErrorCode(err) != 10077 {
			t.Fatalf("JetStream publish to a full stream: %v, want error 10077", err)
		}
		if err := nc.Publish("full", []byte("3")); err != nil {
			t.Fatalf("core publish to a full stream: %v, want no error: nobody tells it", err)
		}
		if err := nc.Flush(); err != nil {
			t.Fatal(err)
		}
		info, err := full.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.State.Msgs != 1 {
			t.Fatalf("the full stream holds %d messages, want 1", info.State.Msgs)
		}
	})

	t.Run("no server: the core publish returns nil, the JetStream publish fails", func(t *testing.T) {
		s := jstest.Server(t)
		nc, err := nats.Connect(s.URL(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		js, err := jetstream.New(nc)
		if err != nil {
			t.Fatal(err)
		}
		s.Stop()
		jstest.Eventually(t, func() error {
			if status := nc.Status(); status != nats.RECONNECTING {
				return fmt.Errorf("connection %v, want reconnecting", status)
			}
			return nil
		})
		// Buffered in the client: sent if a server comes back, lost if not.
		if err := nc.Publish(messagesSubject, []byte("core publish")); err != nil {
			t.Fatalf("core publish with the server gone: %v, want nil", err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		if _, err := js.Publish(ctx, messagesSubject, []byte("JetStream publish")); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("JetStream publish with the server gone: %v, want context.DeadlineExceeded", err)
		}
	})
}

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

// C35, beyond chapter 05's replier (TestC35_AFailingReplierDoesNotLoopForever):
// a poison message that is never acknowledged is delivered MaxDeliver
// times, BackOff apart, and then no more. The server says so in a
// MAX_DELIVERIES advisory, and the message stays in the stream.
func TestC35_APoisonMessageIsDeliveredMaxDeliverTimesThenNoMore(t *testing.T) {
	nc, js, stream := newFileStream(t)
	ctx := jstest.Context(t)
	backOff := []time.Duration{50 * time.Millisecond, 150 * time.Millisecond}
	cons, err := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:       "poison",
		FilterSubject: tasksSubject,
		AckPolicy:     jetstream.AckExplicitPolicy,
		MaxDeliver:    3,
		BackOff:       backOff, // wait 50 ms after delivery 1, then 150 ms after each later one
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := cons.CachedInfo().Config.AckWait; got != backOff[0] {
		t.Fatalf("AckWait with a BackOff is %s, want BackOff's first step %s", got, backOff[0])
	}
	gaveUp, err := nc.SubscribeSync("$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES." + fileStream + ".poison")
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, tasksSubject, []byte("poison")); err != nil {
		t.Fatal(err)
	}

	var asked time.Time // when the previous delivery was asked for: it was sent after that
	for delivery := uint64(1); delivery <= 3; delivery++ {
		previous := asked
		asked = time.Now()
		msg, err := cons.Next(jetstream.FetchMaxWait(jstest.Deadline))
		if err != nil {
			t.Fatal(err)
		}
		meta, err := msg.Metadata()
		if err != nil {
			t.Fatal(err)
		}
		if meta.Sequence.Stream != 1 || meta.NumDelivered != delivery {
			t.Fatalf("seq %d delivery %d, want seq 1 delivery %d", meta.Sequence.Stream, meta.NumDelivered, delivery)
		}
		if delivery > 1 {
			if waited, step := time.Since(previous), backOff[delivery-2]; waited < step {
				t.Fatalf("delivery %d came %s after delivery %d was asked for, before its BackOff of %s", delivery, waited, delivery-1, step)
			}
		}
		// No ack: the handler crashed, or failed without saying so.
	}

	// The server gives up when it would deliver it a fourth time, which it
	// checks when a pull request is waiting: keep one waiting, expect nothing.
	var gaveUpAt time.Time
	jstest.Eventually(t, func() error {
		batch, err := cons.Fetch(1, jetstream.FetchMaxWait(100*time.Millisecond))
		if err != nil {
			return err
		}
		for msg := range batch.Messages() {
			t.Fatalf("delivered after MaxDeliver: %q", msg.Data())
		}
		if pending, _, err := gaveUp.Pending(); err != nil || pending == 0 {
			return fmt.Errorf("no MAX_DELIVERIES advisory yet (%v)", err)
		}
		gaveUpAt = time.Now()
		return nil
	})
	// That moment came after BackOff's last step, which repeats.
	if waited, step := gaveUpAt.Sub(asked), backOff[len(backOff)-1]; waited < step {
		t.Fatalf("the server gave up %s after delivery 3 was asked for, before the last BackOff step of %s", waited, step)
	}
	msg, err := gaveUp.NextMsg(jstest.Deadline)
	if err != nil {
		t.Fatal(err)
	}
	var advisory struct {
		StreamSeq  uint64 `json:"stream_seq"`
		Deliveries uint64 `json:"deliveries"`
	}
	if err := json.Unmarshal(msg.Data, &advisory); err != nil {
		t.Fatal(err)
	}
	if advisory.StreamSeq != 1 || advisory.Deliveries != 3 {
		t.Fatalf("advisory %s, want stream_seq 1 after 3 deliveries", msg.Data)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Nothing waits for an ack any more; NumRedelivered still counts it.
	if info.NumAckPending != 0 || info.NumPending != 0 || info.NumRedelivered != 1 {
		t.Fatalf("consumer: %d unacked, %d pending, %d redelivered; want 0, 0, 1", info.NumAckPending, info.NumPending, info.NumRedelivered)
	}
	kept, err := stream.GetMsg(ctx, advisory.StreamSeq)
	if err != nil || string(kept.Data) != "poison" {
		t.Fatalf("seq %d after the server gave up: %v %v, want it still stored", advisory.StreamSeq, kept, err)
	}
}
