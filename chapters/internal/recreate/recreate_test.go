package recreate_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/recreate"
	"github.com/nats-io/nats.go/jetstream"
)

// A file stream written to, deleted and created again at once, over and
// over: the pattern that brings back old messages a third of the time with
// a plain CreateStream (chapter 13's test) starts empty every time here.
func TestStreamStartsEmptyRightAfterWritesAndADelete(t *testing.T) {
	_, js := jstest.Connect(t, jstest.Server(t))
	ctx := jstest.Context(t)
	cfg := jetstream.StreamConfig{Name: "RECREATED", Subjects: []string{"recreated"}}
	for round := range 200 {
		if err := js.DeleteStream(ctx, cfg.Name); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			t.Fatal(err)
		}
		stream, err := recreate.Stream(ctx, js, cfg)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if st := stream.CachedInfo().State; st.Msgs != 0 || st.LastSeq != 0 {
			t.Fatalf("round %d: the new stream holds %d messages, last sequence %d", round, st.Msgs, st.LastSeq)
		}
		for i := range 3 {
			if _, err := js.Publish(ctx, "recreated", fmt.Appendf(nil, "%d", i)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "reader"}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestKeyValueStartsEmptyRightAfterWritesAndADelete(t *testing.T) {
	_, js := jstest.Connect(t, jstest.Server(t))
	ctx := jstest.Context(t)
	cfg := jetstream.KeyValueConfig{Bucket: "recreated"}
	for round := range 100 {
		if err := js.DeleteKeyValue(ctx, cfg.Bucket); err != nil && !errors.Is(err, jetstream.ErrBucketNotFound) {
			t.Fatal(err)
		}
		kv, err := recreate.KeyValue(ctx, js, cfg)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		status, err := kv.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n := status.Values(); n != 0 {
			t.Fatalf("round %d: the new bucket holds %d values", round, n)
		}
		for i := range 3 {
			if _, err := kv.PutString(ctx, fmt.Sprintf("k%d", i), "v"); err != nil {
				t.Fatal(err)
			}
		}
	}
}
