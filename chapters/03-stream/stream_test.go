package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func TestMain(m *testing.M) {
	// The Examples show the embedded default, whatever the reader's shell says.
	os.Unsetenv("NATS_URL")
	os.Exit(m.Run())
}

// Run the chapter with nothing installed: it starts an embedded server,
// creates example_stream and prints what the server stored.
func Example() {
	if err := run(context.Background(), nil, os.Stdout); err != nil {
		panic(err)
	}
	// Output:
	// Stream "example_stream" created.
	// Configuration:
	//   subjects:  my.subject.*
	//   retention: Limits
	//   storage:   File
	//   max age:   9s
	//   max msgs:  1000
	//   max bytes: 10485760 (10 MiB)
	//   discard:   DiscardOld
	//   replicas:  1
	// State:
	//   messages:  0
	//   bytes:     0
	//   sequences: 0 to 0
	//   consumers: 0
}

// newStream creates cfg on a private server and returns the stream.
func newStream(t *testing.T, cfg jetstream.StreamConfig) (*nats.Conn, jetstream.JetStream, jetstream.Stream) {
	t.Helper()
	nc, js := jstest.Connect(t, jstest.Server(t))
	stream, err := js.CreateStream(jstest.Context(t), cfg)
	if err != nil {
		t.Fatalf("create stream %q: %v", cfg.Name, err)
	}
	return nc, js, stream
}

func publish(t *testing.T, js jetstream.JetStream, subject string, n int) {
	t.Helper()
	for i := 1; i <= n; i++ {
		if _, err := js.Publish(jstest.Context(t), subject, fmt.Appendf(nil, "Message %d", i)); err != nil {
			t.Fatalf("publish %d to %s: %v", i, subject, err)
		}
	}
}

func msgs(t *testing.T, stream jetstream.Stream) uint64 {
	t.Helper()
	info, err := stream.Info(jstest.Context(t))
	if err != nil {
		t.Fatalf("stream info: %v", err)
	}
	return info.State.Msgs
}

func apiCode(err error) jetstream.ErrorCode {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode
	}
	return 0
}
