package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The bench role's publish measurements. All publish 128-byte messages to
// an R1 file stream on the nats-server binary unless a step says otherwise.

// basePublish is the sliding window of 500 that the page recommends.
var basePublish = publishConfig{mode: "async", size: 128, window: 500, clients: 1, replicas: 1,
	storage: jetstream.FileStorage, stream: "PERF", subject: "perf.publish"}

func itoa(n int) string { return strconv.Itoa(n) }

func (b *bench) repsNote() string {
	return fmt.Sprintf("each ratio is taken within one repetition; median and range over %d repetitions", b.reps)
}

// reference runs this program's publish role and nats bench, each as a
// process of its own, against the same server: the chapter's yardstick.
func (b *bench) reference(ctx context.Context) ([]table, error) {
	syncN, asyncN, coreN := b.count(20_000), b.count(200_000), b.count(1_000_000)
	runs := map[string][]string{
		"nb sync":  {"js", "pub", "sync", "nbench", "--create", "--purge", "--msgs", itoa(syncN)},
		"go sync":  {"-mode", "sync", "-msgs", itoa(syncN)},
		"nb async": {"js", "pub", "async", "nbench", "--create", "--purge", "--batch", "500", "--msgs", itoa(asyncN)},
		"go async": {"-mode", "async", "-window", "500", "-msgs", itoa(asyncN)},
		"go batch": {"-mode", "batch", "-window", "500", "-msgs", itoa(asyncN)},
		"nb core":  {"pub", "perf.nbcore", "--msgs", itoa(coreN)},
		"go core":  {"-mode", "core", "-msgs", itoa(coreN)},
	}
	names := []string{"nb sync", "go sync", "nb async", "go async", "go batch", "nb core", "go core"}
	m, err := b.interleave(ctx, names, nil, func(ctx context.Context, name string) (sample, error) {
		if name[:2] == "nb" {
			return b.natsBench(ctx, runs[name]...)
		}
		out, err := runProcess(ctx, b.server.url, b.self, append([]string{"publish"}, runs[name]...)...)
		if err != nil {
			return nil, err
		}
		return parsePublishRole(out)
	})
	if err != nil {
		return nil, err
	}
	t := newTable("13-performance publish and nats bench, each a process of its own, on one nats-server;",
		"async is a sliding window of 500, batch nats bench's own loop (500, then wait for all), both against nats bench js pub async --batch 500;",
		b.repsNote())
	t.add("workload", "messages", "Go msgs/s", "nats bench msgs/s", "Go ÷ nb", "range", "load")
	for _, row := range []struct {
		name       string
		n          int
		goName, nb string
	}{{"sync", syncN, "go sync", "nb sync"}, {"async", asyncN, "go async", "nb async"}, {"batch", asyncN, "go batch", "nb async"}, {"core", coreN, "go core", "nb core"}} {
		r := ratios(m.get(row.goName, "rate"), m.get(row.nb, "rate"))
		t.add(row.name, itoa(row.n), rateCell(m.get(row.goName, "rate")), rateCell(m.get(row.nb, "rate")), ratioCell(r), rangeCell(r), loadCell(loads(m, row.goName, row.nb)))
	}
	lat := newTable("sync publish, each publish until its PubAck, closed loop (the next waits for the last), µs;", b.repsNote())
	lat.add("percentile", "Go µs", "nats bench µs", "Go ÷ nb", "range")
	for _, p := range []string{"p50", "p99"} {
		r := ratios(m.get("go sync", p), m.get("nb sync", p))
		lat.add(p, microsCell(m.get("go sync", p)), microsCell(m.get("nb sync", p)), ratioCell(r), rangeCell(r))
	}
	return []table{{"reference", t.String()}, {"reference-latency", lat.String()}}, nil
}

