package main

import (
	"errors"
	"io"
	"slices"
	"testing"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/embedded"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
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
