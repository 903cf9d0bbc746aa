package main

import (
	"context"
	"errors"
	"os"
	"reflect"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/embedded"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func TestMain(m *testing.M) {
	// The Examples show the embedded default, whatever the reader's shell says.
	os.Unsetenv("NATS_URL")
	os.Exit(m.Run())
}

// Run the chapter with nothing installed: it starts an embedded server.
func Example() {
	if err := run(context.Background(), nil, os.Stdout); err != nil {
		panic(err)
	}
	// Output:
	// Connected to server "embedded" running nats-server 2.15.2.
	// JetStream is enabled for this account.
	// Limits:
	//   memory:    unlimited
	//   storage:   unlimited
	//   streams:   unlimited
	//   consumers: unlimited
	// Usage:
	//   memory:    0 B
	//   storage:   0 B
	//   streams:   0
	//   consumers: 0
}

// C11: JetStream needs -js. Without it nothing listens on the JetStream API
// subjects, and the server answers a request there at once with "no
// responders" (it is an answer, not a silence that times out). AccountInfo
// turns it into ErrJetStreamNotEnabled, other calls return it bare, and the
// chapter says what to do.
func TestC11_JetStreamNeedsTheJSFlag(t *testing.T) {
	s := jstest.ServerWith(t, embedded.Options{NoJetStream: true})
	nc, _ := jstest.Connect(t, s)
	ctx := jstest.Context(t)
	// jetstream.New sends nothing, so it succeeds without JetStream.
	before := nc.Stats().OutMsgs
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("jetstream.New without -js: %v", err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	if sent := nc.Stats().OutMsgs - before; sent != 0 {
		t.Fatalf("jetstream.New sent %d messages, want none", sent)
	}
	const timeout = 5 * time.Second
	asked := time.Now()
	if _, err := nc.Request("$JS.API.INFO", nil, timeout); !errors.Is(err, nats.ErrNoResponders) {
		t.Fatalf("a raw request to the JetStream API without -js: %v, want nats.ErrNoResponders", err)
	}
	if took := time.Since(asked); took > timeout/2 {
		t.Fatalf("the no-responders answer took %s, want far less than the %s timeout", took, timeout)
	}
	if _, err := js.AccountInfo(ctx); !errors.Is(err, jetstream.ErrJetStreamNotEnabled) {
		t.Fatalf("AccountInfo without -js: %v, want ErrJetStreamNotEnabled", err)
	}
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "example_stream"}); err == nil {
		t.Fatal("CreateStream without -js succeeded")
	}
	// Other calls report the same silence less clearly.
	if _, err := js.Stream(ctx, "example_stream"); !errors.Is(err, nats.ErrNoResponders) {
		t.Fatalf("Stream lookup without -js: %v, want nats.ErrNoResponders", err)
	}
	err = run(ctx, []string{"-server", s.URL()}, new(strings.Builder))
	if err == nil || !strings.Contains(err.Error(), "JetStream is not enabled") || !strings.Contains(err.Error(), "-js") {
		t.Fatalf("run without -js: %v", err)
	}
}

// C12: the seed downloads v2.10.2 as "the latest"; it is from October 2023.
// The tutorial pins a newer server and client, and tests them.
func TestC12_PinnedVersionsAreNewerThanTheSeeds(t *testing.T) {
	if server.VERSION != "2.15.2" {
		t.Fatalf("embedded server is %s, want the pinned 2.15.2", server.VERSION)
	}
	want := map[string]string{
		"github.com/nats-io/nats-server/v2": "v2.15.2",
		"github.com/nats-io/nats.go":        "v1.55.0",
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		t.Fatal("no build info")
	}
	for _, dep := range info.Deps {
		if v, ok := want[dep.Path]; ok {
			if dep.Version != v {
				t.Errorf("%s is %s, want %s", dep.Path, dep.Version, v)
			}
			delete(want, dep.Path)
		}
	}
	if len(want) > 0 {
		t.Fatalf("not linked in: %v", want)
	}
}

// C13: "pip install nats-py" is right for Python. Its Go counterpart is one
// module, github.com/nats-io/nats.go, whose jetstream package this test uses.
func TestC13_OneModuleIsTheWholeClient(t *testing.T) {
	s := jstest.Server(t)
	nc, js := jstest.Connect(t, s)
	if !nc.IsConnected() {
		t.Fatal("not connected")
	}
	info, err := js.AccountInfo(jstest.Context(t))
	if err != nil {
		t.Fatalf("the jetstream package cannot reach the server: %v", err)
	}
	if info.Streams != 0 {
		t.Fatalf("fresh server has %d streams", info.Streams)
	}

	// The jetstream package belongs to the nats.go module itself: no second
	// module to add. The module that owns a package is the dependency with
	// the longest path that prefixes the package's import path.
	pkg := reflect.TypeOf(jetstream.StreamConfig{}).PkgPath()
	build, ok := debug.ReadBuildInfo()
	if !ok {
		t.Fatal("no build info")
	}
	owner := ""
	for _, dep := range build.Deps {
		if (pkg == dep.Path || strings.HasPrefix(pkg, dep.Path+"/")) && len(dep.Path) > len(owner) {
			owner = dep.Path
		}
	}
	if owner != "github.com/nats-io/nats.go" {
		t.Fatalf("package %s comes from module %q, want github.com/nats-io/nats.go", pkg, owner)
	}
}
