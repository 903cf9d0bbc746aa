package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/examplestream"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// C38: worker.py connects to nats://nats.nats:4222, a Kubernetes service
// name, and nats-py retries for about two minutes. The chapter fails at
// once with the reason. nats.invalid is used because .invalid never resolves.
func TestC38_UnresolvableHostFailsFast(t *testing.T) {
	start := time.Now()
	err := run(jstest.Context(t), []string{"worker", "-server", "nats://nats.invalid:4222"}, io.Discard)
	var dnsErr *net.DNSError
	if !errors.As(err, &dnsErr) || !strings.Contains(err.Error(), "cannot connect to nats://nats.invalid:4222") {
		t.Fatalf("worker with an unresolvable server: %v, want a DNS error that names the URL", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("took %s to fail, want at most the 2 s dial timeout", took)
	}
}

// C39: worker.py catches ErrNoServers, but nats-py raises NoServersError,
// so its "Could not connect" branch never runs. nats.go reports "nobody
// listening" as nats.ErrNoServers, which is the error the chapter matches.
func TestC39_TheConnectionErrorIsMatchedRightly(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "nats://" + l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = nats.Connect(url)
	if !errors.Is(err, nats.ErrNoServers) {
		t.Fatalf("nats.Connect with nobody listening: %v, want nats.ErrNoServers", err)
	}
	err = run(jstest.Context(t), []string{"worker", "-server", url}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "no NATS server is listening there") {
		t.Fatalf("worker with nobody listening: %v, want the chapter's explanation", err)
	}
	// A name that does not resolve is another error, not ErrNoServers, and
	// gets its own message.
	if _, err := nats.Connect("nats://nats.invalid:4222"); err == nil || errors.Is(err, nats.ErrNoServers) {
		t.Fatalf("unresolvable host: %v, want an error other than ErrNoServers", err)
	}
}

// C40: worker.py sets queue_group = "order_group" and never uses it: the
// queue is hard-coded "workers". The chapter names the queue once, and that
// name is the shared consumer's.
func TestC40_TheQueueNameIsTheConsumerName(t *testing.T) {
	s := jstest.Server(t)
	_, js := jstest.Connect(t, s)
	ctx := jstest.Context(t)
	if err := run(ctx, []string{"publish", "-server", s.URL(), "-interval", "0", "-count", "1"}, io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := run(ctx, []string{"worker", "-server", s.URL(), "-count", "1"}, io.Discard); err != nil {
		t.Fatal(err)
	}
	names, err := consumerNames(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	if queueGroup != "workers" || !slices.Equal(names, []string{queueGroup}) {
		t.Fatalf("consumers %v, want just the queue name %q", names, queueGroup)
	}
}

// C41: the seed's "two consumer tasks in the same queue group" are two
// subscriptions on one JetStream consumer. Three workers, each on its own
// connection as separate processes would be, leave exactly one consumer,
// with a pull request waiting from each.
func TestC41_ManyWorkersOneConsumer(t *testing.T) {
	s := jstest.Server(t)
	_, js := jstest.Connect(t, s)
	ctx := jstest.Context(t)
	if _, err := js.CreateStream(ctx, examplestream.Config()); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		_, js := jstest.Connect(t, s)
		stream, err := js.Stream(ctx, examplestream.Name)
		if err != nil {
			t.Fatal(err)
		}
		cons, err := sharedConsumer(ctx, stream, 30*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		startWorkers(t, cons, worker{name: fmt.Sprintf("worker-%d", i+1)})
	}
	names, err := consumerNames(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(names, []string{queueGroup}) {
		t.Fatalf("consumers %v, want just %q", names, queueGroup)
	}
	cons, err := js.Consumer(ctx, examplestream.Name, queueGroup)
	if err != nil {
		t.Fatal(err)
	}
	// Each worker's pull request reaches the server on its own connection, so
	// wait for the third rather than assume it has arrived.
	jstest.Eventually(t, func() error {
		info, err := cons.Info(ctx)
		if err != nil {
			return err
		}
		if info.NumWaiting != 3 {
			return fmt.Errorf("%d pull requests waiting, want one from each of 3 workers", info.NumWaiting)
		}
		return nil
	})
}

// C42: worker.py's loop.run_until_complete skips its finally blocks on
// Ctrl+C, so connections are never closed. The chapter's signal context
// covers SIGINT and SIGTERM: the worker gives back the task in hand (Nak),
// drains, and returns nil (exit 0). The Nak reaches the server before run
// returns: with AckWait at an hour, the task is available again at once.
func TestC42_SignalStopsWorkerCleanly(t *testing.T) {
	s := jstest.Server(t)
	_, js := jstest.Connect(t, s)
	ctx := jstest.Context(t)
	stream, err := js.CreateStream(ctx, examplestream.Config())
	if err != nil {
		t.Fatal(err)
	}
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			sigCtx, stop := signals()
			defer stop()
			var out strings.Builder
			returned := make(chan error, 1)
			go func() {
				returned <- run(sigCtx, []string{"worker", "-server", s.URL(), "-name", "worker-1", "-work", "1h", "-ack-wait", "1h"}, &out)
			}()
			cons := waitForConsumer(t, stream)
			if err := waitForWorkers(ctx, cons, 1); err != nil {
				t.Fatal(err)
			}
			if _, err := js.Publish(ctx, tasksSubject, []byte("Message 1")); err != nil {
				t.Fatal(err)
			}
			jstest.Eventually(t, func() error {
				info, err := cons.Info(ctx)
				if err != nil {
					return err
				}
				if info.NumAckPending != 1 {
					return fmt.Errorf("%d tasks in hand, want 1", info.NumAckPending)
				}
				return nil
			})
			if err := syscall.Kill(syscall.Getpid(), sig); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-returned:
				if err != nil {
					t.Fatalf("worker stopped by %s: %v, want nil (exit 0)", sig, err)
				}
			case <-ctx.Done():
				t.Fatalf("worker still running after %s", sig)
			}
			if !strings.HasSuffix(out.String(), "[worker-1] Stopped after finishing 0 tasks.\n") {
				t.Fatalf("output:\n%s", out.String())
			}
			// Not after the hour of AckWait: now, because the Nak arrived.
			again, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second))
			if err != nil {
				t.Fatalf("the task given back is not available: %v", err)
			}
			if err := again.DoubleAck(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// deleteConsumer removes a consumer of example_stream if it exists.
func deleteConsumer(t *testing.T, js jetstream.JetStream, name string) {
	t.Helper()
	ctx := jstest.Context(t)
	err := js.DeleteConsumer(ctx, examplestream.Name, name)
	if err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		t.Fatalf("delete consumer %s: %v", name, err)
	}
	// A loaded full-suite run once failed with "can not update pull consumer
	// to push based", which only TestC37's push subtest after its pull one
	// could meet: make sure the consumer is gone before the next create.
	jstest.Eventually(t, func() error {
		names, err := consumerNames(ctx, js)
		if err != nil {
			return err
		}
		if slices.Contains(names, name) {
			return fmt.Errorf("consumer %s is still listed after its delete", name)
		}
		return nil
	})
}

// waitForConsumer waits until a worker has created the shared consumer.
func waitForConsumer(t *testing.T, stream jetstream.Stream) jetstream.Consumer {
	t.Helper()
	var cons jetstream.Consumer
	jstest.Eventually(t, func() error {
		var err error
		cons, err = stream.Consumer(jstest.Context(t), queueGroup)
		return err
	})
	return cons
}

// C43: the seed's durable "workers" listens on my.subject.* from the start
// of the stream, so it first works through every message of sections 4 and 5
// as "tasks"; and as task_publisher.py publishes on my.subject.test, any
// subscriber.py still running prints the tasks too. The chapter's tasks
// have their own subject, and its consumer sees only them.
func TestC43_SeedWorkersReplayOldMessages(t *testing.T) {
	nc, js, stream := newExampleStream(t)
	ctx := jstest.Context(t)
	// Sections 4 and 5: five messages and a request are in the stream.
	if err := publish(ctx, js, io.Discard, "my.subject.test", 5, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "my.subject.requests", []byte("Hello, Consumers!")); err != nil {
		t.Fatal(err)
	}
	seed, err := js.CreateOrUpdatePushConsumer(ctx, examplestream.Name, jetstream.ConsumerConfig{
		Durable: queueGroup, DeliverGroup: queueGroup, DeliverSubject: nc.NewInbox(), FilterSubject: "my.subject.*",
		AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	if pending := seed.CachedInfo().NumPending; pending != 6 {
		t.Fatalf("the seed's workers start with %d messages waiting, want the 6 old ones", pending)
	}
	// The first task is the seed's worker's seventh delivery.
	if _, err := js.Publish(ctx, "my.subject.test", []byte("Message 1")); err != nil {
		t.Fatal(err)
	}
	var seen []string
	arrived := make(chan struct{})
	cc, err := seed.Consume(func(msg jetstream.Msg) {
		seen = append(seen, msg.Subject()+": "+string(msg.Data()))
		if err := msg.Ack(); err != nil {
			t.Error(err)
		}
		if len(seen) == 7 {
			close(arrived)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	<-arrived
	cc.Stop()
	if seen[6] != "my.subject.test: Message 1" || seen[0] != "my.subject.test: Message 1" || seen[5] != "my.subject.requests: Hello, Consumers!" {
		t.Fatalf("the seed's worker saw %q", seen)
	}
	// A chapter 04 style subscriber.py on my.subject.* sees the task too.
	sub, err := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{FilterSubject: "my.subject.*"})
	if err != nil {
		t.Fatal(err)
	}
	if pending := sub.CachedInfo().NumPending; pending != 7 {
		t.Fatalf("a my.subject.* subscriber has %d pending, want all 7, the task included", pending)
	}

	// The chapter: tasks on my.subject.tasks, a consumer filtered to them.
	if err := js.DeleteConsumer(ctx, examplestream.Name, queueGroup); err != nil {
		t.Fatal(err)
	}
	cons, err := sharedConsumer(ctx, stream, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, tasksSubject, []byte("Message 1")); err != nil {
		t.Fatal(err)
	}
	// The consumer counts a new message after the PubAck, on the server's
	// own time: wait for the count. Were the old messages counted too, it
	// would never be 1, and the wait would fail.
	jstest.Eventually(t, func() error {
		info, err := cons.Info(ctx)
		if err != nil {
			return err
		}
		if info.NumPending != 1 {
			return fmt.Errorf("the chapter's workers have %d tasks waiting, want just the 1 task", info.NumPending)
		}
		return nil
	})
	test, err := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{FilterSubject: "my.subject.test"})
	if err != nil {
		t.Fatal(err)
	}
	if pending := test.CachedInfo().NumPending; pending != 6 {
		t.Fatalf("chapter 04's subscriber on my.subject.test has %d pending, want its 6 messages and no task", pending)
	}
}
