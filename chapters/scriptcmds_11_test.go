package chapters_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/rogpeppe/go-internal/testscript"
)

// Commands for chapter 11, whose roles share a bucket and an object store
// with natscli, and carry files of several MiB.
func init() {
	// make-file FILE SIZE [SEED]: write SIZE pseudo-random bytes to FILE,
	// the same bytes for the same SEED on every run.
	scriptCommands["make-file"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) < 2 || len(args) > 3 {
			ts.Fatalf("usage: make-file FILE SIZE [SEED]")
		}
		size, err := strconv.Atoi(args[1])
		ts.Check(err)
		var seed [32]byte
		if len(args) == 3 {
			copy(seed[:], args[2])
		}
		rng := rand.NewChaCha8(seed)
		data := make([]byte, size+8)
		for i := 0; i < size; i += 8 {
			binary.LittleEndian.PutUint64(data[i:], rng.Uint64())
		}
		ts.Check(os.WriteFile(ts.MkAbs(args[0]), data[:size], 0o644))
	}
	// same-file A B: fail unless files A and B hold the same bytes. Unlike
	// cmp, it reports sizes and digests, not a diff of binary data.
	scriptCommands["same-file"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if len(args) != 2 {
			ts.Fatalf("usage: same-file A B")
		}
		a, err := os.ReadFile(ts.MkAbs(args[0]))
		ts.Check(err)
		b, err := os.ReadFile(ts.MkAbs(args[1]))
		ts.Check(err)
		if same := bytes.Equal(a, b); same == neg {
			ts.Fatalf("%s: %d bytes, SHA-256 %x; %s: %d bytes, SHA-256 %x", args[0], len(a), sha256.Sum256(a), args[1], len(b), sha256.Sum256(b))
		}
	}
	// wait-consumers STREAM N: wait until STREAM has at least N consumers,
	// such as the ordered push consumer of a key-value watcher.
	scriptCommands["wait-consumers"] = func(ts *testscript.TestScript, neg bool, args []string) {
		stream, n := streamAndCount(ts, args, "wait-consumers STREAM N")
		ts.Check(jstest.WaitFor(waitLimit, func() error {
			infos, err := consumerInfos(ts, stream)
			if err != nil {
				return err
			}
			if len(infos) < n {
				return fmt.Errorf("%s has %d consumers, want %d", stream, len(infos), n)
			}
			return nil
		}))
	}
	// mark-time, then elapsed-at-most D: fail if more than D passed since.
	scriptCommands["mark-time"] = func(ts *testscript.TestScript, neg bool, args []string) {
		ts.Setenv("MARKED_TIME", strconv.FormatInt(time.Now().UnixNano(), 10))
	}
	scriptCommands["elapsed-at-most"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 1 {
			ts.Fatalf("usage: elapsed-at-most DURATION (after mark-time)")
		}
		most, err := time.ParseDuration(args[0])
		ts.Check(err)
		marked, err := strconv.ParseInt(ts.Getenv("MARKED_TIME"), 10, 64)
		ts.Check(err)
		if took := time.Since(time.Unix(0, marked)); took > most {
			ts.Fatalf("%s since mark-time, want at most %s", took.Round(time.Millisecond), most)
		}
	}
	// nats-redacted ARGS...: run natscli with ARGS, as exec would, and
	// print its output with each date and time replaced by
	// YYYY-MM-DD hh:mm:ss, so that a transcript can compare the rest.
	scriptCommands["nats-redacted"] = func(ts *testscript.TestScript, neg bool, args []string) {
		path, err := lookPath(ts, "nats")
		ts.Check(err)
		var stdout, stderr bytes.Buffer
		cmd := exec.Command(path, args...)
		cmd.Dir = ts.MkAbs(".")
		cmd.Env = append(os.Environ(), "NATS_URL="+ts.Getenv("NATS_URL"), "HOME="+ts.Getenv("HOME"))
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err = cmd.Run()
		fmt.Fprint(ts.Stdout(), dateTime.ReplaceAllString(stdout.String(), "YYYY-MM-DD hh:mm:ss"))
		fmt.Fprint(ts.Stderr(), stderr.String())
		if (err != nil) != neg {
			ts.Fatalf("nats %s: %v", strings.Join(args, " "), err)
		}
	}
	// cmp-numbers-vary stdout FILE: like cmp, except that each run of
	// digits in FILE matches any run of digits: for a measurement whose
	// numbers change from run to run while the rest does not.
	scriptCommands["cmp-numbers-vary"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 2 || args[0] != "stdout" {
			ts.Fatalf("usage: cmp-numbers-vary stdout FILE")
		}
		want := ts.ReadFile(args[1])
		pattern := "^" + digits.ReplaceAllString(regexp.QuoteMeta(want), `\d+`) + "$"
		if got := ts.ReadFile("stdout"); !regexp.MustCompile(pattern).MatchString(got) {
			ts.Fatalf("stdout:\n%s\ndoes not have the shape of %s:\n%s", got, args[1], want)
		}
	}
}

var (
	dateTime = regexp.MustCompile(`\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}`)
	digits   = regexp.MustCompile(`[0-9]+`)
)
