package chapters_test

import (
	"context"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rogpeppe/go-internal/testscript"
)

// Commands for chapter 07, which replays a stream from a point in time.
func init() {
	// msg-time STREAM SEQ VAR: set VAR to the time STREAM stored message SEQ
	// at (RFC 3339 with nanoseconds), for "07-replay read -from time:$VAR":
	// a start time taken from the store, not from a clock.
	scriptCommands["msg-time"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 3 {
			ts.Fatalf("usage: msg-time STREAM SEQ VAR")
		}
		seq, err := strconv.ParseUint(args[1], 10, 64)
		ts.Check(err)
		nc, err := nats.Connect(ts.Getenv("NATS_URL"), nats.Timeout(time.Second))
		ts.Check(err)
		defer nc.Close()
		js, err := jetstream.New(nc)
		ts.Check(err)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		stream, err := js.Stream(ctx, args[0])
		ts.Check(err)
		msg, err := stream.GetMsg(ctx, seq)
		ts.Check(err)
		ts.Setenv(args[2], msg.Time.Format(time.RFC3339Nano))
	}
	// takes-at-least D PROGRAM [ARGS...]: run PROGRAM as exec does (its
	// stdout and stderr assertable afterwards), and fail unless it exits 0
	// after at least D: a reader with -replay original waits out the gaps
	// the messages were published with, and an instant one would not.
	scriptCommands["takes-at-least"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) < 2 {
			ts.Fatalf("usage: takes-at-least DURATION PROGRAM [ARGS...]")
		}
		least, err := time.ParseDuration(args[0])
		ts.Check(err)
		path, err := lookPath(ts, args[1])
		ts.Check(err)
		start := time.Now()
		ts.Check(ts.Exec(path, args[2:]...))
		if took := time.Since(start); took < least {
			ts.Fatalf("%s took %s, want at least %s", args[1], took.Round(time.Millisecond), least)
		}
	}
}
