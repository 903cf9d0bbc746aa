package chapters_test

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/embedded"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rogpeppe/go-internal/testscript"
)

// scriptServerName is what the scripts' server reports to the chapters.
const scriptServerName = "script-server"

// waitLimit bounds every wait-* command: conditions, never sleeps.
const waitLimit = 20 * time.Second

type serverKey struct{}

// scriptServer is the server a script talks to through $NATS_URL.
type scriptServer struct{ s *embedded.Server }

func (ss *scriptServer) stop() {
	if ss.s != nil {
		ss.s.Stop()
		ss.s = nil
	}
}

// lookPath finds a program on the script's PATH, not the test's.
func lookPath(ts *testscript.TestScript, name string) (string, error) {
	for _, dir := range filepath.SplitList(ts.Getenv("PATH")) {
		path := filepath.Join(dir, name)
		if info, err := os.Stat(path); err == nil && !info.IsDir() {
			return path, nil
		}
	}
	return "", fmt.Errorf("%s is not on the script's PATH", name)
}

// setupScript puts the chapter programs on PATH and starts a fresh JetStream
// server for the script, with NATS_URL pointing at it.
func setupScript(env *testscript.Env) error {
	env.Setenv("PATH", binDir+string(os.PathListSeparator)+env.Getenv("PATH"))
	ss := &scriptServer{}
	env.Values[serverKey{}] = ss
	env.Defer(ss.stop)
	url, err := ss.start(filepath.Join(env.WorkDir, ".script-server"), false)
	if err != nil {
		return err
	}
	env.Setenv("NATS_URL", url)
	return nil
}

func (ss *scriptServer) start(storeDir string, noJetStream bool) (string, error) {
	ss.stop()
	s, err := embedded.Start(embedded.Options{
		StoreDir:    storeDir,
		NoJetStream: noJetStream,
		ServerName:  scriptServerName,
	})
	if err != nil {
		return "", err
	}
	ss.s = s
	return s.URL(), nil
}

