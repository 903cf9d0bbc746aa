package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// policies are the three retention policies, named as the -retention flag
// and the demo's streams name them.
var policies = []struct {
	name      string
	retention jetstream.RetentionPolicy
}{
	{"limits", jetstream.LimitsPolicy},
	{"interest", jetstream.InterestPolicy},
	{"workqueue", jetstream.WorkQueuePolicy},
}

// policyStream creates a stream named after its retention policy, capturing
// retention.<name>. Nothing else differs between the three: the limits are
// generous, so that only the policy decides what is removed.
func policyStream(ctx context.Context, js jetstream.JetStream, name string, retention jetstream.RetentionPolicy) (jetstream.Stream, error) {
	stream, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name:      name,
		Subjects:  []string{"retention." + name},
		Retention: retention,
		Storage:   jetstream.FileStorage,
		MaxAge:    time.Hour,
		MaxMsgs:   1000,
	})
	if err != nil {
		return nil, fmt.Errorf("create stream %q: %w", name, err)
	}
	return stream, nil
}

// durable creates a named consumer that reads the whole stream and must ack
// each message: the same consumer for every policy.
func durable(ctx context.Context, stream jetstream.Stream, name string) (jetstream.Consumer, error) {
	return stream.CreateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:       name,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
	})
}

// receiveAll fetches, from a consumer that has delivered nothing yet, as many
// messages as the stream stores: all of them, since the consumer starts at the
// beginning. It acks none of them.
func receiveAll(ctx context.Context, stream jetstream.Stream, cons jetstream.Consumer) ([]jetstream.Msg, error) {
	n, err := stored(ctx, stream)
	if err != nil || n == 0 {
		return nil, err
	}
	name := cons.CachedInfo().Name
	batch, err := cons.Fetch(int(n), jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		return nil, fmt.Errorf("fetch from %q: %w", name, err)
	}
	var msgs []jetstream.Msg
	for msg := range batch.Messages() {
		msgs = append(msgs, msg)
	}
	if err := batch.Error(); err != nil {
		return nil, fmt.Errorf("fetch from %q: %w", name, err)
	}
	if len(msgs) != int(n) {
		return nil, fmt.Errorf("fetch from %q: got %d of the %d messages the stream stores", name, len(msgs), n)
	}
	return msgs, nil
}

// ackAll acks each message and waits until the server has recorded it.
func ackAll(ctx context.Context, msgs []jetstream.Msg) error {
	for _, msg := range msgs {
		if err := msg.DoubleAck(ctx); err != nil {
			return fmt.Errorf("ack %s: %w", msg.Subject(), err)
		}
	}
	return nil
}

// stored is how many messages the stream holds now.
func stored(ctx context.Context, stream jetstream.Stream) (uint64, error) {
	info, err := stream.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("read stream info: %w", err)
	}
	return info.State.Msgs, nil
}

// demo does the same things to a limits, an interest and a work-queue stream
// and prints a table: after each step, what each stream still stores.
func demo(ctx context.Context, js jetstream.JetStream, out io.Writer) error {
	t := &table{out: out}
	for _, p := range policies {
		stream, err := policyStream(ctx, js, p.name, p.retention)
		if err != nil {
			return err
		}
		t.lanes = append(t.lanes, &lane{name: p.name, stream: stream})
	}
	publish := func(from, to int) cell {
		return func(_ int, l *lane) (string, error) {
			var seqs []string
			for i := from; i <= to; i++ {
				ack, err := js.Publish(ctx, "retention."+l.name, fmt.Appendf(nil, "Message %d", i))
				if err != nil {
					return "", fmt.Errorf("publish Message %d: %w", i, err)
				}
				seqs = append(seqs, fmt.Sprint(ack.Sequence))
			}
			return strings.Join(seqs, " "), nil
		}
	}
	// Each count is read once: a publish returns once the message is stored
	// (or dropped for want of interest), and DoubleAck once the server has
	// removed what the ack released. On one server, nothing happens later.
	count := func(_ int, l *lane) (string, error) {
		n, err := stored(ctx, l.stream)
		return fmt.Sprint(n), err
	}
	var refused []string

	fmt.Fprintln(out, "The same steps on three streams that differ only in their retention policy:")
	t.row("", func(_ int, l *lane) (string, error) { return l.name, nil })
	t.note("1. Publish Message 1 and 2; no consumer yet.")
	t.row("   PubAck sequences", publish(1, 2))
	t.row("   stored", count)
	t.row(`2. Add a durable consumer "reader".`, func(_ int, l *lane) (_ string, err error) {
		l.reader, err = durable(ctx, l.stream, "reader")
		return "created", err
	})
	t.note("3. Publish Message 3 and 4.")
	t.row("   PubAck sequences", publish(3, 4))
	t.row("   stored", count)
	t.row(`4. Add a second one, "auditor".`, func(_ int, l *lane) (string, error) {
		auditor, err := durable(ctx, l.stream, "auditor")
		if apiCode(err) == codeWQMultipleUnfiltered {
			refused = append(refused, fmt.Sprintf("The %s stream refused \"auditor\":\n  %s", l.name, refusal(err)))
			return "refused", nil
		}
		l.auditor = auditor
		return "created", err
	})
	t.note(`5. "reader" fetches, acks nothing yet.`)
	t.row("   received", func(_ int, l *lane) (_ string, err error) {
		l.received, err = receiveAll(ctx, l.stream, l.reader)
		return fmt.Sprint(len(l.received)), err
	})
	t.row("   stored", count)
	t.note(`6. "reader" acks what it received.`)
	t.row("   acked", func(_ int, l *lane) (string, error) {
		return fmt.Sprint(len(l.received)), ackAll(ctx, l.received)
	})
	t.row("   stored", count)
	t.note(`7. "auditor" fetches and acks.`)
	t.row("   acked", func(_ int, l *lane) (string, error) {
		if l.auditor == nil {
			return "-", nil
		}
		msgs, err := receiveAll(ctx, l.stream, l.auditor)
		if err != nil {
			return "", err
		}
		return fmt.Sprint(len(msgs)), ackAll(ctx, msgs)
	})
	t.row("   stored", count)
	if t.err != nil {
		return t.err
	}
	for _, line := range refused {
		fmt.Fprintln(out, line)
	}
	return nil
}

// lane is one policy's stream in the demo, with its two consumers.
type lane struct {
	name            string
	stream          jetstream.Stream
	reader, auditor jetstream.Consumer // auditor stays nil where the server refuses it
	received        []jetstream.Msg
}

// A cell does one step to the i-th lane and says what came of it.
type cell func(i int, l *lane) (string, error)

// table prints the demo: one row per step, one column per lane. After the
// first error it does nothing more, and err says what failed.
type table struct {
	out   io.Writer
	lanes []*lane
	err   error
}

func (t *table) note(line string) {
	if t.err == nil {
		fmt.Fprintln(t.out, line)
	}
}

func (t *table) row(label string, step cell) {
	if t.err != nil {
		return
	}
	cells := make([]any, len(t.lanes))
	for i, l := range t.lanes {
		text, err := step(i, l)
		if err != nil {
			t.err = fmt.Errorf("%s stream, %s: %w", l.name, strings.TrimSpace(label), err)
			return
		}
		cells[i] = text
	}
	fmt.Fprintf(t.out, "%-40s%-10s%-10s%s\n", append([]any{label}, cells...)...)
}
