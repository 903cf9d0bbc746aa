package main

// Some claims of this chapter are about a server process: what it writes
// before a kill -9, and when it calls fsync. Those tests run an embedded
// server and a publisher in a child process, the test binary itself started
// again with childEnv set, which a test can kill with SIGKILL or trace with
// strace.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// childEnv holds a child's configuration, as JSON. TestMain runs the child
// instead of the tests when it is set.
const childEnv = "DURABILITY_CHILD"

// child is what one child process does: start a server on Store, create
// file_stream, publish Count messages one at a time, each waiting for its
// PubAck, and print "acked SEQ" for each. Then it kills itself with SIGKILL
// (Kill), or waits Linger and shuts down cleanly.
type child struct {
	Store        string
	Conf         string        // a nats-server config file to start from, such as testdata/sync-always.conf
	SyncAlways   bool          // server.Options.SyncAlways
	SyncInterval time.Duration // server.Options.SyncInterval; 0: the default
	Persist      jetstream.PersistModeType
	Count        int
	Every        time.Duration // pause between publishes
	Linger       time.Duration // keep the server running this long after the last PubAck
	Kill         bool
}

// markerDir is where a child "looks" for files that do not exist, so that
// strace records when it got each PubAck (see mark).
const markerDir = "/nonexistent/09-durability-marker/"

// mark makes a system call that strace records with name in it. A traced
// child marks the moments between which the test counts fsync calls.
func mark(name string) error {
	if err := syscall.Access(markerDir+name, syscall.F_OK); !errors.Is(err, syscall.ENOENT) {
		return fmt.Errorf("mark %s: %v, want ENOENT", name, err)
	}
	return nil
}

// runChild is the child process. It returns the error to exit 1 with.
func runChild(c child) error {
	opts := &server.Options{}
	if c.Conf != "" {
		var err error
		if opts, err = server.ProcessConfigFile(c.Conf); err != nil {
			return err
		}
	}
	opts.Host, opts.Port, opts.NoSigs, opts.JetStream, opts.StoreDir = "127.0.0.1", server.RANDOM_PORT, true, true, c.Store
	opts.SyncAlways = opts.SyncAlways || c.SyncAlways
	if c.SyncInterval > 0 {
		opts.SyncInterval = c.SyncInterval
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return err
	}
	s.Start()
	defer s.Shutdown()
	if !s.ReadyForConnections(10 * time.Second) {
		return errors.New("server not ready")
	}
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute+c.Linger+time.Duration(c.Count)*c.Every)
	defer cancel()
	if err := mark("creating"); err != nil {
		return err
	}
	cfg := fileConfig
	cfg.PersistMode = c.Persist
	if _, err := js.CreateStream(ctx, cfg); err != nil {
		return err
	}
	if err := mark("created"); err != nil {
		return err
	}
	for n := 1; n <= c.Count; n++ {
		ack, err := js.Publish(ctx, messagesSubject, []byte(message(n)))
		if err != nil {
			return err
		}
		if err := mark("pubacked-" + strconv.Itoa(n)); err != nil {
			return err
		}
		fmt.Printf("acked %d\n", ack.Sequence) // unbuffered: in the pipe before any SIGKILL
		time.Sleep(c.Every)                    // pacing for the sync-timer test: the sleep is what it is about
	}
	if c.Kill {
		return syscall.Kill(os.Getpid(), syscall.SIGKILL) // no return: the process dies here
	}
	time.Sleep(c.Linger)    // the sync-timer test watches what the server does meanwhile
	return mark("stopping") // a clean shutdown syncs too: tests count only before it
}

// startChild returns the command that runs c in a child process, under
// prefix (such as strace and its flags) if given.
func startChild(t *testing.T, c child, prefix ...string) *exec.Cmd {
	t.Helper()
	config, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	args := append(prefix, os.Args[0], "-test.run=^$")
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), childEnv+"="+string(config))
	cmd.Stderr = os.Stderr
	return cmd
}

// ackedSeqs reads the "acked SEQ" lines a child printed.
func ackedSeqs(t *testing.T, output []byte) []uint64 {
	t.Helper()
	var seqs []uint64
	lines := bufio.NewScanner(strings.NewReader(string(output)))
	for lines.Scan() {
		seq, err := strconv.ParseUint(strings.TrimPrefix(lines.Text(), "acked "), 10, 64)
		if err != nil {
			t.Fatalf("child printed %q: %v", lines.Text(), err)
		}
		seqs = append(seqs, seq)
	}
	return seqs
}

// requireStrace skips the test when strace is not installed, unless
// STRACE_TEST=1 makes its absence a failure.
func requireStrace(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("strace")
	if err != nil {
		if os.Getenv("STRACE_TEST") == "1" {
			t.Fatal("strace is not on PATH, and STRACE_TEST=1 requires it")
		}
		t.Skip("strace is not on PATH (apt-get install strace): it counts the fsync calls")
	}
	return path
}

// event is one line of a strace log: a marker, or an fsync of a file.
type event struct {
	at     time.Time
	marker string // "created", "pubacked-3"...
	fsync  string // the path of the file synced
}

var (
	fsyncLine  = regexp.MustCompile(`^\d+ +(\d+\.\d+) (?:fsync|fdatasync)\(\d+<([^>]*)>`)
	markerLine = regexp.MustCompile(`^\d+ +(\d+\.\d+) faccessat2?\(AT_FDCWD(?:<[^>]*>)?, "` + regexp.QuoteMeta(markerDir) + `([^"]+)"`)
)

// traceChild runs c under strace and returns the fsync calls and markers
// it recorded, in order.
func traceChild(t *testing.T, c child) []event {
	t.Helper()
	strace := requireStrace(t)
	log := filepath.Join(t.TempDir(), "strace.log")
	// -f: every thread; -y: the path of each file descriptor; -ttt: times.
	cmd := startChild(t, c, strace, "-f", "-qq", "-y", "-ttt", "--seccomp-bpf", "-o", log,
		"-e", "trace=fsync,fdatasync,faccessat,faccessat2")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if out, err := cmd.Output(); err != nil {
		if strings.Contains(stderr.String(), "Operation not permitted") && os.Getenv("STRACE_TEST") != "1" {
			t.Skipf("strace may not trace here (a container without ptrace?): %s", stderr.String())
		}
		t.Fatalf("child under strace: %v\n%s%s", err, out, stderr.String())
	}
	data, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	var events []event
	for line := range strings.Lines(string(data)) {
		var e event
		var at string
		if m := fsyncLine.FindStringSubmatch(line); m != nil {
			at, e.fsync = m[1], m[2]
		} else if m := markerLine.FindStringSubmatch(line); m != nil {
			at, e.marker = m[1], m[2]
		} else {
			continue
		}
		sec, err := strconv.ParseFloat(at, 64)
		if err != nil {
			t.Fatalf("strace time %q: %v", at, err)
		}
		e.at = time.UnixMicro(int64(sec * 1e6))
		events = append(events, e)
	}
	return events
}

// isBlock says whether path is one of the file store's message blocks,
// where it writes the messages themselves (msgs/1.blk, ...).
func isBlock(path string) bool {
	return filepath.Base(filepath.Dir(path)) == "msgs" && strings.HasSuffix(path, ".blk")
}
