package chapters_test

import (
	"context"
	"fmt"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rogpeppe/go-internal/testscript"
)

// Commands for chapter 09, whose publisher runs in the background while its
// server is killed and started again.
func init() {
	// wait-more-msgs STREAM N: wait until STREAM on $NATS_URL holds at least
	// N messages more than when the command started: a background publisher
	// is publishing.
	scriptCommands["wait-more-msgs"] = func(ts *testscript.TestScript, neg bool, args []string) {
		stream, n := streamAndCount(ts, args, "wait-more-msgs STREAM N")
		if neg {
			ts.Fatalf("usage: wait-more-msgs STREAM N")
		}
		var start uint64
		ts.Check(jstest.WaitFor(waitLimit, func() error {
			var err error
			start, err = streamMsgs(ts, stream)
			return err
		}))
		ts.Check(jstest.WaitFor(waitLimit, func() error {
			msgs, err := streamMsgs(ts, stream)
			if err != nil {
				return err
			}
			if msgs < start+uint64(n) {
				return fmt.Errorf("%s holds %d messages, want at least %d", stream, msgs, start+uint64(n))
			}
			return nil
		}))
	}
}

// streamMsgs returns how many messages stream on the script's $NATS_URL holds.
func streamMsgs(ts *testscript.TestScript, stream string) (uint64, error) {
	nc, err := nats.Connect(ts.Getenv("NATS_URL"), nats.Timeout(time.Second))
	if err != nil {
		return 0, err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, stream)
	if err != nil {
		return 0, err
	}
	return s.CachedInfo().State.Msgs, nil
}
