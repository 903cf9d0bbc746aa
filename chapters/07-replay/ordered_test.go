package main

import (
	"io"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/nats.go/jetstream"
)

// C06 (d): an ordered consumer delivers in stream order with no acks
// (AckNone). When its consumer disappears on the server, the client makes
// a new one (prefix_2) that goes on after the last delivered message: no
// gap, no repeat.
func TestC06_OrderedConsumerKeepsStreamOrder(t *testing.T) {
	_, js, stream := newExampleStream(t)
	ctx := jstest.Context(t)
	publishFive(t, js)
	cons, err := orderedConsumer(ctx, stream, "my.subject.*", position{policy: jetstream.DeliverAllPolicy}, jetstream.ReplayInstantPolicy, "ordered")
	if err != nil {
		t.Fatal(err)
	}
	if info := cons.CachedInfo(); info.Name != "ordered_1" || info.Config.AckPolicy != jetstream.AckNonePolicy || !info.Config.MemoryStorage {
		t.Fatalf("ordered consumer %s: ack %s, memory %t; want ordered_1, AckNone, memory", info.Name, info.Config.AckPolicy, info.Config.MemoryStorage)
	}
	msgs, err := cons.Messages()
	if err != nil {
		t.Fatal(err)
	}
	defer msgs.Stop()
	var got []uint64
	read := func(n int) {
		for range n {
			msg, err := msgs.Next(jetstream.NextContext(ctx))
			if err != nil {
				t.Fatal(err)
			}
			meta, err := msg.Metadata()
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, meta.Sequence.Stream)
		}
	}
	read(5)
	if err := stream.DeleteConsumer(ctx, "ordered_1"); err != nil {
		t.Fatal(err)
	}
	if err := publish(ctx, js, io.Discard, 3); err != nil {
		t.Fatal(err)
	}
	read(3)
	if !slices.Equal(got, seqs(1, 8)) {
		t.Fatalf("ordered consumer delivered %v, want seq 1 to 8 once each, in order", got)
	}
	if name := cons.CachedInfo().Name; name != "ordered_2" {
		t.Fatalf("after the deletion the client reads through %s, want ordered_2", name)
	}
	// Without a NamePrefix, nats.go picks a random one for each (a NUID).
	var names []string
	for range 2 {
		unnamed, err := orderedConsumer(ctx, stream, "my.subject.*", position{policy: jetstream.DeliverAllPolicy}, jetstream.ReplayInstantPolicy, "")
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, unnamed.CachedInfo().Name)
	}
	nuidThenOne := regexp.MustCompile(`^[0-9A-Za-z]{22}_1$`)
	if !nuidThenOne.MatchString(names[0]) || !nuidThenOne.MatchString(names[1]) || names[0] == names[1] {
		t.Fatalf("ordered consumers without a prefix are named %q, want two random prefixes, each with _1", names)
	}
}

// C06 (d), its limit: until an ordered consumer has handed over a message,
// a replacement starts where the original DeliverPolicy says at that moment
// (nats.go's jetstream/ordered.go, getConsumerConfig), not after a cursor.
// With new or last, a message stored while the consumer was gone is
// skipped; with all, or a start sequence, nothing is. The consumer is deleted before the first
// Next, so no pull request waits on it and no "consumer deleted" status can
// come: the client finds out only from the missing heartbeats.
func TestC06_OrderedConsumerBeforeItsFirstMessage(t *testing.T) {
	// About a second of waiting, spent alongside the other tests.
	t.Parallel()
	const heartbeat = 500 * time.Millisecond // missed twice: a reset (the default is 5 s)
	for _, tc := range []struct {
		from position
		want []string
	}{
		{position{policy: jetstream.DeliverNewPolicy}, []string{"after"}},                  // "gap" is skipped
		{position{policy: jetstream.DeliverLastPolicy}, []string{"gap", "after"}},          // "before" is skipped
		{position{policy: jetstream.DeliverAllPolicy}, []string{"before", "gap", "after"}}, // nothing is
		// "new" as a sequence: the one after the last stored, seq 2. Nothing is skipped.
		{position{policy: jetstream.DeliverByStartSequencePolicy, seq: 2}, []string{"gap", "after"}},
	} {
		t.Run(tc.from.policy.String(), func(t *testing.T) {
			t.Parallel()
			_, js, stream := newExampleStream(t)
			ctx := jstest.Context(t)
			if _, err := js.Publish(ctx, kitchen, []byte("before")); err != nil {
				t.Fatal(err)
			}
			cons, err := orderedConsumer(ctx, stream, "my.subject.*", tc.from, jetstream.ReplayInstantPolicy, "o")
			if err != nil {
				t.Fatal(err)
			}
			msgs, err := cons.Messages(jetstream.PullHeartbeat(heartbeat))
			if err != nil {
				t.Fatal(err)
			}
			defer msgs.Stop()
			deleted := time.Now()
			if err := stream.DeleteConsumer(ctx, "o_1"); err != nil {
				t.Fatal(err)
			}
			if _, err := js.Publish(ctx, kitchen, []byte("gap")); err != nil {
				t.Fatal(err)
			}

			type result struct {
				data []string
				err  error
			}
			got := make(chan result, 1)
			go func() { // Next blocks until the reset, so it reads on its own
				var r result
				defer func() { got <- r }()
				for {
					msg, err := msgs.Next(jetstream.NextContext(ctx))
					if err != nil {
						r.err = err
						return
					}
					r.data = append(r.data, string(msg.Data()))
					if string(msg.Data()) == "after" {
						return
					}
				}
			}()
			jstest.Eventually(t, func() error { // the replacement, made inside Next
				_, err := stream.Consumer(ctx, "o_2")
				return err
			})
			if took := time.Since(deleted); took < 2*heartbeat {
				t.Errorf("o_2 came %s after the deletion; a reset on missing heartbeats takes at least %s", took, 2*heartbeat)
			}
			if _, err := js.Publish(ctx, kitchen, []byte("after")); err != nil {
				t.Fatal(err)
			}
			r := <-got
			if r.err != nil || !slices.Equal(r.data, tc.want) {
				t.Fatalf("%s, consumer deleted before its first message: got %q (%v), want %q", tc.from.policy, r.data, r.err, tc.want)
			}
		})
	}
}