// natsBench runs "nats bench" with 128-byte messages and reads its stats.
func (b *bench) natsBench(ctx context.Context, args ...string) (sample, error) {
	out, err := runProcess(ctx, b.server.url, "nats", append(append([]string{"bench"}, args...), "--size", "128", "--no-progress")...)
	if err != nil {
		return nil, err
	}
	return parseNatsBench(out)
}

// batch compares nats bench's batch publishers, which orbit.go's
// jetstreamext provides, with its async publisher and with this chapter's
// window: what adding that module would buy.
func (b *bench) batch(ctx context.Context) ([]table, error) {
	n := b.count(200_000)
	runs := map[string][]string{
		"async":  {"js", "pub", "async", "nbench", "--create", "--purge", "--batch", "500", "--msgs", itoa(n)},
		"fast":   {"js", "pub", "fast", "nbench", "--create", "--purge", "--batch", "500", "--msgs", itoa(n)},
		"atomic": {"js", "pub", "atomic", "nbench", "--create", "--purge", "--batch", "500", "--msgs", itoa(n)},
	}
	names := []string{"async", "fast", "atomic", "window"}
	m, err := b.interleave(ctx, names, nil, func(ctx context.Context, name string) (sample, error) {
		if name == "window" {
			out, err := runProcess(ctx, b.server.url, b.self, "publish", "-mode", "async", "-window", "500", "-msgs", itoa(n))
			if err != nil {
				return nil, err
			}
			return parsePublishRole(out)
		}
		return b.natsBench(ctx, runs[name]...)
	})
	if err != nil {
		return nil, err
	}
	t := newTable(fmt.Sprintf("nats bench js pub async, fast and atomic, --batch 500, and 13-performance publish -mode async -window 500; %d messages each;", n),
		"fast and atomic are orbit.go's jetstreamext (fast) and its headers (atomic); "+b.repsNote())
	t.add("publisher", "msgs/s", "÷ nb async", "range", "load")
	for _, name := range names {
		r := ratios(m.get(name, "rate"), m.get("async", "rate"))
		t.add(name, rateCell(m.get(name, "rate")), ratioCell(r), rangeCell(r), loadCell(m.get(name, "load")))
	}
	return []table{{"batch", t.String()}}, nil
}

// publishSample measures cfg in this process, with clients from dial. A
// refused message makes the rate meaningless, unless the measurement is
// about refusals.
func publishSample(ctx context.Context, dial dialer, cfg publishConfig, refusalsExpected bool) (sample, error) {
	r, err := measurePublish(ctx, dial, cfg)
	if err != nil {
		return nil, err
	}
	var apiErr *jetstream.APIError
	switch {
	case r.refused > 0 && !refusalsExpected:
		return nil, fmt.Errorf("%d of %d publishes refused; the first: %w", r.refused, r.msgs, r.firstErr)
	case r.refused > 0 && (!errors.As(r.firstErr, &apiErr) || apiErr.ErrorCode != 10167):
		// The refusals the window table counts are the 429 of a full ingest queue.
		return nil, fmt.Errorf("%d of %d publishes refused, the first with %w, not a 429 (10167)", r.refused, r.msgs, r.firstErr)
	}
	s := sample{"rate": r.rate(), "refused": float64(r.refused)}
	if len(r.latencies) > 0 {
		q := percentilesOf(r.latencies)
		s["p50"], s["p99"] = float64(q.p50)/float64(time.Microsecond), float64(q.p99)/float64(time.Microsecond)
	}
	return s, nil
}

// tcp dials url over TCP, without the chapters' reconnect settings.
func tcp(url string) dialer {
	return func(name string) (*nats.Conn, error) {
		nc, err := nats.Connect(url, nats.Name("13-performance bench "+name))
		if err != nil {
			return nil, fmt.Errorf("connect to %s: %w", url, err)
		}
		return nc, nil
	}
}

