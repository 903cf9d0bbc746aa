package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// consumeConfig is one consume measurement.
type consumeConfig struct {
	mode  string // consume, messages, fetch, next or ordered
	msgs  int
	batch int // what one pull asks for
	size  int
}

// The consume role's stream, filled before the clock starts.
const consumeStream, consumeSubject = "PERF_CONSUME", "perf.consume"

// consumeRole stores msgs messages in a fresh stream, then reads them with
// one way of consuming, and reports the rate.
func consumeRole(ctx context.Context, dial dialer, cfg consumeConfig, out io.Writer) error {
	nc, err := dial("consume")
	if err != nil {
		return err
	}
	defer nc.Close()
	stream, err := fillStream(ctx, nc, cfg.msgs, cfg.size)
	if err != nil {
		return err
	}
	elapsed, err := measureConsume(ctx, stream, cfg, cfg.msgs)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "consume %s: %d messages of %s from %s, %s\n", consumeName(cfg), cfg.msgs, formatSize(cfg.size), consumeStream, ackedOrNot(cfg.mode))
	fmt.Fprintf(out, "%.0f msgs/s\n", float64(cfg.msgs)/elapsed.Seconds())
	return nil
}

func consumeName(cfg consumeConfig) string {
	switch cfg.mode {
	case "fetch":
		return fmt.Sprintf("Fetch(%d)", cfg.batch)
	case "next":
		return "Next()"
	case "ordered":
		return fmt.Sprintf("ordered consumer, PullMaxMessages(%d)", cfg.batch)
	case "messages":
		return fmt.Sprintf("Messages(), PullMaxMessages(%d)", cfg.batch)
	default:
		return fmt.Sprintf("Consume(), PullMaxMessages(%d)", cfg.batch)
	}
}

func ackedOrNot(mode string) string {
	if mode == "ordered" {
		return "no acks (an ordered consumer has none)"
	}
	return "each acked"
}

// fillStream creates the consume role's stream afresh and stores n messages
// in it with a bounded async window. This part is not timed.
func fillStream(ctx context.Context, nc *nats.Conn, n, size int) (jetstream.Stream, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("create a JetStream context: %w", err)
	}
	stream, err := freshStream(ctx, js, jetstream.StreamConfig{Name: consumeStream, Subjects: []string{consumeSubject}})
	if err != nil {
		return nil, err
	}
	msg := &nats.Msg{Subject: consumeSubject, Data: make([]byte, size)}
	r, err := publishAsync(ctx, nc, 500, n, func(int) *nats.Msg { return msg })
	if err != nil {
		return nil, err
	}
	if r.refused > 0 {
		return nil, fmt.Errorf("fill %s: %d of %d publishes refused; the first: %w", consumeStream, r.refused, n, r.firstErr)
	}
	return stream, nil
}

// measureConsume reads n messages from the start of the stream with a new
// consumer. As in nats bench, the clock starts at the first message, so
// creating the consumer and the first pull's round trip are not counted.
func measureConsume(ctx context.Context, stream jetstream.Stream, cfg consumeConfig, n int) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	var cons jetstream.Consumer
	var err error
	if cfg.mode == "ordered" {
		cons, err = stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	} else {
		cons, err = stream.CreateConsumer(ctx, jetstream.ConsumerConfig{
			AckPolicy:         jetstream.AckExplicitPolicy,
			MaxAckPending:     cfg.batch, // as nats bench sets it: no more unacked than one pull
			InactiveThreshold: 10 * time.Second,
		})
	}
	if err != nil {
		return 0, fmt.Errorf("create a consumer on %s: %w", consumeStream, err)
	}
	var first time.Time
	received := 0
	handle := func(msg jetstream.Msg) error {
		if received == 0 {
			first = time.Now()
		}
		received++
		if cfg.mode == "ordered" {
			return nil
		}
		return msg.Ack() // fire and forget, as nats bench does; DoubleAck would wait for each
	}
	switch cfg.mode {
	case "consume", "ordered":
		err = consumeCallback(ctx, cons, cfg.batch, n, handle)
	case "messages":
		err = consumeIterator(ctx, cons, cfg.batch, n, handle)
	case "fetch":
		err = consumeFetch(cons, cfg.batch, n, handle)
	case "next":
		err = consumeNext(cons, n, handle)
	}
	if err != nil {
		return 0, fmt.Errorf("consume %s: %w", consumeName(cfg), err)
	}
	return time.Since(first), nil
}

// docs:start consume
// consumeCallback lets the library keep pulls of up to batch messages
// flowing ahead of the handler, which it calls on its own goroutine.
func consumeCallback(ctx context.Context, cons jetstream.Consumer, batch, n int, handle func(jetstream.Msg) error) error {
	done := make(chan error, 1)
	count := 0
	cc, err := cons.Consume(func(msg jetstream.Msg) {
		if count >= n {
			return
		}
		count++
		if err := handle(msg); err != nil || count == n {
			select {
			case done <- err: // the first error, or the end
			default:
			}
		}
	}, jetstream.PullMaxMessages(batch))
	if err != nil {
		return err
	}
	defer cc.Stop()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// consumeIterator is the same buffered pull, read with Next in a loop.
func consumeIterator(ctx context.Context, cons jetstream.Consumer, batch, n int, handle func(jetstream.Msg) error) error {
	it, err := cons.Messages(jetstream.PullMaxMessages(batch))
	if err != nil {
		return err
	}
	defer it.Stop()
	for range n {
		msg, err := it.Next(jetstream.NextContext(ctx))
		if err != nil {
			return err
		}
		if err := handle(msg); err != nil {
			return err
		}
	}
	return nil
}

// consumeFetch asks for batch messages, reads them all, then asks again:
// one round trip per batch, during which nothing flows.
func consumeFetch(cons jetstream.Consumer, batch, n int, handle func(jetstream.Msg) error) error {
	for got := 0; got < n; {
		b, err := cons.Fetch(min(batch, n-got), jetstream.FetchMaxWait(10*time.Second))
		if err != nil {
			return err
		}
		before := got
		for msg := range b.Messages() {
			got++
			if err := handle(msg); err != nil {
				return err
			}
		}
		if err := b.Error(); err != nil {
			return err
		}
		if got == before {
			return fmt.Errorf("no message in 10 s, after %d of %d", got, n)
		}
	}
	return nil
}

// consumeNext asks for one message at a time: Next is a Fetch(1), with an
// inbox subscription and a pull request of its own for every message.
func consumeNext(cons jetstream.Consumer, n int, handle func(jetstream.Msg) error) error {
	for range n {
		msg, err := cons.Next(jetstream.FetchMaxWait(10 * time.Second))
		if err != nil {
			return err
		}
		if err := handle(msg); err != nil {
			return err
		}
	}
	return nil
}

// docs:end consume
