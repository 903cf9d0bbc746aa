package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// latencyConfig is one latency measurement.
type latencyConfig struct {
	path string // core, file or memory
	rate int    // messages a second
	msgs int
	size int
}

// stampSize is the two timestamps each message carries: when it was due,
// and when it was really sent.
const stampSize = 16

const latencyStream, latencySubject = "PERF_LATENCY", "perf.latency"

// latencyResult holds one sample per message.
type latencyResult struct {
	fromDue  []time.Duration // receive time minus the time the schedule said to send
	fromSent []time.Duration // receive time minus the time it was sent
	late     []time.Duration // how late the pacer sent it
}

func latencyRole(ctx context.Context, dial dialer, cfg latencyConfig, out io.Writer) error {
	r, err := measureLatency(ctx, dial, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "latency %s: %d messages of %s at %d msgs/s, sent on schedule (open loop)\n",
		latencyPathName(cfg.path), cfg.msgs, formatSize(cfg.size), cfg.rate)
	fmt.Fprintf(out, "from when each was due:  %s\n", percentiles(r.fromDue))
	fmt.Fprintf(out, "from when each was sent: %s\n", percentiles(r.fromSent))
	fmt.Fprintf(out, "the pacer was late by:   %s\n", percentiles(r.late))
	return nil
}

func latencyPathName(path string) string {
	if path == "core" {
		return "core publish to a subscriber"
	}
	return "JetStream publish to an ordered consumer, " + path + " storage"
}

// docs:start latency
// measureLatency sends cfg.msgs messages on a fixed schedule, whatever the
// answers do: message i is due at start + i/rate. A publisher that waited
// for each answer would send less while the system is slow, and leave out
// of its samples the very moments it is slow (coordinated omission). Each
// message carries its due time and its send time; the receiver, on its own
// connection in this process, subtracts both from its clock.
func measureLatency(ctx context.Context, dial dialer, cfg latencyConfig) (latencyResult, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute+time.Duration(cfg.msgs)*time.Second/time.Duration(cfg.rate))
	defer cancel()
	base := time.Now() // the one clock: both timestamps are offsets from it
	var (
		mu       sync.Mutex
		r        latencyResult
		received atomic.Int64
		warm     = make(chan struct{}) // the warm-up message arrived
		all      = make(chan struct{}) // every message arrived
	)
	receive := func(data []byte) {
		now := time.Since(base)
		due, sent := time.Duration(binary.BigEndian.Uint64(data)), time.Duration(binary.BigEndian.Uint64(data[8:]))
		mu.Lock()
		r.fromDue, r.fromSent = append(r.fromDue, now-due), append(r.fromSent, now-sent)
		mu.Unlock()
		switch received.Add(1) {
		case 1:
			close(warm)
		case int64(cfg.msgs) + 1: // the warm-up message, then the measured ones
			close(all)
		}
	}
	send, stop, err := latencyPath(ctx, dial, cfg, receive)
	if err != nil {
		return latencyResult{}, err
	}
	defer stop()

	payload := func(due, sent time.Duration) []byte {
		data := make([]byte, cfg.size) // a new one each time: an async publish may keep it for a retry
		binary.BigEndian.PutUint64(data, uint64(due))
		binary.BigEndian.PutUint64(data[8:], uint64(sent))
		return data
	}
	// A warm-up message first: the connections, the subscription or the
	// consumer's first pull are ready before the clock runs.
	if err := send(payload(time.Since(base), time.Since(base))); err != nil {
		return latencyResult{}, err
	}
	select {
	case <-warm:
	case <-ctx.Done():
		return latencyResult{}, fmt.Errorf("the warm-up message never arrived: %w", context.Cause(ctx))
	}
	start := time.Since(base)
	interval := time.Second / time.Duration(cfg.rate)
	for i := range cfg.msgs {
		due := start + time.Duration(i)*interval
		sleepUntil(base.Add(due))
		sent := time.Since(base)
		r.late = append(r.late, sent-due)
		if err := send(payload(due, sent)); err != nil {
			return latencyResult{}, fmt.Errorf("send message %d: %w", i+1, err)
		}
	}
	select {
	case <-all:
	case <-ctx.Done():
		return latencyResult{}, fmt.Errorf("received %d of %d messages: %w", received.Load()-1, cfg.msgs, context.Cause(ctx))
	}
	mu.Lock()
	defer mu.Unlock()
	r.fromDue, r.fromSent = r.fromDue[1:], r.fromSent[1:] // the warm-up message is not a sample
	return r, nil
}

