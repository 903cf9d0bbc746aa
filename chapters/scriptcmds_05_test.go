package chapters_test

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/rogpeppe/go-internal/testscript"
)

// Commands for chapter 05, whose core NATS replier has no consumer to wait
// for: it is ready once its subscription is on the server.
func init() {
	// wait-subscribers SUBJECT N: wait until at least N subscriptions on the
	// script's server would receive a message published to SUBJECT.
	scriptCommands["wait-subscribers"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 2 {
			ts.Fatalf("usage: wait-subscribers SUBJECT N")
		}
		n, err := strconv.Atoi(args[1])
		ts.Check(err)
		ss := ts.Value(serverKey{}).(*scriptServer)
		ts.Check(jstest.WaitFor(waitLimit, func() error {
			if ss.s == nil {
				return errors.New("the script's server is stopped")
			}
			subs, err := ss.s.Subsz(&server.SubszOptions{Subscriptions: true, Test: args[0]})
			if err != nil {
				return err
			}
			if subs.Total < n {
				return fmt.Errorf("%d subscriptions on %s, want %d", subs.Total, args[0], n)
			}
			return nil
		}))
	}
}
