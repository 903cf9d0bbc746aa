package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/embedded"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// syncBuffer lets a test read what run has printed so far while it runs.
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

// startRun runs the chapter in the background on a random port and returns
// once it says it is ready, with its URL, a way to stop it, and its output.
func startRun(t *testing.T, store string) (url string, stop func() error, out *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out = &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-port", "-1", "-store", store}, out) }()
	jstest.Eventually(t, func() error {
		if strings.Contains(out.String(), "Press Ctrl+C to stop.") {
			return nil
		}
		select {
		case err := <-done:
			t.Fatalf("run ended before it was ready: %v\n%s", err, out)
		default:
		}
		return errors.New("the server has not announced itself yet")
	})
	for _, line := range strings.Split(out.String(), "\n") {
		if u, ok := strings.CutPrefix(line, "  client URL: "); ok {
			url = u
		}
	}
	stopped := false
	stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		return <-done
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("run: %v", err)
		}
	})
	return url, stop, out
}

// The chapter's promise: stop the server, start it again on the same
// -store, and every acknowledged message is still there. The test stops
// run by canceling its context, as Ctrl+C does; 01-server.txtar sends the
// real SIGINT.
func TestRestartKeepsAcknowledgedMessages(t *testing.T) {
	store := t.TempDir()
	url, stop, out := startRun(t, store)

	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := jstest.Context(t)
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "orders", Subjects: []string{"orders.>"}}); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 50; i++ {
		if _, err := js.Publish(ctx, "orders.new", []byte(fmt.Sprint(i))); err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
	}
	nc.Close()
	if err := stop(); err != nil {
		t.Fatalf("run after Ctrl+C: %v", err)
	}
	if !strings.Contains(out.String(), "Stopped.") {
		t.Fatalf("no goodbye after Ctrl+C:\n%s", out)
	}

	url, _, _ = startRun(t, store)
	nc, err = nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err = jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	stream, err := js.Stream(ctx, "orders")
	if err != nil {
		t.Fatalf("stream after restart: %v", err)
	}
	if got := stream.CachedInfo().State.Msgs; got != 50 {
		t.Fatalf("after restart the stream has %d messages, want 50", got)
	}
}

// C02: the seed's "nats-server -js" has no -sd, so the store lands in the
// temporary directory, where a reboot may wipe it. Chapter 01 always names one.
func TestC02_NoStoreDirMeansTempDir(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // os.TempDir() reads it; keeps the test's store private
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, JetStream: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	logs := &warnings{}
	s.SetLogger(logs, false, false)
	s.Start()
	defer s.Shutdown()
	if !s.ReadyForConnections(5 * time.Second) {
		t.Fatal("server not ready")
	}
	if got, want := s.JetStreamConfig().StoreDir, filepath.Join(tmp, "nats", "jetstream"); got != want {
		t.Fatalf("store dir without -sd = %q, want %q", got, want)
	}
	if !strings.Contains(logs.String(), "Temporary storage directory used, data could be lost on system reboot") {
		t.Fatalf("no warning about the temporary store in the server log:\n%s", logs)
	}
}

// warnings is a server logger that keeps the warnings and errors it is given.
type warnings struct{ syncBuffer }

func (w *warnings) Warnf(format string, v ...any)  { fmt.Fprintf(w, "[WRN] "+format+"\n", v...) }
func (w *warnings) Errorf(format string, v ...any) { fmt.Fprintf(w, "[ERR] "+format+"\n", v...) }
func (w *warnings) Fatalf(format string, v ...any) { fmt.Fprintf(w, "[FTL] "+format+"\n", v...) }
func (w *warnings) Noticef(string, ...any)         {}
func (w *warnings) Debugf(string, ...any)          {}
func (w *warnings) Tracef(string, ...any)          {}

