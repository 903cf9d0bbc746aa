package main

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// consume compares the ways of consuming, each with a new consumer that
// reads the same stored messages from the start.
func (b *bench) consume(ctx context.Context) ([]table, error) {
	stored, few := b.count(100_000), b.count(10_000)
	modes := []struct {
		name string
		cfg  consumeConfig
	}{
		{"Consume", consumeConfig{mode: "consume", batch: 500, msgs: stored}},
		{"Messages", consumeConfig{mode: "messages", batch: 500, msgs: stored}},
		{"Fetch(500)", consumeConfig{mode: "fetch", batch: 500, msgs: stored}},
		{"Fetch(100)", consumeConfig{mode: "fetch", batch: 100, msgs: stored}},
		{"Fetch(10)", consumeConfig{mode: "fetch", batch: 10, msgs: few}},
		{"Fetch(1)", consumeConfig{mode: "fetch", batch: 1, msgs: few}},
		{"Next", consumeConfig{mode: "next", batch: 1, msgs: few}},
		{"Ordered", consumeConfig{mode: "ordered", batch: 500, msgs: stored}},
	}
	var names []string
	for _, mode := range modes {
		names = append(names, mode.name)
	}
	nc, err := tcp(b.server.url)("consume")
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	var stream jetstream.Stream
	fill := func(ctx context.Context) error { // a fresh stream each repetition, not timed
		stream, err = fillStream(ctx, nc, stored, 128)
		return err
	}
	m, err := b.interleave(ctx, names, fill, func(ctx context.Context, name string) (sample, error) {
		for _, mode := range modes {
			if mode.name == name {
				elapsed, err := measureConsume(ctx, stream, mode.cfg, mode.cfg.msgs)
				if err != nil {
					return nil, err
				}
				return sample{"rate": float64(mode.cfg.msgs) / elapsed.Seconds()}, nil
			}
		}
		return nil, fmt.Errorf("no consume mode %q", name)
	})
	if err != nil {
		return nil, err
	}
	t := newTable(fmt.Sprintf("13-performance consume: a new consumer reads %d stored 128-byte messages (%d for the slow ones),", stored, few),
		"acking each (not Ordered), the clock from the first message; PullMaxMessages(500) for Consume, Messages and Ordered;", b.repsNote())
	t.add("way", "messages", "msgs/s", "÷ Consume", "range", "load")
	for _, mode := range modes {
		r := ratios(m.get(mode.name, "rate"), m.get("Consume", "rate"))
		t.add(mode.name, itoa(mode.cfg.msgs), rateCell(m.get(mode.name, "rate")), ratioCell(r), rangeCell(r), loadCell(m.get(mode.name, "load")))
	}
	return []table{{"consume", t.String()}}, nil
}

// latency measures publish to receive at a fixed rate, open loop, for core
// NATS and JetStream on file and memory storage.
func (b *bench) latency(ctx context.Context) ([]table, error) {
	const rate = 2000
	n := b.count(4000)
	names := []string{"core", "file", "memory"}
	m, err := b.interleave(ctx, names, nil, func(ctx context.Context, path string) (sample, error) {
		r, err := measureLatency(ctx, tcp(b.server.url), latencyConfig{path: path, rate: rate, msgs: n, size: 128})
		if err != nil {
			return nil, err
		}
		due, sent, late := percentilesOf(r.fromDue), percentilesOf(r.fromSent), percentilesOf(r.late)
		return sample{"p50": us(due.p50), "p90": us(due.p90), "p99": us(due.p99), "p99.9": us(due.p999),
			"sent p50": us(sent.p50), "sent p99": us(sent.p99), "late p50": us(late.p50), "late p99": us(late.p99)}, nil
	})
	if err != nil {
		return nil, err
	}
	t := newTable(fmt.Sprintf("13-performance latency: %d messages of 128 B at %d msgs/s, sent on schedule; µs from when each was due;", n, rate),
		"core: publish to a subscriber; file, memory: PublishAsync to a stream, read by an ordered consumer;",
		"sent p50: from when it was really sent; late: how late the pacer sent it; "+b.repsNote())
	t.add("path", "p50", "p90", "p99", "p99.9", "p50 ÷ core", "p99 ÷ core", "sent p50", "late p50", "late p99", "load")
	for _, path := range names {
		t.add(path, microsCell(m.get(path, "p50")), microsCell(m.get(path, "p90")), microsCell(m.get(path, "p99")), microsCell(m.get(path, "p99.9")),
			ratioCell(ratios(m.get(path, "p50"), m.get("core", "p50"))), ratioCell(ratios(m.get(path, "p99"), m.get("core", "p99"))),
			microsCell(m.get(path, "sent p50")), microsCell(m.get(path, "late p50")), microsCell(m.get(path, "late p99")), loadCell(m.get(path, "load")))
	}
	return []table{{"latency", t.String()}}, nil
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// pacer measures how late a 200 µs sleep ends, with time.Sleep and with
// the latency role's sleepUntil.
func (b *bench) pacer(ctx context.Context) ([]table, error) {
	const sleeps, d = 500, 200 * time.Microsecond
	ways := map[string]func(){
		"time.Sleep": func() { time.Sleep(d) },
		"sleepUntil": func() { sleepUntil(time.Now().Add(d)) },
	}
	names := []string{"time.Sleep", "sleepUntil"}
	m, err := b.interleave(ctx, names, nil, func(ctx context.Context, name string) (sample, error) {
		late := make([]time.Duration, sleeps)
		for i := range late {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			start := time.Now()
			ways[name]()
			late[i] = time.Since(start) - d
		}
		q := percentilesOf(late)
		return sample{"p50": us(q.p50), "p99": us(q.p99)}, nil
	})
	if err != nil {
		return nil, err
	}
	t := newTable(fmt.Sprintf("how late a %s sleep ends, %d sleeps a repetition, µs; median over %d repetitions", d, sleeps, b.reps))
	t.add("sleep", "late p50", "late p99", "load")
	for _, name := range names {
		t.add(name, microsCell(m.get(name, "p50")), microsCell(m.get(name, "p99")), loadCell(m.get(name, "load")))
	}
	return []table{{"pacer", t.String()}}, nil
}
