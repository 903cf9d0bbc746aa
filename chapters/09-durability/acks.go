package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// docs:start acks
const (
	tasksConsumer         = "tasks"
	maxDeliver            = 3 // deliveries of one message, then the server gives up on it
	maxDeliveriesAdvisory = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES." + fileStream + "." + tasksConsumer
)

// acknowledgements shows each way a consumer can answer a delivery, one
// task at a time, so that which message comes next never depends on timing.
func acknowledgements(ctx context.Context, js jetstream.JetStream, file jetstream.Stream, out io.Writer) error {
	cons, err := file.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:       tasksConsumer,
		FilterSubject: tasksSubject,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       30 * time.Second, // unanswered this long: delivered again
		MaxDeliver:    maxDeliver,
	})
	if err != nil {
		return fmt.Errorf("create consumer %q: %w", tasksConsumer, err)
	}
	gaveUp, err := js.Conn().SubscribeSync(maxDeliveriesAdvisory)
	if err != nil {
		return fmt.Errorf("subscribe to the MAX_DELIVERIES advisories: %w", err)
	}
	defer func() { err = errors.Join(err, gaveUp.Unsubscribe()) }()
	if err := js.Conn().FlushWithContext(ctx); err != nil {
		return fmt.Errorf("subscribe to the MAX_DELIVERIES advisories: %w", err)
	}

	t := tasks{js: js, cons: cons, out: out}
	steps := []struct {
		answer string
		do     func(jetstream.Msg) error
	}{
		{"Ack: sent without waiting, so a lost ack goes unnoticed", func(m jetstream.Msg) error { return m.Ack() }},
		{"DoubleAck: the server confirmed it", func(m jetstream.Msg) error { return m.DoubleAck(ctx) }},
		{"InProgress (still working: AckWait starts again), then DoubleAck", func(m jetstream.Msg) error {
			return errors.Join(m.InProgress(), m.DoubleAck(ctx))
		}},
	}
	for _, step := range steps {
		if err := t.publish(ctx); err != nil {
			return err
		}
		if err := t.answer(ctx, step.answer, step.do); err != nil {
			return err
		}
	}

	// A task that fails: Nak hands it back at once, Term settles it for good.
	if err := t.publish(ctx); err != nil {
		return err
	}
	if err := t.answer(ctx, "Nak: deliver it again", jetstream.Msg.Nak); err != nil {
		return err
	}
	if err := t.answer(ctx, "TermWithReason: never deliver it again", func(m jetstream.Msg) error {
		return m.TermWithReason("the task cannot be done")
	}); err != nil {
		return err
	}

	// A poison message fails every time: MaxDeliver ends its redeliveries.
	if err := t.publish(ctx); err != nil {
		return err
	}
	for range maxDeliver {
		if err := t.answer(ctx, "Nak (it fails every time)", jetstream.Msg.Nak); err != nil {
			return err
		}
	}
	return t.poisoned(ctx, file, gaveUp)
}

// tasks publishes tasks and answers their deliveries for acknowledgements.
type tasks struct {
	js        jetstream.JetStream
	cons      jetstream.Consumer
	out       io.Writer
	published int
}

func (t *tasks) publish(ctx context.Context) error {
	t.published++
	if _, err := t.js.Publish(ctx, tasksSubject, fmt.Appendf(nil, "task %d", t.published)); err != nil {
		return fmt.Errorf("publish task %d: %w", t.published, err)
	}
	return nil
}

// answer takes the consumer's next delivery and answers it with do.
func (t *tasks) answer(ctx context.Context, answer string, do func(jetstream.Msg) error) error {
	nextCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	msg, err := t.cons.Next(jetstream.FetchContext(nextCtx))
	if err != nil {
		return fmt.Errorf("receive a task: %w", err)
	}
	meta, err := msg.Metadata()
	if err != nil {
		return fmt.Errorf("read task metadata: %w", err)
	}
	if err := do(msg); err != nil {
		return fmt.Errorf("answer seq %d: %w", meta.Sequence.Stream, err)
	}
	fmt.Fprintf(t.out, "seq %d %q, delivery %d: %s.\n", meta.Sequence.Stream, msg.Data(), meta.NumDelivered, answer)
	return nil
}

// poisoned waits until the server gives up on the poison message, which it
// announces with an advisory, and shows where the message is left.
func (t *tasks) poisoned(ctx context.Context, file jetstream.Stream, gaveUp *nats.Subscription) error {
	// The server notices when it would deliver the message again, that is
	// when a pull request is waiting: keep asking, and expect nothing.
	for {
		batch, err := t.cons.Fetch(1, jetstream.FetchMaxWait(100*time.Millisecond))
		if err != nil {
			return fmt.Errorf("pull after the last delivery: %w", err)
		}
		for msg := range batch.Messages() {
			return fmt.Errorf("delivered again after %d deliveries: %q", maxDeliver, msg.Data())
		}
		if err := batch.Error(); err != nil {
			return fmt.Errorf("pull after the last delivery: %w", err)
		}
		pending, _, err := gaveUp.Pending()
		if err != nil {
			return fmt.Errorf("wait for the MAX_DELIVERIES advisory: %w", err)
		}
		if pending > 0 {
			break
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("wait for the MAX_DELIVERIES advisory: %w", context.Cause(ctx))
		}
	}
	msg, err := gaveUp.NextMsg(time.Second)
	if err != nil {
		return fmt.Errorf("read the MAX_DELIVERIES advisory: %w", err)
	}
	var advisory struct {
		StreamSeq  uint64 `json:"stream_seq"`
		Deliveries uint64 `json:"deliveries"`
	}
	if err := json.Unmarshal(msg.Data, &advisory); err != nil {
		return fmt.Errorf("read the MAX_DELIVERIES advisory: %w", err)
	}
	fmt.Fprintf(t.out, "MAX_DELIVERIES advisory: seq %d was delivered %d times; the server will not deliver it again.\n", advisory.StreamSeq, advisory.Deliveries)

	info, err := t.cons.Info(ctx)
	if err != nil {
		return fmt.Errorf("read consumer %q: %w", tasksConsumer, err)
	}
	fmt.Fprintf(t.out, "Consumer %q: %d messages waiting for an answer, %d to deliver.\n", tasksConsumer, info.NumAckPending, info.NumPending)
	poison, err := file.GetMsg(ctx, advisory.StreamSeq)
	if err != nil {
		return fmt.Errorf("get seq %d: %w", advisory.StreamSeq, err)
	}
	fmt.Fprintf(t.out, "Seq %d is still in %s (%q): the advisory says where to find it.\n", poison.Sequence, fileStream, poison.Data)
	return nil
}

// docs:end acks
