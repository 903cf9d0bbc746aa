package chapters_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/nats.go"
	"github.com/rogpeppe/go-internal/testscript"
)

// The transcripts under ../testdata/real-server run the chapters against a
// real nats-server binary, and read the results back with natscli, the way
// a reader checks them. CI installs both:
//
//	go install github.com/nats-io/nats-server/v2@v2.15.2
//	go install github.com/nats-io/natscli/nats@v0.5.0
//
// Without them on PATH the test is skipped, unless REAL_SERVER_TEST=1 (as in
// .ci/run) makes their absence a failure.
func TestRealServerTranscripts(t *testing.T) {
	requireRealServer(t)
	t.Parallel() // alongside TestTranscripts: a crash transcript waits seconds for an election

	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("..", "testdata", "real-server"),
		Setup:               setupRealServer,
		Cmds:                scriptCommands,
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		UpdateScripts:       *update || os.Getenv("UPDATE_TRANSCRIPTS") != "",
	})
}

// requireRealServer skips the test unless nats-server and natscli are on
// PATH; with REAL_SERVER_TEST=1 their absence fails it instead.
func requireRealServer(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"nats-server", "nats"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("REAL_SERVER_TEST") == "1" {
				t.Fatalf("%s is not on PATH, and REAL_SERVER_TEST=1 requires it", tool)
			}
			t.Skipf("%s is not on PATH (install it as .ci/run does to run these transcripts)", tool)
		}
	}
}

// setupRealServer starts "nats-server -js" on a free port with its own store
// directory, as the seed's section 1 does (plus -sd, see chapter 01).
func setupRealServer(env *testscript.Env) error {
	env.Setenv("PATH", binDir+string(os.PathListSeparator)+env.Getenv("PATH"))
	env.Setenv("HOME", env.WorkDir) // natscli keeps its contexts under HOME
	url, stop, err := realServer(env.WorkDir)
	if err != nil {
		return err
	}
	env.Defer(func() {
		if err := stop(); err != nil {
			env.T().Log(err)
		}
	})
	env.Setenv("NATS_URL", url)
	return nil
}

// startRealServer starts a fresh "nats-server -js" for the test and returns
// its URL; the server stops when the test ends.
func startRealServer(t *testing.T) string {
	t.Helper()
	url, stop, err := realServer(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Log(err)
		}
	})
	return url
}

// realServer starts "nats-server -js" on a free port of 127.0.0.1, with its
// store and log in dir, and waits until it answers.
func realServer(dir string) (url string, stop func() error, err error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		return "", nil, err
	}
	server := exec.Command("nats-server", "-js", "-sd", filepath.Join(dir, ".nats-server-store"),
		"-a", "127.0.0.1", "-p", strconv.Itoa(port))
	log, err := os.Create(filepath.Join(dir, ".nats-server.log"))
	if err != nil {
		return "", nil, err
	}
	server.Stdout, server.Stderr = log, log
	if err := server.Start(); err != nil {
		return "", nil, errors.Join(fmt.Errorf("start nats-server: %w", err), log.Close())
	}
	stop = func() error {
		var waitErr error
		if err := server.Process.Signal(os.Interrupt); err == nil {
			if err := server.Wait(); err != nil {
				waitErr = fmt.Errorf("nats-server: %w", err)
			}
		}
		return errors.Join(waitErr, log.Close())
	}
	url = fmt.Sprintf("nats://127.0.0.1:%d", port)
	err = jstest.WaitFor(waitLimit, func() error {
		nc, err := nats.Connect(url, nats.Timeout(time.Second))
		if err != nil {
			return err
		}
		defer nc.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		return nc.FlushWithContext(ctx)
	})
	if err != nil {
		return "", nil, errors.Join(err, stop())
	}
	return url, stop, nil
}
