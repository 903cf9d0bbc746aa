package main

import (
	"fmt"
	"testing"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/nats.go/jetstream"
)

// Every way of consuming reads exactly the messages asked for, and every
// way but the ordered consumer acks each: the consumer's ack floor reaches
// the last one, and nothing waits for an ack.
func TestEveryWayOfConsumingReadsAndAcksEachMessage(t *testing.T) {
	const stored = 2000
	for _, cfg := range []consumeConfig{
		{mode: "consume", batch: 500, msgs: stored}, {mode: "messages", batch: 500, msgs: stored},
		{mode: "fetch", batch: 500, msgs: stored}, {mode: "fetch", batch: 7, msgs: 100},
		{mode: "next", batch: 1, msgs: 100}, {mode: "ordered", batch: 500, msgs: stored},
	} {
		t.Run(consumeName(cfg), func(t *testing.T) {
			nc, js := jstest.Connect(t, jstest.Server(t)) // a server each: the consumer is the only one
			ctx := jstest.Context(t)
			stream, err := fillStream(ctx, nc, stored, 16)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := measureConsume(ctx, stream, cfg, cfg.msgs); err != nil {
				t.Fatal(err)
			}
			if cfg.mode == "ordered" {
				return
			}
			jstest.Eventually(t, func() error {
				info, err := onlyConsumer(t, js)
				if err != nil {
					return err
				}
				if info.Delivered.Stream != uint64(cfg.msgs) || info.AckFloor.Stream != uint64(cfg.msgs) || info.NumAckPending != 0 {
					return fmt.Errorf("delivered up to %d, acked up to %d, %d awaiting an ack; want %d, %d, 0",
						info.Delivered.Stream, info.AckFloor.Stream, info.NumAckPending, cfg.msgs, cfg.msgs)
				}
				return nil
			})
		})
	}
}

func onlyConsumer(t *testing.T, js jetstream.JetStream) (*jetstream.ConsumerInfo, error) {
	t.Helper()
	stream, err := js.Stream(jstest.Context(t), consumeStream)
	if err != nil {
		return nil, err
	}
	var infos []*jetstream.ConsumerInfo
	list := stream.ListConsumers(jstest.Context(t))
	for info := range list.Info() {
		infos = append(infos, info)
	}
	if err := list.Err(); err != nil {
		return nil, err
	}
	if len(infos) != 1 {
		return nil, fmt.Errorf("%d consumers, want 1", len(infos))
	}
	return infos[0], nil
}
