package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/recreate"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// publishConfig is one publish measurement.
type publishConfig struct {
	mode         string // sync, async, batch or core
	msgs         int    // in all, split between the clients
	size         int    // payload bytes
	window       int    // async: PublishAsyncMaxPending; batch: messages between waits; 0: no bound
	clients      int    // publishers, each on its own connection
	storage      jetstream.StorageType
	replicas     int
	freshPayload bool // a new payload and message per publish, instead of one reused
	ctxPerMsg    bool // sync: a context.WithTimeout per publish
	stream       string
	subject      string
}

// publishResult is what a publish measurement saw.
type publishResult struct {
	msgs      int
	refused   int           // publishes the stream answered with an error
	firstErr  error         // the first of them
	elapsed   time.Duration // from the first client's start to the last client's end
	latencies []time.Duration
}

// rate is messages a second, as nats bench counts them: every message sent,
// over the time from the first start to the last end.
func (r publishResult) rate() float64 { return float64(r.msgs) / r.elapsed.Seconds() }

// noBound is the window that -window 0 asks for: nats.go refuses an
// unbounded one (WithPublishAsyncMaxPending below 1 is an error).
const noBound = math.MaxInt32

// streamConfig is the stream a measurement publishes to: R1 unless said, and
// limits that nothing in a measurement reaches.
func (c publishConfig) streamConfig() jetstream.StreamConfig {
	return jetstream.StreamConfig{Name: c.stream, Subjects: []string{c.subject}, Storage: c.storage, Replicas: max(c.replicas, 1)}
}

// freshStream creates the stream, or updates it to cfg, and empties it, so
// that every run starts from the same place. It purges rather than delete
// and create again: on nats-server v2.15.2 a file stream deleted a moment
// after a write can come back, messages and all, when it is created again
// at once (TestDeleteAndCreateAtOnceCanKeepTheMessages).
func freshStream(ctx context.Context, js jetstream.JetStream, cfg jetstream.StreamConfig) (jetstream.Stream, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	stream, err := js.CreateOrUpdateStream(ctx, cfg)
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) { // the stream exists with what cannot change in place, such as its storage
		if err := js.DeleteStream(ctx, cfg.Name); err != nil {
			return nil, fmt.Errorf("delete stream %s to create it anew: %w", cfg.Name, err)
		}
		stream, err = recreate.Stream(ctx, js, cfg) // CreateStream, made safe right after a delete
	}
	if err != nil {
		return nil, fmt.Errorf("create stream %s: %w", cfg.Name, err)
	}
	if err := stream.Purge(ctx); err != nil {
		return nil, fmt.Errorf("purge stream %s: %w", cfg.Name, err)
	}
	return stream, nil
}

// publishRole is the publish role: a fresh stream, the measurement, a report
// whose last line is the rate.
func publishRole(ctx context.Context, dial dialer, cfg publishConfig, out io.Writer) error {
	r, err := measurePublish(ctx, dial, cfg)
	if err != nil {
		return err
	}
	reportPublish(out, cfg, r)
	if r.refused > 0 {
		return fmt.Errorf("%d of %d publishes refused; the first: %w", r.refused, r.msgs, r.firstErr)
	}
	return nil
}

func reportPublish(out io.Writer, cfg publishConfig, r publishResult) {
	how := cfg.mode
	switch cfg.mode {
	case "async":
		how = fmt.Sprintf("async, window %s", windowName(cfg.window))
	case "batch":
		how = fmt.Sprintf("batch of %d, then wait for all", cfg.window)
	}
	clients := "1 client"
	if cfg.clients > 1 {
		clients = fmt.Sprintf("%d clients", cfg.clients)
	}
	fmt.Fprintf(out, "publish %s: %d messages of %s, %s", how, r.msgs, formatSize(cfg.size), clients)
	if cfg.mode == "core" {
		fmt.Fprintln(out, ", nothing stored")
	} else {
		fmt.Fprintf(out, ", to %s (%s, R%d): %d acknowledged, %d refused\n", cfg.stream, cfg.storage, max(cfg.replicas, 1), r.msgs-r.refused, r.refused)
	}
	if len(r.latencies) > 0 {
		fmt.Fprintf(out, "each publish until its PubAck: %s\n", percentiles(r.latencies))
	}
	fmt.Fprintf(out, "%.0f msgs/s, %.1f MB/s\n", r.rate(), r.rate()*float64(cfg.size)/1e6)
}