// window varies PublishAsyncMaxPending, the number of messages awaiting
// their PubAck, against the default window of the page (500).
func (b *bench) window(ctx context.Context) ([]table, error) {
	windows := []struct {
		name   string
		window int
		n      int
	}{{"1", 1, b.count(10_000)}, {"10", 10, b.count(50_000)}, {"100", 100, b.count(200_000)}, {"500", 500, b.count(200_000)},
		{"4000", 4000, b.count(200_000)}, {"unbounded", 0, b.count(200_000)}, {"sync", -1, b.count(20_000)}}
	var names []string
	for _, w := range windows {
		names = append(names, w.name)
	}
	m, err := b.interleave(ctx, names, nil, func(ctx context.Context, name string) (sample, error) {
		for _, w := range windows {
			if w.name == name {
				cfg := basePublish
				cfg.window, cfg.msgs = w.window, w.n
				if w.window < 0 { // for comparison: each publish waits for its PubAck
					cfg.mode, cfg.window = "sync", 0
				}
				return publishSample(ctx, tcp(b.server.url), cfg, w.window == 0)
			}
		}
		return nil, errors.New("no such window")
	})
	if err != nil {
		return nil, err
	}
	t := newTable("13-performance publish -mode async -window W, in the bench process, on the nats-server binary;",
		"unbounded is 2^31-1 (nats.go refuses 0); sync waits for each PubAck; refused counts PubAcks that were errors;", b.repsNote())
	t.add("window", "messages", "msgs/s", "÷ window 500", "range", "refused", "most refused", "load")
	for _, w := range windows {
		r := ratios(m.get(w.name, "rate"), m.get("500", "rate"))
		refused := m.get(w.name, "refused")
		t.add(w.name, itoa(w.n), rateCell(m.get(w.name, "rate")), ratioCell(r), rangeCell(r),
			fmt.Sprintf("%.0f", refused.median()), fmt.Sprintf("%.0f", refused.max()), loadCell(m.get(w.name, "load")))
	}
	return []table{{"window", t.String()}}, nil
}

// settings measures what a naive loop does differently: a new payload and
// message per publish, a context per sync publish.
func (b *bench) settings(ctx context.Context) ([]table, error) {
	asyncN, syncN := b.count(200_000), b.count(20_000)
	variants := map[string]publishConfig{}
	add := func(name, mode string, n int, change func(*publishConfig)) {
		cfg := basePublish
		cfg.mode, cfg.msgs = mode, n
		change(&cfg)
		variants[name] = cfg
	}
	add("async", "async", asyncN, func(*publishConfig) {})
	add("async-fresh-payload", "async", asyncN, func(c *publishConfig) { c.freshPayload = true })
	add("sync", "sync", syncN, func(*publishConfig) {})
	add("sync-ctx-per-msg", "sync", syncN, func(c *publishConfig) { c.ctxPerMsg = true })
	add("sync-fresh-payload", "sync", syncN, func(c *publishConfig) { c.freshPayload = true })
	names := []string{"async", "async-fresh-payload", "sync", "sync-ctx-per-msg", "sync-fresh-payload"}
	m, err := b.interleave(ctx, names, nil, func(ctx context.Context, name string) (sample, error) {
		return publishSample(ctx, tcp(b.server.url), variants[name], false)
	})
	if err != nil {
		return nil, err
	}
	t := newTable("13-performance publish with one setting changed, in the bench process, against the same loop without it;", b.repsNote())
	t.add("variant", "msgs/s", "÷ without", "range", "load")
	for _, v := range []struct{ name, base string }{{"async-fresh-payload", "async"}, {"sync-ctx-per-msg", "sync"}, {"sync-fresh-payload", "sync"}} {
		r := ratios(m.get(v.name, "rate"), m.get(v.base, "rate"))
		t.add(v.name, rateCell(m.get(v.name, "rate")), ratioCell(r), rangeCell(r), loadCell(loads(m, v.name, v.base)))
	}
	return []table{{"settings", t.String()}}, nil
}
