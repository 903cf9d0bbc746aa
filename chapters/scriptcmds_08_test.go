package chapters_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rogpeppe/go-internal/testscript"
)

// Commands for chapter 08. The chapter programs in its transcripts ack with
// Ack, which does not wait for the server, and from another process: so a
// stream's count is a condition the script waits for, not one it reads once.
func init() {
	// wait-msgs STREAM N: wait until STREAM stores exactly N messages.
	scriptCommands["wait-msgs"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 2 {
			ts.Fatalf("usage: wait-msgs STREAM N")
		}
		want, err := strconv.ParseUint(args[1], 10, 64)
		ts.Check(err)
		ts.Check(jstest.WaitFor(waitLimit, func() error {
			got, err := storedMsgs(ts.Getenv("NATS_URL"), args[0])
			if err != nil {
				return err
			}
			if got != want {
				return fmt.Errorf("%s stores %d messages, want %d", args[0], got, want)
			}
			return nil
		}))
	}
	// streams NAME...: the server at $NATS_URL has exactly these streams
	// (none when no name is given).
	scriptCommands["streams"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg {
			ts.Fatalf("usage: streams NAME...")
		}
		got, err := streamNames(ts.Getenv("NATS_URL"))
		ts.Check(err)
		slices.Sort(got)
		want := slices.Sorted(slices.Values(args))
		if !slices.Equal(got, want) {
			ts.Fatalf("the server has streams %q, want %q", got, want)
		}
	}
}

// streamNames lists the streams on the server at url.
func streamNames(url string) ([]string, error) {
	nc, err := nats.Connect(url, nats.Timeout(time.Second))
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	lister := js.StreamNames(ctx)
	var names []string
	for name := range lister.Name() {
		names = append(names, name)
	}
	return names, lister.Err()
}

// storedMsgs is how many messages stream stores on the server at url.
func storedMsgs(url, stream string) (uint64, error) {
	nc, err := nats.Connect(url, nats.Timeout(time.Second))
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