func windowName(w int) string {
	if w == 0 || w == noBound {
		return "unbounded"
	}
	return fmt.Sprint(w)
}

// measurePublish creates the stream, connects the clients, and lets them
// publish their share at once.
func measurePublish(ctx context.Context, dial dialer, cfg publishConfig) (publishResult, error) {
	clients := make([]*nats.Conn, cfg.clients)
	for i := range clients {
		nc, err := dial(fmt.Sprintf("publish %d", i+1))
		if err != nil {
			return publishResult{}, err
		}
		defer nc.Close() // after the flush at each client's end: nothing is left to send
		clients[i] = nc
	}
	if cfg.mode != "core" {
		js, err := jetstream.New(clients[0])
		if err != nil {
			return publishResult{}, fmt.Errorf("create a JetStream context: %w", err)
		}
		if _, err := freshStream(ctx, js, cfg.streamConfig()); err != nil {
			return publishResult{}, err
		}
	}
	var (
		wg          sync.WaitGroup
		mu          sync.Mutex
		total       publishResult
		first, last time.Time
		errs        = make([]error, cfg.clients)
		start       = make(chan struct{})
	)
	for i, nc := range clients {
		share := cfg.msgs / cfg.clients
		if i == 0 {
			share += cfg.msgs % cfg.clients
		}
		wg.Go(func() {
			<-start
			began := time.Now()
			r, err := publishShare(ctx, nc, cfg, share)
			ended := time.Now()
			errs[i] = err
			mu.Lock()
			defer mu.Unlock()
			if first.IsZero() || began.Before(first) {
				first = began
			}
			if ended.After(last) {
				last = ended
			}
			total.msgs += r.msgs
			total.refused += r.refused
			if total.firstErr == nil {
				total.firstErr = r.firstErr
			}
			total.latencies = append(total.latencies, r.latencies...)
		})
	}
	close(start)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return publishResult{}, err
	}
	total.elapsed = last.Sub(first)
	return total, nil
}

// publishShare is one client's loop. Its time starts after its setup, as
// in nats bench: connecting and creating the stream are not counted.
func publishShare(ctx context.Context, nc *nats.Conn, cfg publishConfig, n int) (publishResult, error) {
	payload := make([]byte, cfg.size)
	msg := &nats.Msg{Subject: cfg.subject, Data: payload} // one message, reused: nats.go copies it out
	next := func(i int) *nats.Msg {
		if !cfg.freshPayload {
			return msg
		}
		data := make([]byte, cfg.size) // what a naive loop does: a new payload and message each time
		copy(data, fmt.Sprintf("message %d", i))
		return &nats.Msg{Subject: cfg.subject, Data: data}
	}
	switch cfg.mode {
	case "core":
		return publishCore(nc, n, next)
	case "sync":
		return publishSync(ctx, nc, cfg, n, next)
	case "batch":
		return publishBatch(ctx, nc, cfg.window, n, next)
	default:
		return publishAsync(ctx, nc, cfg.window, n, next)
	}
}

// docs:start core
// publishCore publishes with no acknowledgement: each call only appends
// to the connection's buffer, and Flush waits until the server has it all.
func publishCore(nc *nats.Conn, n int, next func(int) *nats.Msg) (publishResult, error) {
	for i := range n {
		if err := nc.PublishMsg(next(i)); err != nil {
			return publishResult{}, fmt.Errorf("core publish %d: %w", i+1, err)
		}
	}
	if err := nc.Flush(); err != nil {
		return publishResult{}, fmt.Errorf("flush: %w", err)
	}
	return publishResult{msgs: n}, nil
}

// docs:end core

