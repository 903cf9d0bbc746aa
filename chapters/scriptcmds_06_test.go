package chapters_test

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rogpeppe/go-internal/testscript"
)

// Commands for chapter 06, where several workers share one consumer and
// which worker takes which task is up to the server.
func init() {
	// wait-consumer STREAM CONSUMER COND...: wait until every condition holds
	// for the consumer. A condition is FIELD=N with FIELD one of waiting (pull
	// requests waiting: idle workers), ack-pending (tasks handed out, not yet
	// acked), pending (tasks not handed out yet), acked (ack floor, a stream
	// sequence), redelivered (tasks handed out more than once, not yet acked).
	scriptCommands["wait-consumer"] = func(ts *testscript.TestScript, neg bool, args []string) {
		stream, name, conds := consumerConditions(ts, neg, args, "wait-consumer")
		ts.Check(jstest.WaitFor(waitLimit, func() error { return checkConsumer(ts, stream, name, conds) }))
	}
	// check-consumer STREAM CONSUMER COND...: the same conditions, which must
	// hold now, without waiting: for what a program must have done before it
	// exited (flushed its acks, say).
	scriptCommands["check-consumer"] = func(ts *testscript.TestScript, neg bool, args []string) {
		stream, name, conds := consumerConditions(ts, neg, args, "check-consumer")
		ts.Check(checkConsumer(ts, stream, name, conds))
	}
	// consumers STREAM NAME...: the stream's consumers are exactly these.
	scriptCommands["consumers"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) < 1 {
			ts.Fatalf("usage: consumers STREAM NAME...")
		}
		infos, err := consumerInfos(ts, args[0])
		ts.Check(err)
		var names []string
		for _, info := range infos {
			names = append(names, info.Name)
		}
		slices.Sort(names)
		want := slices.Sorted(slices.Values(args[1:]))
		if !slices.Equal(names, want) {
			ts.Fatalf("%s has consumers %q, want %q", args[0], names, want)
		}
	}
	// each-task-once N FILE...: across the files (stdout allowed), the task
	// lines "[NAME] Received a message on 'S': Message K (seq Q...)" name
	// Message 1 to Message N once each and no other, and come from at least
	// two workers: the tasks were shared, none was done twice.
	scriptCommands["each-task-once"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) < 2 {
			ts.Fatalf("usage: each-task-once N FILE...")
		}
		n, err := strconv.Atoi(args[0])
		ts.Check(err)
		seen, workers := map[string]int{}, map[string]bool{}
		for _, file := range args[1:] {
			for _, m := range taskLine.FindAllStringSubmatch(ts.ReadFile(file), -1) {
				workers[m[1]] = true
				seen[m[2]]++
			}
		}
		for k := 1; k <= n; k++ {
			if got := seen[strconv.Itoa(k)]; got != 1 {
				ts.Fatalf("Message %d was done %d times, want once", k, got)
			}
		}
		if len(seen) != n {
			ts.Fatalf("%d different tasks were done, want %d", len(seen), n)
		}
		if len(workers) < 2 {
			ts.Fatalf("the tasks were done by %d workers, want them shared by at least 2", len(workers))
		}
	}
	// cmp-workers FILE WANT: like cmp, after replacing every worker name in
	// brackets ("[worker-2]") with "[worker-?]" in both. Which worker takes
	// which task varies from run to run; everything else must match,
	// including the order of the lines.
	scriptCommands["cmp-workers"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 2 {
			ts.Fatalf("usage: cmp-workers FILE WANT")
		}
		got, want := maskWorkers(ts.ReadFile(args[0])), maskWorkers(ts.ReadFile(args[1]))
		if got != want {
			ts.Logf("got (masked):\n%s\nwant (masked):\n%s", got, want)
			ts.Fatalf("%s and %s differ beyond worker names", args[0], args[1])
		}
	}
}

var (
	taskLine   = regexp.MustCompile(`(?m)^\[([^\]]+)\] Received a message on '[^']*': Message (\d+) \(seq \d+[^)]*\)$`)
	workerName = regexp.MustCompile(`\[worker-[^\]]+\]`)
)

func maskWorkers(s string) string { return workerName.ReplaceAllString(s, "[worker-?]") }

type consumerCondition struct {
	field string
	want  uint64
}

func consumerConditions(ts *testscript.TestScript, neg bool, args []string, cmd string) (string, string, []consumerCondition) {
	if neg || len(args) < 3 {
		ts.Fatalf("usage: %s STREAM CONSUMER FIELD=N...", cmd)
	}
	var conds []consumerCondition
	for _, arg := range args[2:] {
		field, value, ok := strings.Cut(arg, "=")
		want, err := strconv.ParseUint(value, 10, 64)
		if !ok || err != nil {
			ts.Fatalf("%s: condition %q is not FIELD=N", cmd, arg)
		}
		if _, err := consumerField(&jetstream.ConsumerInfo{}, field); err != nil {
			ts.Fatalf("%s: %v", cmd, err)
		}
		conds = append(conds, consumerCondition{field, want})
	}
	return args[0], args[1], conds
}

func consumerField(info *jetstream.ConsumerInfo, field string) (uint64, error) {
	switch field {
	case "waiting":
		return uint64(info.NumWaiting), nil
	case "ack-pending":
		return uint64(info.NumAckPending), nil
	case "pending":
		return info.NumPending, nil
	case "acked":
		return info.AckFloor.Stream, nil
	case "redelivered":
		return uint64(info.NumRedelivered), nil
	}
	return 0, fmt.Errorf("unknown field %q (waiting, ack-pending, pending, acked, redelivered)", field)
}

func checkConsumer(ts *testscript.TestScript, stream, name string, conds []consumerCondition) error {
	infos, err := consumerInfos(ts, stream)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(infos, func(info *jetstream.ConsumerInfo) bool { return info.Name == name })
	if i < 0 {
		return fmt.Errorf("%s has no consumer %q", stream, name)
	}
	for _, c := range conds {
		got, err := consumerField(infos[i], c.field)
		if err != nil {
			return err
		}
		if got != c.want {
			return fmt.Errorf("consumer %s: %s=%d, want %d", name, c.field, got, c.want)
		}
	}
	return nil
}
