package main

// The benchmarks run only when asked for; they measure an embedded server
// in the test's own process, not the server a reader runs (the bench role
// does that):
//
//	go test ./chapters/13-performance -run '^$' -bench . -count 6

import (
	"context"
	"fmt"
	"testing"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/nats.go"
)

// BenchmarkPublishAsync publishes b.N messages through windows of several
// sizes, and reports the rate in the unit of nats bench.
func BenchmarkPublishAsync(b *testing.B) {
	for _, window := range []int{1, 10, 100, 500, 4000} {
		b.Run(fmt.Sprintf("window=%d", window), func(b *testing.B) {
			nc, js := jstest.Connect(b, jstest.Server(b))
			if _, err := freshStream(context.Background(), js, basePublish.streamConfig()); err != nil {
				b.Fatal(err)
			}
			msg := &nats.Msg{Subject: basePublish.subject, Data: make([]byte, 128)}
			b.ResetTimer()
			r, err := publishAsync(context.Background(), nc, window, b.N, func(int) *nats.Msg { return msg })
			if err != nil {
				b.Fatal(err)
			}
			if r.refused > 0 {
				b.Fatalf("%d refused: %v", r.refused, r.firstErr)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

// BenchmarkPublishPayload counts what a new payload and message for each
// publish allocates, against one message reused: allocations are what a
// benchmark counts exactly, where a rate only varies.
func BenchmarkPublishPayload(b *testing.B) {
	for _, fresh := range []bool{false, true} {
		b.Run(fmt.Sprintf("fresh=%t", fresh), func(b *testing.B) {
			nc, js := jstest.Connect(b, jstest.Server(b))
			if _, err := freshStream(context.Background(), js, basePublish.streamConfig()); err != nil {
				b.Fatal(err)
			}
			cfg := basePublish
			cfg.freshPayload = fresh
			b.ReportAllocs()
			b.ResetTimer()
			r, err := publishShare(context.Background(), nc, with(cfg, "async", b.N, 500), b.N)
			if err != nil {
				b.Fatal(err)
			}
			if r.refused > 0 {
				b.Fatalf("%d refused: %v", r.refused, r.firstErr)
			}
		})
	}
}
