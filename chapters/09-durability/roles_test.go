package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// syncBuffer lets a test read what a goroutine has written so far.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// serverAt starts a JetStream server on store at port (server.RANDOM_PORT
// for any), so that a test can restart it where its clients look for it.
func serverAt(t *testing.T, store string, port int) *server.Server {
	t.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: port, JetStream: true, StoreDir: store, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	if !s.ReadyForConnections(5 * time.Second) {
		t.Fatalf("server on port %d not ready", port)
	}
	t.Cleanup(s.Shutdown)
	return s
}

// C44: publisher.py gives up at the first failed publish. The chapter's
// publisher sends an unanswered message again with the same message ID:
// here the server is down for the first attempts, and the message is still
// stored exactly once when it is back.
func TestC44_ThePublisherRetriesWithItsMessageID(t *testing.T) {
	store := t.TempDir()
	s := serverAt(t, store, server.RANDOM_PORT)
	port := s.Addr().(*net.TCPAddr).Port
	nc, err := nats.Connect(s.ClientURL(), nats.MaxReconnects(-1), nats.ReconnectWait(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := jstest.Context(t)
	if _, err := js.CreateStream(ctx, fileConfig); err != nil {
		t.Fatal(err)
	}
	s.Shutdown()

	var log syncBuffer
	p := publisher{js: js, out: io.Discard, log: &log, timeout: 200 * time.Millisecond, attempts: 50}
	type result struct {
		ack *jetstream.PubAck
		err error
	}
	done := make(chan result, 1)
	go func() {
		ack, err := p.publish(ctx, 1)
		done <- result{ack, err}
	}()
	jstest.Eventually(t, func() error {
		if !strings.Contains(log.String(), `09-durability publish: Message 1 was not acknowledged (context deadline exceeded); sending it again with the same message ID "message-1"`) {
			return io.ErrNoProgress
		}
		return nil
	})
	s = serverAt(t, store, port) // back, on the same store and port
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		t.Fatal("the publisher did not finish")
	}
	if r.err != nil {
		t.Fatalf("publish across the outage: %v\n%s", r.err, log.String())
	}
	stream, err := js.Stream(ctx, fileStream)
	if err != nil {
		t.Fatal(err)
	}
	// Every attempt buffered during the outage reached the server; one was stored.
	if r.ack.Sequence != 1 || stream.CachedInfo().State.Msgs != 1 {
		t.Fatalf("PubAck %+v and %d messages stored, want seq 1 stored once", r.ack, stream.CachedInfo().State.Msgs)
	}
}

// runRole runs the chapter with args against url and returns its output.
func runRole(t *testing.T, url string, args ...string) (string, error) {
	t.Helper()
	var out strings.Builder
	err := run(jstest.Context(t), append(args, "-server", url), &out)
	return out.String(), err
}

// C44: publish -from K repeats messages with the IDs they had, so a
// publisher that stopped without knowing can start again where it was
// unsure, and nothing is stored twice.
func TestC44_PublishFromAgainStoresNothingTwice(t *testing.T) {
	url := jstest.Server(t).URL()
	first, err := runRole(t, url, "publish", "-count", "3")
	if err != nil {
		t.Fatal(err)
	}
	again, err := runRole(t, url, "publish", "-from", "3", "-count", "2")
	if err != nil {
		t.Fatal(err)
	}
	want := "Publishing to file.messages from Message 3 on, each with a message ID. Press Ctrl+C to stop.\n" +
		"Acknowledged: Message 3 (seq 3, duplicate: already stored)\n" +
		"Acknowledged: Message 4 (seq 4)\n"
	if again != want {
		t.Fatalf("publish -from 3 printed:\n%s\nwant:\n%s", again, want)
	}
	acked := filepath.Join(t.TempDir(), "acked.txt")
	if err := os.WriteFile(acked, []byte(first+again), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := runRole(t, url, "verify", "-acked", acked)
	if err != nil {
		t.Fatal(err)
	}
	want = "file_stream holds Message 1 to Message 4 on file.messages, each once and in order.\n" +
		"All 5 messages acknowledged in " + acked + " are stored at the sequence their PubAck named.\n"
	if got != want {
		t.Fatalf("verify printed:\n%s\nwant:\n%s", got, want)
	}
}

// verify finds what is missing, repeated or not where its PubAck said.
func TestVerifyFindsWhatIsNotThere(t *testing.T) {
	if p := checkOnceInOrder([]stored{{1, "Message 1"}, {2, "Message 3"}}); len(p) != 1 || !strings.Contains(p[0], `seq 2 holds "Message 3" where "Message 2" was due`) {
		t.Fatalf("a gap: %q", p)
	}
	if p := checkOnceInOrder([]stored{{1, "Message 1"}, {2, "Message 1"}}); len(p) != 1 {
		t.Fatalf("a repeat: %q", p)
	}
	if p := checkOnceInOrder([]stored{{1, "Message 1"}, {3, "Message 2"}}); len(p) != 0 {
		t.Fatalf("a gap in sequences, none in messages (a deleted message of another subject): %q", p)
	}
	output := "Acknowledged: Message 1 (seq 1)\nAcknowledged: Message 2 (seq 2, duplicate: already stored)\nsomething else\n"
	acked, p, err := checkAcked([]stored{{1, "Message 1"}}, strings.NewReader(output))
	if err != nil || acked != 2 || len(p) != 1 || !strings.Contains(p[0], "Message 2 was acknowledged at seq 2") {
		t.Fatalf("an acknowledged message that is not stored: %d acked, %q, %v", acked, p, err)
	}

	url := jstest.Server(t).URL()
	if _, err := runRole(t, url, "publish", "-count", "3"); err != nil {
		t.Fatal(err)
	}
	if _, err := runRole(t, url, "publish", "-from", "5", "-count", "1"); err != nil {
		t.Fatal(err)
	}
	_, err = runRole(t, url, "verify")
	if err == nil || !strings.Contains(err.Error(), `seq 4 holds "Message 5" where "Message 4" was due`) {
		t.Fatalf("verify with Message 4 missing: %v", err)
	}
	if _, err := runRole(t, url, "verify", "-acked", filepath.Join(t.TempDir(), "none.txt")); err == nil || !strings.Contains(err.Error(), "open the publisher's output") {
		t.Fatalf("verify with a missing -acked file: %v", err)
	}
}

// Ctrl+C stops the publisher between two messages or during one: it says
// how many were acknowledged and where to go on, and exits cleanly.
func TestPublisherStopsOnCtrlC(t *testing.T) {
	url := jstest.Server(t).URL()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"publish", "-server", url, "-interval", "10ms"}, &out) }()
	jstest.Eventually(t, func() error {
		if !strings.Contains(out.String(), "Acknowledged: Message 3 ") {
			return io.ErrNoProgress
		}
		return nil
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("publisher after Ctrl+C: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	last := lines[len(lines)-1]
	acked := strings.Count(out.String(), "Acknowledged: ")
	if want := "Publisher stopped after " + strconv.Itoa(acked) + " acknowledged messages. To go on: publish -from " + strconv.Itoa(acked+1) + "."; last != want {
		t.Fatalf("last line %q, want %q", last, want)
	}
}
