package main

import (
	"bytes"
	"context"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/nats.go/jetstream"
)

// ctrlCAfter is a reader's output that cancels the reader once it has
// printed n messages: a Ctrl+C in the middle of a backlog.
type ctrlCAfter struct {
	n      int
	cancel context.CancelFunc
	bytes.Buffer
}

func (w *ctrlCAfter) Write(p []byte) (int, error) {
	n, err := w.Buffer.Write(p)
	if strings.Count(w.String(), "Received") >= w.n {
		w.cancel()
	}
	return n, err
}

var receivedSeq = regexp.MustCompile(`\(seq (\d+)\)`)

// seqsIn returns the stream sequences of the messages a reader printed.
func seqsIn(t *testing.T, output string) []uint64 {
	t.Helper()
	var found []uint64
	for _, m := range receivedSeq.FindAllStringSubmatch(output, -1) {
		seq, err := strconv.ParseUint(m[1], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		found = append(found, seq)
	}
	return found
}

// A durable reader stopped with Ctrl+C in the middle of a backlog resumes
// right after the last message it printed and acked, at once. Messages()
// had pulled the rest of the backlog ahead; without resume's reset they
// would come back only after AckWait (30 s).
func TestDurableReaderResumesAfterItsLastAck(t *testing.T) {
	_, js, stream := newExampleStream(t)
	ctx := jstest.Context(t)
	if err := publish(ctx, js, io.Discard, 10); err != nil {
		t.Fatal(err)
	}
	opts := readOptions{from: position{policy: jetstream.DeliverAllPolicy}, filter: "my.subject.*", durable: "reader", replay: jetstream.ReplayInstantPolicy}

	firstCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	first := &ctrlCAfter{n: 2, cancel: cancel}
	if err := readRole(firstCtx, stream, first, opts); err != nil {
		t.Fatal(err)
	}
	printed := seqsIn(t, first.String())
	last := printed[len(printed)-1]
	info, err := stream.Consumer(ctx, "reader")
	if err != nil {
		t.Fatal(err)
	}
	state, err := info.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("first run printed seq %v; the consumer then had %d delivered, acked up to %d, %d unacked", printed, state.Delivered.Stream, state.AckFloor.Stream, state.NumAckPending)
	if state.AckFloor.Stream != last || state.NumAckPending == 0 {
		t.Fatalf("after the first run: acked up to %d with %d unacked; want acked up to %d, the rest pulled ahead and unacked", state.AckFloor.Stream, state.NumAckPending, last)
	}

	secondCtx, cancel2 := context.WithTimeout(ctx, 5*time.Second) // well short of AckWait
	defer cancel2()
	var second bytes.Buffer
	opts.limit = 1
	if err := readRole(secondCtx, stream, &second, opts); err != nil {
		t.Fatalf("second run: %v\n%s", err, second.String())
	}
	want := "Consumer \"reader\" resumes on 'my.subject.*' after seq " + strconv.FormatUint(last, 10) + ", the last it acked."
	if got := seqsIn(t, second.String()); !strings.HasPrefix(second.String(), want) || len(got) != 1 || got[0] != last+1 {
		t.Fatalf("second run printed:\n%swant %q, then seq %d", second.String(), want, last+1)
	}
}