// docs:start sync
// publishSync waits for each PubAck before the next publish, and times
// each one, as nats bench does.
func publishSync(ctx context.Context, nc *nats.Conn, cfg publishConfig, n int, next func(int) *nats.Msg) (publishResult, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return publishResult{}, fmt.Errorf("create a JetStream context: %w", err)
	}
	r := publishResult{msgs: n, latencies: make([]time.Duration, 0, n)}
	for i := range n {
		if err := ctx.Err(); err != nil { // Ctrl+C
			return r, err
		}
		// As nats bench does: a context without a deadline, to which nats.go
		// adds its own 5 s. -ctx-per-msg is what a naive loop does instead.
		pubCtx, cancel := context.Background(), context.CancelFunc(func() {})
		if cfg.ctxPerMsg {
			pubCtx, cancel = context.WithTimeout(ctx, 5*time.Second)
		}
		began := time.Now()
		_, err := js.PublishMsg(pubCtx, next(i))
		r.latencies = append(r.latencies, time.Since(began))
		cancel()
		if err != nil {
			return r, fmt.Errorf("publish %d: %w", i+1, err)
		}
	}
	return r, nil
}

// docs:end sync

// docs:start async
// publishAsync keeps up to window messages awaiting their PubAck: once the
// window is full, PublishMsgAsync waits for a free place, 200 ms unless
// WithStallWait says more, then returns ErrTooManyStalledMsgs without
// sending. A refusal by the stream comes later, to the handler.
func publishAsync(ctx context.Context, nc *nats.Conn, window, n int, next func(int) *nats.Msg) (publishResult, error) {
	if window == 0 {
		window = noBound
	}
	var refused atomic.Int64
	var firstErr atomic.Pointer[error]
	js, err := jetstream.New(nc,
		jetstream.WithPublishAsyncMaxPending(window),
		jetstream.WithPublishAsyncErrHandler(func(_ jetstream.JetStream, _ *nats.Msg, err error) {
			refused.Add(1)
			firstErr.CompareAndSwap(nil, &err)
		}))
	if err != nil {
		return publishResult{}, fmt.Errorf("create a JetStream context: %w", err)
	}
	wait := jetstream.WithStallWait(10 * time.Second) // a loaded server can hold a full window for 200 ms
	for i := range n {
		if _, err := js.PublishMsgAsync(next(i), wait); err != nil {
			return publishResult{}, fmt.Errorf("publish %d: %w", i+1, err)
		}
	}
	if err := waitForAcks(ctx, js); err != nil {
		return publishResult{}, err
	}
	r := publishResult{msgs: n, refused: int(refused.Load())}
	if e := firstErr.Load(); e != nil {
		r.firstErr = *e
	}
	return r, nil
}

// docs:end async

// docs:start batch
// publishBatch is nats bench's async loop: publish a batch, wait until
// every message of it is acknowledged, check each, then the next batch.
// The window empties at every batch, which a sliding window never does.
func publishBatch(ctx context.Context, nc *nats.Conn, batch, n int, next func(int) *nats.Msg) (publishResult, error) {
	if batch == 0 {
		batch = n
	}
	js, err := jetstream.New(nc) // the default window, 4000, as nats bench leaves it
	if err != nil {
		return publishResult{}, fmt.Errorf("create a JetStream context: %w", err)
	}
	r := publishResult{msgs: n}
	futures := make([]jetstream.PubAckFuture, 0, batch)
	for sent := 0; sent < n; {
		futures = futures[:0]
		for ; len(futures) < batch && sent < n; sent++ {
			f, err := js.PublishMsgAsync(next(sent))
			if err != nil {
				return publishResult{}, fmt.Errorf("publish %d: %w", sent+1, err)
			}
			futures = append(futures, f)
		}
		if err := waitForAcks(ctx, js); err != nil {
			return publishResult{}, err
		}
		for _, f := range futures {
			select {
			case <-f.Ok():
			case err := <-f.Err():
				r.refused++
				if r.firstErr == nil {
					r.firstErr = err
				}
			}
		}
	}
	return r, nil
}

// docs:end batch

// waitForAcks waits until no publish awaits its PubAck.
func waitForAcks(ctx context.Context, js jetstream.JetStream) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	select {
	case <-js.PublishAsyncComplete():
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%d PubAcks still missing: %w", js.PublishAsyncPending(), context.Cause(ctx))
	}
}
