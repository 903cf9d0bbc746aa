package main

import (
	"context"
	"fmt"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/embedded"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The bench role's "what changes the numbers": each compares the sliding
// window of 500 and the sync publish with one thing changed.

// variant is one publish measurement of a comparison.
type variant struct {
	name string
	dial dialer
	cfg  publishConfig
}

// compare interleaves the variants and writes one row per variant: its
// rate and its ratio to the variant named base of the same mode.
func (b *bench) compare(ctx context.Context, name string, comments []string, variants []variant, basePrefix string) ([]table, error) {
	base := func(v variant) string { return basePrefix + " " + v.cfg.mode }
	byName := map[string]variant{}
	var names []string
	for _, v := range variants {
		byName[v.name] = v
		names = append(names, v.name)
	}
	m, err := b.interleave(ctx, names, nil, func(ctx context.Context, name string) (sample, error) {
		v := byName[name]
		return publishSample(ctx, v.dial, v.cfg, false)
	})
	if err != nil {
		return nil, err
	}
	t := newTable(append(comments, fmt.Sprintf("÷ %s: each row's rate over that of %s with the same mode (async or sync);", basePrefix, basePrefix), b.repsNote())...)
	t.add("variant", "messages", "msgs/s", "MB/s", "÷ "+basePrefix, "range", "load")
	for _, v := range variants {
		rate := m.get(v.name, "rate")
		r := ratios(rate, m.get(base(v), "rate"))
		t.add(v.name, itoa(v.cfg.msgs), rateCell(rate), fmt.Sprintf("%.1f", rate.median()*float64(v.cfg.size)/1e6), ratioCell(r), rangeCell(r), loadCell(loads(m, v.name, base(v))))
	}
	return []table{{name, t.String()}}, nil
}

func (b *bench) size(ctx context.Context) ([]table, error) {
	var variants []variant
	for _, mode := range []string{"async", "sync"} {
		for _, size := range []int{16, 128, 1024, 4096, 16384, 65536} {
			cfg := basePublish
			cfg.mode, cfg.size = mode, size
			cfg.msgs = b.count(min(200_000, 256<<20/size)) // no more than 256 MiB a run
			if mode == "sync" {
				cfg.msgs = b.count(min(20_000, 64<<20/size))
			}
			variants = append(variants, variant{formatSize(size) + " " + mode, tcp(b.server.url), cfg})
		}
	}
	return b.compare(ctx, "size", []string{"payload size from 16 B to 64 KiB, async window 500 and sync;"}, variants, "128B")
}

func (b *bench) publishers(ctx context.Context) ([]table, error) {
	var variants []variant
	for _, mode := range []string{"async", "sync"} {
		for _, clients := range []int{1, 2, 4} {
			cfg := basePublish
			cfg.mode, cfg.clients, cfg.msgs = mode, clients, b.count(200_000)
			if mode == "sync" {
				cfg.msgs = b.count(20_000)
			}
			variants = append(variants, variant{fmt.Sprintf("%d %s", clients, mode), tcp(b.server.url), cfg})
		}
	}
	return b.compare(ctx, "publishers", []string{"1, 2 and 4 publishers, each on its own connection, sharing the messages; the rate counts them all;"}, variants, "1")
}

func (b *bench) storage(ctx context.Context) ([]table, error) {
	always, err := startRealServer(b.dir, "sync-always", true)
	if err != nil {
		return nil, err
	}
	defer always.stop()
	var variants []variant
	for _, mode := range []string{"async", "sync"} {
		cfg := basePublish
		cfg.mode, cfg.msgs = mode, b.count(200_000)
		if mode == "sync" {
			cfg.msgs = b.count(20_000)
		}
		memory := cfg
		memory.storage, memory.stream, memory.subject = jetstream.MemoryStorage, "PERF_MEMORY", "perf.memory"
		slow := cfg // every message is written to disk before its PubAck: far fewer, or it runs for minutes
		slow.msgs = max(cfg.msgs/10, 200)
		variants = append(variants,
			variant{"file " + mode, tcp(b.server.url), cfg},
			variant{"memory " + mode, tcp(b.server.url), memory},
			variant{"always " + mode, tcp(always.url), slow})
	}
	return b.compare(ctx, "storage", []string{"file storage, memory storage, and file storage on a second nats-server with jetstream { sync_interval: always };"}, variants, "file")
}

// replicas compares an R3 stream with an R1 stream on a three-node cluster
// in this process. The client connects to each stream's leader.
func (b *bench) replicas(ctx context.Context) ([]table, error) {
	c, err := startCluster()
	if err != nil {
		return nil, err
	}
	defer func() {
		if err := c.stop(); err != nil {
			fmt.Fprintf(b.log, "bench: %v\n", err)
		}
	}()
	nc, err := nats.Connect(c.url())
	if err != nil {
		return nil, fmt.Errorf("connect to the cluster: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	var variants []variant
	for _, replicas := range []int{1, 3} {
		cfg := basePublish
		cfg.replicas = replicas
		cfg.stream, cfg.subject = fmt.Sprintf("PERF_R%d", replicas), fmt.Sprintf("perf.r%d", replicas)
		if _, err := freshStream(ctx, js, cfg.streamConfig()); err != nil {
			return nil, err
		}
		leader, err := c.leaderURL(ctx, cfg.stream)
		if err != nil {
			return nil, err
		}
		for _, mode := range []string{"async", "sync"} {
			v := cfg
			v.mode, v.msgs = mode, b.count(200_000)
			if mode == "sync" {
				v.msgs = b.count(20_000)
			}
			variants = append(variants, variant{fmt.Sprintf("R%d %s", replicas, mode), tcp(leader), v})
		}
	}
	return b.compare(ctx, "replicas", []string{"R1 and R3 file streams on a 3-node cluster in the bench process (one machine, loopback routes); the client on each stream's leader;"}, variants, "R1")
}

// inprocess compares the nats-server binary with a server embedded in the
// bench process, reached over TCP or in memory (nats.InProcessServer).
func (b *bench) inprocess(ctx context.Context) ([]table, error) {
	s, err := embedded.Start(embedded.Options{})
	if err != nil {
		return nil, err
	}
	defer s.Stop()
	inProcess := func(name string) (*nats.Conn, error) {
		nc, err := nats.Connect("", nats.InProcessServer(s), nats.Name("13-performance bench "+name))
		if err != nil {
			return nil, fmt.Errorf("connect in process: %w", err)
		}
		return nc, nil
	}
	var variants []variant
	for _, mode := range []string{"async", "sync"} {
		cfg := basePublish
		cfg.mode, cfg.msgs = mode, b.count(200_000)
		if mode == "sync" {
			cfg.msgs = b.count(20_000)
		}
		variants = append(variants,
			variant{"binary " + mode, tcp(b.server.url), cfg},
			variant{"embedded-tcp " + mode, tcp(s.URL()), cfg},
			variant{"embedded-inprocess " + mode, inProcess, cfg})
	}
	return b.compare(ctx, "inprocess", []string{"the nats-server binary over loopback TCP, a server embedded in the bench process over TCP, and the same in memory (nats.InProcessServer);"}, variants, "binary")
}
