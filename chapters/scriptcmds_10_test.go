package chapters_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rogpeppe/go-internal/testscript"
)

// clusterWaitLimit bounds the waits of chapter 10's commands. A crashed
// leader is replaced after 4–9 s, a split vote doubles that, and a loaded
// machine adds more: nats-server's own tests allow 30–40 s.
const clusterWaitLimit = 60 * time.Second

// A clusterNode is one node process that start-node started.
type clusterNode struct {
	name   string
	path   string
	args   []string
	cmd    *exec.Cmd
	exited chan struct{} // closed once the process is gone and its log closed
	err    error         // how it ended; read after exited is closed
}

// scriptNodes holds each script's nodes. A script's own values can only be
// set up front, by the shared Setup, so they are kept here instead.
var scriptNodes = struct {
	sync.Mutex
	byScript map[*testscript.TestScript]map[string]*clusterNode
	stopped  map[*testscript.TestScript]stopped // the last kill-leader
}{
	byScript: map[*testscript.TestScript]map[string]*clusterNode{},
	stopped:  map[*testscript.TestScript]stopped{},
}

// stopped is when kill-leader stopped a leader, and how.
type stopped struct {
	at    time.Time
	crash bool // SIGKILL or SIGQUIT, not SIGINT
}

// killSignals are the signals kill-leader sends: a crash (kill -9, or
// Ctrl+\, which ends a Go program at once), or Ctrl+C.
var killSignals = map[string]syscall.Signal{"KILL": syscall.SIGKILL, "QUIT": syscall.SIGQUIT, "INT": syscall.SIGINT}

func nodesOf(ts *testscript.TestScript) map[string]*clusterNode {
	scriptNodes.Lock()
	defer scriptNodes.Unlock()
	nodes, ok := scriptNodes.byScript[ts]
	if !ok {
		nodes = map[string]*clusterNode{}
		scriptNodes.byScript[ts] = nodes
		ts.Defer(func() {
			for _, n := range nodes {
				n.kill(ts)
			}
			scriptNodes.Lock()
			defer scriptNodes.Unlock()
			delete(scriptNodes.byScript, ts)
			delete(scriptNodes.stopped, ts)
		})
	}
	return nodes
}

// start runs the node's command in the script's directory, its output in NAME.log.
func (n *clusterNode) start(ts *testscript.TestScript) {
	log, err := os.OpenFile(ts.MkAbs(n.name+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	ts.Check(err)
	cmd := exec.Command(n.path, n.args...)
	cmd.Dir = ts.MkAbs(".")
	cmd.Env = append(os.Environ(), "PATH="+ts.Getenv("PATH"), "HOME="+ts.Getenv("HOME"), "TMPDIR="+ts.Getenv("TMPDIR"))
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		ts.Check(errors.Join(err, log.Close()))
	}
	n.cmd, n.exited = cmd, make(chan struct{})
	go func() {
		n.err = errors.Join(cmd.Wait(), log.Close())
		close(n.exited)
	}()
}

// running reports whether the node's process is still there.
func (n *clusterNode) running() bool {
	if n.cmd == nil {
		return false
	}
	select {
	case <-n.exited:
		return false
	default:
		return true
	}
}

// kill ends the node with SIGKILL, if it still runs, and waits for it.
func (n *clusterNode) kill(ts *testscript.TestScript) {
	if n.running() {
		if err := n.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			ts.Logf("kill %s: %v", n.name, err)
		}
		<-n.exited
	}
}

// streamInfo asks $NATS_URL for the stream's info. During an election
// nobody answers, so the timeout is short: it is how often a wait looks.
func streamInfo(ts *testscript.TestScript, stream string) (*jetstream.StreamInfo, error) {
	nc, err := nats.Connect(ts.Getenv("NATS_URL"), nats.Timeout(time.Second))
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	s, err := js.Stream(ctx, stream)
	if err != nil {
		return nil, err
	}
	return s.CachedInfo(), nil
}