// docs:end latency

// latencyPath connects a publisher and a receiver for path, and returns the
// publisher's send function and what stops both.
func latencyPath(ctx context.Context, dial dialer, cfg latencyConfig, receive func([]byte)) (send func([]byte) error, stop func(), err error) {
	pub, err := dial("latency publisher")
	if err != nil {
		return nil, nil, err
	}
	sub, err := dial("latency receiver")
	if err != nil {
		pub.Close()
		return nil, nil, err
	}
	closeBoth := func() { pub.Close(); sub.Close() }
	if cfg.path == "core" {
		subject := latencySubject + ".core" // no stream captures it
		if _, err := sub.Subscribe(subject, func(m *nats.Msg) { receive(m.Data) }); err != nil {
			closeBoth()
			return nil, nil, fmt.Errorf("subscribe to %s: %w", subject, err)
		}
		if err := sub.Flush(); err != nil { // the server knows the subscription before the first publish
			closeBoth()
			return nil, nil, fmt.Errorf("flush: %w", err)
		}
		return func(data []byte) error { return pub.Publish(subject, data) }, closeBoth, nil
	}

	storage := jetstream.FileStorage
	if cfg.path == "memory" {
		storage = jetstream.MemoryStorage
	}
	var refused atomic.Pointer[error]
	js, err := jetstream.New(pub, jetstream.WithPublishAsyncMaxPending(500),
		jetstream.WithPublishAsyncErrHandler(func(_ jetstream.JetStream, _ *nats.Msg, err error) { refused.CompareAndSwap(nil, &err) }))
	if err != nil {
		closeBoth()
		return nil, nil, fmt.Errorf("create a JetStream context: %w", err)
	}
	stream, err := freshStream(ctx, js, jetstream.StreamConfig{Name: latencyStream, Subjects: []string{latencySubject}, Storage: storage})
	if err != nil {
		closeBoth()
		return nil, nil, err
	}
	subJS, err := jetstream.New(sub)
	if err != nil {
		closeBoth()
		return nil, nil, fmt.Errorf("create a JetStream context: %w", err)
	}
	cons, err := subJS.OrderedConsumer(ctx, stream.CachedInfo().Config.Name, jetstream.OrderedConsumerConfig{})
	if err != nil {
		closeBoth()
		return nil, nil, fmt.Errorf("create an ordered consumer: %w", err)
	}
	cc, err := cons.Consume(func(m jetstream.Msg) { receive(m.Data()) })
	if err != nil {
		closeBoth()
		return nil, nil, fmt.Errorf("consume: %w", err)
	}
	send = func(data []byte) error {
		if e := refused.Load(); e != nil {
			return fmt.Errorf("an earlier publish was refused: %w", *e)
		}
		_, err := js.PublishAsync(latencySubject, data)
		return err
	}
	return send, func() { cc.Stop(); closeBoth() }, nil
}

// quantiles are the percentiles nats bench prints.
type quantiles struct{ p50, p90, p99, p999 time.Duration }

// percentilesOf computes them by nearest rank, as nats bench does: the
// p-th percentile of n sorted samples is the ceil(p/100*n)-th.
func percentilesOf(samples []time.Duration) quantiles {
	sorted := slices.Clone(samples)
	slices.Sort(sorted)
	rank := func(p float64) time.Duration {
		if len(sorted) == 0 {
			return 0
		}
		i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
		return sorted[min(max(i, 0), len(sorted)-1)]
	}
	return quantiles{rank(50), rank(90), rank(99), rank(99.9)}
}

func percentiles(samples []time.Duration) string {
	q := percentilesOf(samples)
	var b strings.Builder
	for _, p := range []struct {
		name string
		d    time.Duration
	}{{"p50", q.p50}, {"p90", q.p90}, {"p99", q.p99}, {"p99.9", q.p999}} {
		fmt.Fprintf(&b, "%s %s  ", p.name, micros(p.d))
	}
	return strings.TrimSpace(b.String())
}

// micros writes a duration in whole microseconds, the unit of this chapter.
func micros(d time.Duration) string {
	return fmt.Sprintf("%dµs", d.Round(time.Microsecond).Microseconds())
}