// Nothing stops two servers from opening one store directory, which is why
// the page warns against it: a second server starts without a warning or an
// error in its log, and loads the stream that the first one created and
// still serves.
func TestTwoServersOnOneStoreBothStart(t *testing.T) {
	store := t.TempDir()
	first := jstest.ServerWith(t, embedded.Options{StoreDir: store})
	_, js := jstest.Connect(t, first)
	ctx := jstest.Context(t)
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "orders", Subjects: []string{"orders.>"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "orders.new", []byte("1")); err != nil {
		t.Fatal(err)
	}

	second, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, JetStream: true, StoreDir: store, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	logs := &warnings{}
	second.SetLogger(logs, false, false) // before Start, to hear everything it says
	second.Start()
	defer second.Shutdown()
	if !second.ReadyForConnections(5 * time.Second) {
		t.Fatal("the second server did not start")
	}
	if first.JetStreamConfig().StoreDir != second.JetStreamConfig().StoreDir {
		t.Fatal("the servers use different directories")
	}
	nc2, err := nats.Connect(second.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc2.Close()
	js2, err := jetstream.New(nc2)
	if err != nil {
		t.Fatal(err)
	}
	stream, err := js2.Stream(ctx, "orders")
	if err != nil {
		t.Fatalf("the second server does not serve the first one's stream: %v", err)
	}
	if got := stream.CachedInfo().State.Msgs; got != 1 {
		t.Fatalf("the second server's copy of the stream holds %d messages, want the first one's 1", got)
	}
	if _, err := js.Stream(ctx, "orders"); err != nil {
		t.Fatalf("the first server lost its stream: %v", err)
	}
	if logs.String() != "" {
		t.Fatalf("the second server logged:\n%s", logs)
	}
}

// The standalone program's comments: Port 0 is not "any port" but 4222,
// the default, and an empty Host listens on every address.
// server.RANDOM_PORT (-1) leaves the choice to the operating system.
// NewServer writes the defaults into the options it is given.
func TestPortZeroMeans4222(t *testing.T) {
	for _, tc := range []struct {
		set      server.Options
		wantHost string
		wantPort int
	}{
		{server.Options{}, "0.0.0.0", 4222},
		{server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT}, "127.0.0.1", 0}, // 0: net.Listen picks
	} {
		opts := tc.set
		opts.NoSigs = true
		if _, err := server.NewServer(&opts); err != nil { // configured, never started
			t.Fatal(err)
		}
		if opts.Host != tc.wantHost || opts.Port != tc.wantPort {
			t.Errorf("Host %q, Port %d becomes %s:%d, want %s:%d", tc.set.Host, tc.set.Port, opts.Host, opts.Port, tc.wantHost, tc.wantPort)
		}
	}
}

// C02: "stored permanently on disk" leaves out that the file store fsyncs
// in the background, every two minutes unless told otherwise.
func TestC02_FileStoreSyncsEveryTwoMinutesByDefault(t *testing.T) {
	s := jstest.Server(t)
	cfg := s.JetStreamConfig()
	if cfg.SyncInterval != 2*time.Minute || cfg.SyncAlways {
		t.Fatalf("sync interval %s, sync always %v; want 2m0s and false", cfg.SyncInterval, cfg.SyncAlways)
	}
	always := jstest.ServerWith(t, embedded.Options{SyncAlways: true})
	if !always.JetStreamConfig().SyncAlways {
		t.Fatal("SyncAlways option not applied")
	}
}

// The run contract's unhappy paths: bad flags are usage errors, a taken port
// is a runtime error that names the port and what to do.
func TestRunRejectsBadInput(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"-port", "nope"}, &out)
	if err == nil || !strings.Contains(err.Error(), usage) {
		t.Fatalf("bad -port: %v", err)
	}
	taken := jstest.Server(t)
	port := fmt.Sprint(taken.Addr().(*net.TCPAddr).Port)
	err = run(context.Background(), []string{"-port", port, "-store", t.TempDir()}, &out)
	if err == nil || !strings.Contains(err.Error(), "is another server using that port?") {
		t.Fatalf("taken port: %v", err)
	}
}
