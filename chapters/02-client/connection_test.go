package main

import (
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/connect"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The standalone program's options. Only the reconnect pair differs from
// nats.go's defaults, and it matters only once a connection was made.
var standaloneOptions = []nats.Option{
	nats.Name("02-client"),
	nats.MaxReconnects(10),
	nats.ReconnectWait(500 * time.Millisecond),
}

// The page: with nothing listening, Connect fails at once with
// nats.ErrNoServers, well within its 2 s dial timeout, however many
// reconnects are allowed. With RetryOnFailedConnect(true) it is the other way
// round: Connect returns no error, and the connection keeps trying in the
// background.
func TestARefusedConnectionFailsAtOnceUnlessRetryOnFailedConnect(t *testing.T) {
	const nobody = "nats://127.0.0.1:1" // nothing listens on port 1
	started := time.Now()
	_, err := nats.Connect(nobody, standaloneOptions...)
	if took := time.Since(started); !errors.Is(err, nats.ErrNoServers) || took >= nats.DefaultTimeout {
		t.Fatalf("connect to a closed port: %v after %s, want nats.ErrNoServers in less than %s", err, took, nats.DefaultTimeout)
	}

	nc, err := nats.Connect(nobody, append(standaloneOptions, nats.RetryOnFailedConnect(true))...)
	if err != nil {
		t.Fatalf("with RetryOnFailedConnect(true): %v, want no error", err)
	}
	defer nc.Close()
	if status := nc.Status(); status != nats.RECONNECTING {
		t.Fatalf("with RetryOnFailedConnect(true) the connection is %s, want RECONNECTING", status)
	}
}

// silentProxy forwards TCP connections to target until silence is called.
// From then on it reads and drops everything, in both directions, and keeps
// the sockets open: a server that vanished without closing the connection,
// as after a pulled cable.
func silentProxy(t *testing.T, target string) (url string, silence func()) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	var silent atomic.Bool
	forward := func(dst, src net.Conn) {
		buf := make([]byte, 32*1024)
		for {
			n, err := src.Read(buf)
			if err != nil {
				return
			}
			if !silent.Load() {
				if _, err := dst.Write(buf[:n]); err != nil {
					return
				}
			}
		}
	}
	go func() {
		for {
			client, err := l.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial("tcp", target)
			if err != nil {
				client.Close()
				return
			}
			t.Cleanup(func() { client.Close(); server.Close() })
			go forward(server, client)
			go forward(client, server)
		}
	}()
	return "nats://" + l.Addr().String(), func() { silent.Store(true) }
}

// The page's deep dive: a server that falls silent without closing the
// connection is noticed only by pings. nats.go pings every PingInterval
// (2 minutes by default) and gives up when more than MaxPingsOutstanding
// (2) go unanswered: on the third tick, 4 to 6 minutes by default. With
// 100 ms, the connection is declared stale after more than 200 ms.
func TestPingsNoticeAServerThatFallsSilent(t *testing.T) {
	if nats.DefaultPingInterval != 2*time.Minute || nats.DefaultMaxPingOut != 2 {
		t.Fatalf("nats.go pings every %s and allows %d unanswered, want 2m0s and 2", nats.DefaultPingInterval, nats.DefaultMaxPingOut)
	}
	s := jstest.Server(t)
	url, silence := silentProxy(t, s.Addr().String())
	const interval = 100 * time.Millisecond
	lost := make(chan error, 1)
	nc, err := nats.Connect(url, nats.PingInterval(interval), nats.NoReconnect(),
		nats.ClosedHandler(func(nc *nats.Conn) { lost <- nc.LastError() }))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if err := nc.Flush(); err != nil { // a round trip through the proxy while it still forwards
		t.Fatal(err)
	}

	silenced := time.Now()
	silence()
	select {
	case err := <-lost:
		took := time.Since(silenced)
		if !errors.Is(err, nats.ErrStaleConnection) {
			t.Fatalf("the connection was lost with %v, want nats.ErrStaleConnection", err)
		}
		if took <= 2*interval {
			t.Fatalf("declared stale %s after the server fell silent, want more than two ping intervals (%s)", took, 2*interval)
		}
		t.Logf("declared stale %s after the server fell silent (ping interval %s)", took.Round(time.Millisecond), interval)
	case <-time.After(jstest.Deadline):
		t.Fatalf("nothing noticed %s after the server fell silent", jstest.Deadline)
	}
}

