package chapters_test

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/rogpeppe/go-internal/testscript"
)

// Commands for chapter 12, whose server requires TLS and credentials: the
// harness's wait-server cannot reach it, and its configuration has $ words
// of its own that cmpenv would expand.
func init() {
	// cmpenvonly NAMES FILE WANT: compare FILE with WANT after replacing
	// $NAME and ${NAME} in WANT by the script's value of each NAME of the
	// comma-separated NAMES, and nothing else ($JS.API subjects and config
	// variables stay as they are).
	scriptCommands["cmpenvonly"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 3 {
			ts.Fatalf("usage: cmpenvonly NAME,NAME FILE WANT")
		}
		want := ts.ReadFile(args[2])
		for _, name := range strings.Split(args[0], ",") {
			want = strings.ReplaceAll(want, "${"+name+"}", ts.Getenv(name))
			want = strings.ReplaceAll(want, "$"+name, ts.Getenv(name))
		}
		if got := ts.ReadFile(args[1]); got != want {
			ts.Logf("%s:\n%s", args[1], got)
			ts.Fatalf("%s differs from %s (with %s replaced)", args[1], args[2], args[0])
		}
	}
	// hold-port VAR: listen on a free port of 127.0.0.1 until the script
	// ends, as another program would, and set VAR to it.
	scriptCommands["hold-port"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 1 {
			ts.Fatalf("usage: hold-port VAR")
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		ts.Check(err)
		ts.Defer(func() { ts.Check(l.Close()) })
		ts.Setenv(args[0], strconv.Itoa(l.Addr().(*net.TCPAddr).Port))
	}
	// nats-info HOST:PORT: print the INFO line a NATS server sends every
	// client first, in plaintext, before any TLS; wait until one answers.
	scriptCommands["nats-info"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 1 {
			ts.Fatalf("usage: nats-info HOST:PORT")
		}
		var info string
		ts.Check(jstest.WaitFor(waitLimit, func() error {
			conn, err := net.DialTimeout("tcp", args[0], time.Second)
			if err != nil {
				return err
			}
			defer conn.Close()
			if err := conn.SetReadDeadline(time.Now().Add(2 * time.Second)); err != nil {
				return err
			}
			line, err := bufio.NewReader(conn).ReadString('\n')
			if err != nil {
				return fmt.Errorf("read INFO from %s: %w", args[0], err)
			}
			if !strings.HasPrefix(line, "INFO ") {
				return fmt.Errorf("%s sent %q, not INFO", args[0], line)
			}
			info = line
			return nil
		}))
		_, err := fmt.Fprint(ts.Stdout(), info)
		ts.Check(err)
	}
	// no-secrets DIR: fail if the last command's stdout or stderr shows a
	// password (DIR/*.password) or an nkey seed (DIR/*.nk).
	scriptCommands["no-secrets"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 1 {
			ts.Fatalf("usage: no-secrets DIR")
		}
		var secrets []string
		for _, pattern := range []string{"*.password", "*.nk"} {
			files, err := filepath.Glob(filepath.Join(ts.MkAbs(args[0]), pattern))
			ts.Check(err)
			for _, file := range files {
				data, err := os.ReadFile(file)
				ts.Check(err)
				secrets = append(secrets, strings.TrimSpace(string(data)))
			}
		}
		if len(secrets) == 0 {
			ts.Fatalf("no secrets in %s to look for", args[0])
		}
		output := ts.ReadFile("stdout") + ts.ReadFile("stderr")
		for _, secret := range secrets {
			if secret == "" || strings.Contains(output, secret) {
				ts.Fatalf("the last command's output shows a secret of %s", args[0])
			}
		}
	}
}