var scriptCommands = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	// exits CODE PROGRAM [ARGS...]: run a chapter program, as exec does, and
	// require exactly that exit status (2 for usage errors, 1 for failures).
	"exits": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) < 2 {
			ts.Fatalf("usage: exits CODE PROGRAM [ARGS...]")
		}
		want, err := strconv.Atoi(args[0])
		ts.Check(err)
		path, err := lookPath(ts, args[1])
		ts.Check(err)
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		cmd := exec.CommandContext(ctx, path, args[2:]...)
		cmd.Dir = ts.MkAbs(".")
		cmd.Env = append(os.Environ(),
			"PATH="+ts.Getenv("PATH"), "NATS_URL="+ts.Getenv("NATS_URL"),
			"HOME="+ts.Getenv("HOME"), "TMPDIR="+ts.Getenv("TMPDIR"))
		cmd.Stdout, cmd.Stderr = ts.Stdout(), ts.Stderr()
		err = cmd.Run()
		got := 0
		if exitErr, ok := err.(*exec.ExitError); ok {
			got = exitErr.ExitCode()
		} else {
			ts.Check(err)
		}
		if got != want {
			ts.Fatalf("%s exited with status %d, want %d", args[1], got, want)
		}
	},
	// start-server [-no-jetstream]: replace the script's server with a new
	// one, as after "nats-server" (no -js) or a fresh "nats-server -js".
	"start-server": func(ts *testscript.TestScript, neg bool, args []string) {
		fs := flag.NewFlagSet("start-server", flag.ContinueOnError)
		noJS := fs.Bool("no-jetstream", false, "start without JetStream")
		ts.Check(fs.Parse(args))
		ss := ts.Value(serverKey{}).(*scriptServer)
		url, err := ss.start(ts.MkAbs(".script-server-"+strconv.FormatInt(time.Now().UnixNano(), 36)), *noJS)
		ts.Check(err)
		ts.Setenv("NATS_URL", url)
	},
	// stop-server: stop the script's server; $NATS_URL now names a dead address.
	"stop-server": func(ts *testscript.TestScript, neg bool, args []string) {
		ts.Value(serverKey{}).(*scriptServer).stop()
	},
	// free-port VAR: set VAR to a TCP port that nothing listens on right now.
	"free-port": func(ts *testscript.TestScript, neg bool, args []string) {
		if len(args) != 1 {
			ts.Fatalf("usage: free-port VAR")
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		ts.Check(err)
		port := l.Addr().(*net.TCPAddr).Port
		ts.Check(l.Close())
		ts.Setenv(args[0], strconv.Itoa(port))
	},
	// wait-readers STREAM N: wait until at least N consumers of STREAM have a
	// pull request waiting, that is, a reader past its setup and listening,
	// such as background subscribers that must be ready before a publish.
	"wait-readers": func(ts *testscript.TestScript, neg bool, args []string) {
		stream, n := streamAndCount(ts, args, "wait-readers STREAM N")
		ts.Check(jstest.WaitFor(waitLimit, func() error {
			infos, err := consumerInfos(ts, stream)
			if err != nil {
				return err
			}
			listening := 0
			for _, info := range infos {
				if info.NumWaiting > 0 {
					listening++
				}
			}
			if listening < n {
				return fmt.Errorf("%s has %d consumers with a reader waiting, want %d", stream, listening, n)
			}
			return nil
		}))
	},
	// wait-acked STREAM N SEQ: wait until at least N consumers of STREAM have
	// acknowledged everything up to stream sequence SEQ.
	"wait-acked": func(ts *testscript.TestScript, neg bool, args []string) {
		if len(args) != 3 {
			ts.Fatalf("usage: wait-acked STREAM N SEQ")
		}
		stream, n := streamAndCount(ts, args[:2], "wait-acked STREAM N SEQ")
		seq, err := strconv.ParseUint(args[2], 10, 64)
		ts.Check(err)
		ts.Check(jstest.WaitFor(waitLimit, func() error {
			infos, err := consumerInfos(ts, stream)
			if err != nil {
				return err
			}
			acked := 0
			for _, info := range infos {
				if info.AckFloor.Stream >= seq {
					acked++
				}
			}
			if acked < n {
				return fmt.Errorf("%d consumers of %s acked up to %d, want %d", acked, stream, seq, n)
			}
			return nil
		}))
	},
	// wait-server URL: wait until a NATS server with JetStream answers at URL.
	"wait-server": func(ts *testscript.TestScript, neg bool, args []string) {
		if len(args) != 1 {
			ts.Fatalf("usage: wait-server URL")
		}
		ts.Check(jstest.WaitFor(waitLimit, func() error {
			nc, err := nats.Connect(args[0], nats.Timeout(time.Second))
			if err != nil {
				return err
			}
			defer nc.Close()
			js, err := jetstream.New(nc)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			_, err = js.AccountInfo(ctx)
			return err
		}))
	},
}

func streamAndCount(ts *testscript.TestScript, args []string, usage string) (string, int) {
	if len(args) != 2 {
		ts.Fatalf("usage: %s", usage)
	}
	n, err := strconv.Atoi(args[1])
	ts.Check(err)
	return args[0], n
}

// consumerInfos lists the consumers of stream on the script's $NATS_URL.
func consumerInfos(ts *testscript.TestScript, stream string) ([]*jetstream.ConsumerInfo, error) {
	nc, err := nats.Connect(ts.Getenv("NATS_URL"), nats.Timeout(time.Second))
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
	s, err := js.Stream(ctx, stream)
	if err != nil {
		return nil, err
	}
	var infos []*jetstream.ConsumerInfo
	list := s.ListConsumers(ctx)
	for info := range list.Info() {
		infos = append(infos, info)
	}
	return infos, list.Err()
}