// The page: Close, like Drain, sends what the client has buffered before it
// closes. A thousand plain Acks, which only queue in the client, and then
// Close: a second connection finds every one of them recorded. The client
// sends some before Close; Buffered shows what it still held, usually
// kilobytes, which only Close can have sent.
func TestCloseSendsTheAcksItHolds(t *testing.T) {
	s := jstest.Server(t)
	_, js := jstest.Connect(t, s) // a second connection, which checks
	ctx := jstest.Context(t)
	stream, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "TASKS", Subjects: []string{"tasks"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: "worker", AckPolicy: jetstream.AckExplicitPolicy}); err != nil {
		t.Fatal(err)
	}
	const n = 1000
	for i := 0; i < n; i++ {
		if _, err := js.PublishAsync("tasks", []byte("task")); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-ctx.Done():
		t.Fatal("the publishes were not all acknowledged")
	}

	nc, err := nats.Connect(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	worker, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	cons, err := worker.Consumer(ctx, "TASKS", "worker")
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.Fetch(n, jetstream.FetchMaxWait(jstest.Deadline))
	if err != nil {
		t.Fatal(err)
	}
	acked := 0
	for msg := range batch.Messages() {
		if err := msg.Ack(); err != nil {
			t.Fatal(err)
		}
		acked++
	}
	if err := batch.Error(); err != nil || acked != n {
		t.Fatalf("fetched and acked %d of %d messages (%v)", acked, n, err)
	}
	held, err := nc.Buffered()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d bytes still held when Close was called", held)
	nc.Close()

	jstest.Eventually(t, func() error {
		info, err := stream.Consumer(ctx, "worker")
		if err != nil {
			return err
		}
		if st := info.CachedInfo(); st.AckFloor.Stream != n || st.NumAckPending != 0 {
			return fmt.Errorf("ack floor %d with %d acks pending, want %d and 0", st.AckFloor.Stream, st.NumAckPending, n)
		}
		return nil
	})
}

// The page: Close sends what the client has buffered, acks included, but
// does not wait for message handlers; Drain lets a handler that is still
// running finish, so its ack reaches the server too. The handler here is
// in the middle of a message when the connection is closed or drained,
// and acks only after that.
func TestDrainLetsARunningHandlerFinish(t *testing.T) {
	for _, tc := range []struct {
		how   string
		close func(*nats.Conn) error
		acked bool
	}{
		{"Drain", connect.Drain, true},
		{"Close", func(nc *nats.Conn) error { nc.Close(); return nil }, false},
	} {
		t.Run(tc.how, func(t *testing.T) {
			s := jstest.Server(t)
			_, js := jstest.Connect(t, s) // a second connection, which checks
			ctx := jstest.Context(t)
			stream, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "TASKS", Subjects: []string{"tasks"}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: "worker", AckPolicy: jetstream.AckExplicitPolicy}); err != nil {
				t.Fatal(err)
			}
			if _, err := js.Publish(ctx, "tasks", []byte("task 1")); err != nil {
				t.Fatal(err)
			}

			nc, err := nats.Connect(s.URL())
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			worker, err := jetstream.New(nc)
			if err != nil {
				t.Fatal(err)
			}
			cons, err := worker.Consumer(ctx, "TASKS", "worker")
			if err != nil {
				t.Fatal(err)
			}
			started, release, acked := make(chan struct{}), make(chan struct{}), make(chan error, 1)
			cc, err := cons.Consume(func(msg jetstream.Msg) {
				close(started)
				<-release
				acked <- msg.Ack()
			}, jetstream.ConsumeErrHandler(func(jetstream.ConsumeContext, error) {})) // the connection goes away under it
			if err != nil {
				t.Fatal(err)
			}
			defer cc.Stop()
			select {
			case <-started:
			case <-time.After(jstest.Deadline):
				t.Fatal("the handler never got the message")
			}

			closed := make(chan error, 1)
			go func() { closed <- tc.close(nc) }()
			jstest.Eventually(t, func() error {
				if nc.IsDraining() || nc.IsClosed() {
					return nil
				}
				return fmt.Errorf("%s has not begun", tc.how)
			})
			close(release) // the handler acks only now
			if err := <-closed; err != nil {
				t.Fatalf("%s: %v", tc.how, err)
			}
			ackErr := <-acked
			if tc.acked != (ackErr == nil) {
				t.Fatalf("after %s the handler's Ack returned %v", tc.how, ackErr)
			}

			jstest.Eventually(t, func() error {
				info, err := stream.Consumer(ctx, "worker")
				if err != nil {
					return err
				}
				pending := info.CachedInfo().NumAckPending
				if (pending == 0) != tc.acked {
					return fmt.Errorf("after %s: %d acks pending", tc.how, pending)
				}
				return nil
			})
		})
	}
}