// Commands for chapter 10, whose nodes are processes that a script starts,
// kills with SIGKILL and starts again: testscript's own kill needs to know
// which background command to kill, and only the cluster knows which node
// leads a stream.
func init() {
	// start-node NAME PROGRAM [ARGS...]: start a node of a cluster in the
	// background, its output in NAME.log. NAME must be its server name.
	scriptCommands["start-node"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) < 2 {
			ts.Fatalf("usage: start-node NAME PROGRAM [ARGS...]")
		}
		nodes := nodesOf(ts)
		if _, ok := nodes[args[0]]; ok {
			ts.Fatalf("node %s is started already; restart-node starts it again", args[0])
		}
		path, err := lookPath(ts, args[1])
		ts.Check(err)
		n := &clusterNode{name: args[0], path: path, args: args[2:]}
		n.start(ts)
		nodes[n.name] = n
	}

	// restart-node NAME: start the node again, with the same command.
	scriptCommands["restart-node"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 1 {
			ts.Fatalf("usage: restart-node NAME")
		}
		n, ok := nodesOf(ts)[args[0]]
		if !ok {
			ts.Fatalf("no node %s", args[0])
		}
		if n.running() {
			ts.Fatalf("node %s is still running", n.name)
		}
		n.start(ts)
	}

	// stop-nodes: stop every running node with SIGINT (Ctrl+C), and require
	// a clean exit.
	scriptCommands["stop-nodes"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 0 {
			ts.Fatalf("usage: stop-nodes")
		}
		var errs []error
		for _, n := range nodesOf(ts) {
			if !n.running() {
				continue
			}
			ts.Check(n.cmd.Process.Signal(os.Interrupt))
			select {
			case <-n.exited:
				if n.err != nil {
					errs = append(errs, fmt.Errorf("%s after Ctrl+C: %w (see %s.log)", n.name, n.err, n.name))
				}
			case <-time.After(clusterWaitLimit):
				errs = append(errs, fmt.Errorf("%s still runs %s after Ctrl+C", n.name, clusterWaitLimit))
			}
		}
		ts.Check(errors.Join(errs...))
	}

	// wait-cluster: wait until the cluster at $NATS_URL answers JetStream
	// requests, that is, until it has elected a meta leader.
	scriptCommands["wait-cluster"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 0 {
			ts.Fatalf("usage: wait-cluster")
		}
		start := time.Now()
		ts.Check(jstest.WaitFor(clusterWaitLimit, func() error {
			nc, err := nats.Connect(ts.Getenv("NATS_URL"), nats.Timeout(time.Second))
			if err != nil {
				return err
			}
			defer nc.Close()
			js, err := jetstream.New(nc)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			_, err = js.AccountInfo(ctx)
			return err
		}))
		ts.Logf("the cluster answered after %s", time.Since(start).Round(time.Millisecond))
	}

	// wait-msgs STREAM N: wait until STREAM holds at least N messages.
	scriptCommands["wait-msgs"] = func(ts *testscript.TestScript, neg bool, args []string) {
		stream, n := streamAndCount(ts, args, "wait-msgs STREAM N")
		if neg {
			ts.Fatalf("usage: wait-msgs STREAM N")
		}
		ts.Check(jstest.WaitFor(clusterWaitLimit, func() error {
			info, err := streamInfo(ts, stream)
			if err != nil {
				return err
			}
			if info.State.Msgs < uint64(n) {
				return fmt.Errorf("%s holds %d messages, want at least %d", stream, info.State.Msgs, n)
			}
			return nil
		}))
	}

	// kill-leader [-signal KILL|QUIT|INT] [-before N] STREAM: kill the node
	// that leads STREAM with SIGKILL, as kill -9 does, or with another signal,
	// wait until it is gone, and set $KILLED to its name. With -before, fail
	// if STREAM held N messages already: a publisher that finished before the
	// kill would prove nothing.
	scriptCommands["kill-leader"] = func(ts *testscript.TestScript, neg bool, args []string) {
		fs := flag.NewFlagSet("kill-leader", flag.ContinueOnError)
		before := fs.Uint64("before", 0, "fail if the stream holds this many messages at the kill")
		signalName := fs.String("signal", "KILL", "KILL (kill -9), QUIT (Ctrl+\\) or INT (Ctrl+C)")
		ts.Check(fs.Parse(args))
		signal, ok := killSignals[*signalName]
		if neg || fs.NArg() != 1 || !ok {
			ts.Fatalf("usage: kill-leader [-signal KILL|QUIT|INT] [-before N] STREAM")
		}
		stream := fs.Arg(0)
		var info *jetstream.StreamInfo
		ts.Check(jstest.WaitFor(clusterWaitLimit, func() error {
			var err error
			info, err = streamInfo(ts, stream)
			if err == nil && (info.Cluster == nil || info.Cluster.Leader == "") {
				err = fmt.Errorf("%s has no leader", stream)
			}
			return err
		}))
		n, ok := nodesOf(ts)[info.Cluster.Leader]
		if !ok || !n.running() {
			ts.Fatalf("%s is led by %s, which is not a running node of this script", stream, info.Cluster.Leader)
		}
		ts.Check(n.cmd.Process.Signal(signal))
		killed := time.Now()
		select {
		case <-n.exited:
		case <-time.After(clusterWaitLimit):
			ts.Fatalf("%s still runs %s after %v", n.name, clusterWaitLimit, signal)
		}
		if *before > 0 && info.State.Msgs >= *before {
			ts.Fatalf("%s held %d messages when its leader was killed, not fewer than %d", stream, info.State.Msgs, *before)
		}
		scriptNodes.Lock()
		scriptNodes.stopped[ts] = stopped{at: killed, crash: signal != syscall.SIGINT}
		scriptNodes.Unlock()
		ts.Setenv("KILLED", n.name)
		ts.Logf("%v to %s, the leader of %s, which held %d messages; it took %s to go", signal, n.name, stream, info.State.Msgs, time.Since(killed).Round(time.Millisecond))
	}

	// wait-new-leader STREAM: wait until a node other than $KILLED leads
	// STREAM. A crash leaves no leader for seconds: the followers wait out
	// an election timeout of 4 to 9 s since they last heard from the leader
	// (at most a second before), so after a crash a new leader within 2 s
	// fails the command too.
	scriptCommands["wait-new-leader"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 1 {
			ts.Fatalf("usage: wait-new-leader STREAM")
		}
		killed := ts.Getenv("KILLED")
		scriptNodes.Lock()
		stop, ok := scriptNodes.stopped[ts]
		scriptNodes.Unlock()
		if killed == "" || !ok {
			ts.Fatalf("wait-new-leader follows kill-leader")
		}
		var leader string
		ts.Check(jstest.WaitFor(clusterWaitLimit, func() error {
			info, err := streamInfo(ts, args[0])
			if err != nil {
				return err
			}
			if leader = info.Cluster.Leader; leader == "" || leader == killed {
				return fmt.Errorf("%s has no leader other than %s", args[0], killed)
			}
			return nil
		}))
		took := time.Since(stop.at)
		ts.Logf("%s leads %s, %s after %s was gone", leader, args[0], took.Round(time.Millisecond), killed)
		if stop.crash && took < 2*time.Second {
			ts.Fatalf("a new leader %s after a crash: that is no election timeout", took)
		}
		ts.Setenv("LEADER", leader)
	}

	// wait-current STREAM NODE: wait until NODE holds a replica of STREAM
	// that is current, as the stream's leader sees it: online, and no
	// operation behind. Then set $LEADER, and $FOLLOWER1 and $FOLLOWER2 in
	// name order, to say where the stream is.
	scriptCommands["wait-current"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 2 {
			ts.Fatalf("usage: wait-current STREAM NODE")
		}
		var info *jetstream.StreamInfo
		ts.Check(jstest.WaitFor(clusterWaitLimit, func() error {
			var err error
			if info, err = streamInfo(ts, args[0]); err != nil {
				return err
			}
			if info.Cluster == nil || info.Cluster.Leader == "" {
				return fmt.Errorf("%s has no leader", args[0])
			}
			if info.Cluster.Leader == args[1] {
				return nil
			}
			for _, p := range info.Cluster.Replicas {
				if p.Name == args[1] {
					if p.Offline || !p.Current || p.Lag > 0 {
						return fmt.Errorf("%s's replica on %s: offline %v, current %v, %d behind", args[0], p.Name, p.Offline, p.Current, p.Lag)
					}
					return nil
				}
			}
			return fmt.Errorf("%s has no replica on %s", args[0], args[1])
		}))
		var followers []string
		for _, p := range info.Cluster.Replicas {
			followers = append(followers, p.Name)
		}
		slices.Sort(followers)
		ts.Setenv("LEADER", info.Cluster.Leader)
		for i, name := range followers {
			ts.Setenv("FOLLOWER"+strconv.Itoa(i+1), name)
		}
		ts.Logf("%s leads %s; its replicas: %s", info.Cluster.Leader, args[0], strings.Join(followers, ", "))
	}
}
