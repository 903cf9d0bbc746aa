package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/crypto/bcrypt"
)

// testServer is the chapter's configuration on a server of the test's
// own: written into t.TempDir() with a free port and bcrypt's minimum cost
// (the default costs about a second per sign-in under the race detector),
// and stopped when the test ends.
type testServer struct {
	creds credentials
	log   *lockedBuffer // the server's log, traces included
}

func startTestServer(t *testing.T) *testServer {
	t.Helper()
	dir := t.TempDir()
	if err := writeConfig(dir, -1, bcrypt.MinCost); err != nil {
		t.Fatal(err)
	}
	log := &lockedBuffer{}
	s, err := startServer(filepath.Join(dir, serverConfFile), log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	return &testServer{creds: credentials{url: s.ClientURL(), dir: dir}, log: log}
}

// as connects as user, closed when the test ends.
func (ts *testServer) as(t *testing.T, user string) *session {
	t.Helper()
	s, err := ts.creds.connect(user, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.close)
	return s
}

// secret reads a file config wrote, such as admin.password.
func (ts *testServer) secret(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(ts.creds.dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(data))
}

// startConfigured starts a server from a configuration in nats-server's
// syntax, for the cases the chapter's server.conf does not hold. It listens
// on 127.0.0.1 at a free port, without TLS unless conf says otherwise, with
// JetStream and its store in t.TempDir().
func startConfigured(t *testing.T, conf string) *server.Server {
	t.Helper()
	opts := &server.Options{}
	if conf != "" {
		if err := opts.ProcessConfigString(conf); err != nil {
			t.Fatalf("configure the server: %v", err)
		}
	}
	opts.Host, opts.Port, opts.NoSigs = "127.0.0.1", server.RANDOM_PORT, true
	opts.JetStream, opts.StoreDir = true, t.TempDir()
	s, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("the server is not ready")
	}
	return s
}

// connectWith connects to url with opts, and sends the server's
// asynchronous errors to the session's refusals, as the chapter's
// sessions do.
func connectWith(t *testing.T, url string, opts ...nats.Option) *session {
	t.Helper()
	refusals := make(chan error, 8)
	opts = append(opts, nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		select {
		case refusals <- err:
		default:
		}
	}))
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return &session{nc: nc, js: js, refusals: refusals}
}

// refusedWithin runs try through the chapter's refused and fails the test
// unless the server refused it with a permissions violation naming want.
func refusedWithin(t *testing.T, ctx context.Context, s *session, want string, try func(context.Context) error) {
	t.Helper()
	refusal, err := refused(ctx, s, try)
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(refusal, nats.ErrPermissionViolation) || !strings.Contains(refusal.Error(), want) {
		t.Fatalf("refusal %q, want a permissions violation for %s", refusal, want)
	}
}

// lockedBuffer is a bytes.Buffer that the server may write to while a test
// reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
