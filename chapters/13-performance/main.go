// Chapter 13 is performance: how fast JetStream is from the Go a reader
// writes, measured side by side with "nats bench" on the same server, and
// what each setting costs. The seed only claims it (C09).
//
//	go run ./chapters/13-performance                    a short tour: each role with small counts
//	go run ./chapters/13-performance publish -mode async -msgs 200000
//	go run ./chapters/13-performance consume -mode fetch -batch 100
//	go run ./chapters/13-performance latency -path file -rate 2000
//	go run ./chapters/13-performance bench -out FILE    the whole measurement, against nats bench
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/cli"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/connect"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/embedded"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

const usage = `usage: 13-performance [-server URL]                                   (a short tour of every role)
       13-performance publish [-server URL] [-mode sync|async|batch|core] [-msgs N] [-size 128B] [-window W]
                      [-clients N] [-storage file|memory] [-fresh-payload] [-ctx-per-msg]
       13-performance consume [-server URL] [-mode consume|messages|fetch|next|ordered] [-msgs N] [-batch N] [-size 128B]
       13-performance latency [-server URL] [-path core|file|memory] [-rate R] [-msgs N] [-size 128B]
       13-performance bench [-reps N] [-scale F] [-steps LIST] [-machine TEXT] [-out FILE]`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(cli.Exit("13-performance", run(ctx, os.Args[1:], os.Stdout)))
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	role := "tour"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		role, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("13-performance "+role, flag.ContinueOnError)
	var (
		pub     = publishConfig{stream: "PERF", subject: "perf.publish", replicas: 1}
		con     consumeConfig
		lat     latencyConfig
		bench   benchConfig
		size    = sizeFlag(128)
		mode    string
		storage string
		steps   string
	)
	serverURL := os.Getenv("NATS_URL")
	if role != "bench" { // bench starts servers of its own
		fs.StringVar(&serverURL, "server", serverURL, "NATS server URL; empty starts an embedded server (default $NATS_URL)")
	}
	if oneOf(role, "publish", "consume", "latency") {
		fs.Var(&size, "size", "payload size: 16, 128B, 1KiB, 64KiB")
	}
	switch role {
	case "tour":
	case "publish":
		fs.StringVar(&mode, "mode", "async", "sync: wait for each PubAck; async: a sliding window; batch: nats bench's loop, a window's worth then wait for all; core: no acks")
		fs.IntVar(&pub.msgs, "msgs", 100_000, "messages to publish, in all")
		fs.IntVar(&pub.window, "window", 500, "async: most messages awaiting their PubAck (PublishAsyncMaxPending); batch: the batch; 0: no bound (2^31-1)")
		fs.IntVar(&pub.clients, "clients", 1, "publishers, each on its own connection; the messages are split between them")
		fs.StringVar(&storage, "storage", "file", "the stream's storage: file or memory")
		fs.BoolVar(&pub.freshPayload, "fresh-payload", false, "build a new payload and message for each publish, instead of reusing one")
		fs.BoolVar(&pub.ctxPerMsg, "ctx-per-msg", false, "sync: give each publish its own context.WithTimeout")
	case "consume":
		fs.StringVar(&mode, "mode", "consume", "consume: Consume with a callback; messages: the Messages iterator; fetch: Fetch(batch) in a loop; next: Next, one at a time; ordered: an ordered consumer, no acks")
		fs.IntVar(&con.msgs, "msgs", 100_000, "messages to store, then consume")
		fs.IntVar(&con.batch, "batch", 500, "messages a pull asks for (PullMaxMessages, or Fetch's n)")
	case "latency":
		fs.StringVar(&lat.path, "path", "file", "core: publish to a subscriber; file or memory: publish to a stream, read by an ordered consumer")
		fs.IntVar(&lat.rate, "rate", 2000, "messages a second, sent on schedule whatever the answers do (open loop)")
		fs.IntVar(&lat.msgs, "msgs", 6000, "messages to send")
	case "bench":
		fs.IntVar(&bench.reps, "reps", 5, "repetitions of each comparison; each ratio is taken within one, then the median over all")
		fs.Float64Var(&bench.scale, "scale", 1, "multiplies every message count (0.01 for a quick check of the procedure)")
		fs.StringVar(&steps, "steps", strings.Join(benchSteps, ","), "the measurements to run, of: "+strings.Join(benchSteps, ", "))
		fs.StringVar(&bench.machine, "machine", "", "the machine, in words, for the results (such as \"2-core VM, shared with other jobs\")")
		fs.StringVar(&bench.out, "out", "", "write the results as a txtar archive to this file (the chapter's is testdata/results.txtar)")
	default:
		return cli.Usagef(usage, "unknown role %q", role)
	}
	if err := cli.Parse(fs, usage, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return cli.Usagef(usage, "unexpected argument %q", fs.Arg(0))
	}
	if role == "bench" {
		var err error
		if bench.steps, err = parseSteps(steps); err != nil {
			return cli.Usagef(usage, "%v", err)
		}
		if bench.reps < 1 || bench.scale <= 0 {
			return cli.Usagef(usage, "-reps must be at least 1, and -scale above 0")
		}
		return runBench(ctx, bench, stdout, os.Stderr)
	}
	if err := checkRole(role, mode, storage, &pub, &con, &lat, int(size)); err != nil {
		return cli.Usagef(usage, "%v", err)
	}

	url, stopServer, err := embedded.URLOrStart(serverURL)
	if err != nil {
		return err
	}
	defer stopServer()
	dial := func(name string) (*nats.Conn, error) { return connect.To(url, "13-performance "+name) }
	switch role {
	case "publish":
		return publishRole(ctx, dial, pub, stdout)
	case "consume":
		return consumeRole(ctx, dial, con, stdout)
	case "latency":
		return latencyRole(ctx, dial, lat, stdout)
	default:
		return tour(ctx, dial, stdout)
	}
}

// checkRole checks the flags of a role against each other and copies the
// shared ones (mode, size) into its configuration.
func checkRole(role, mode, storage string, pub *publishConfig, con *consumeConfig, lat *latencyConfig, size int) error {
	switch role {
	case "publish":
		pub.mode, pub.size = mode, size
		var err error
		if pub.storage, err = parseStorage(storage); err != nil {
			return err
		}
		if !oneOf(mode, "sync", "async", "batch", "core") {
			return fmt.Errorf("-mode %q: want sync, async, batch or core", mode)
		}
		if pub.msgs < 1 || pub.clients < 1 || pub.window < 0 {
			return errors.New("-msgs and -clients must be at least 1, and -window not negative")
		}
		if mode == "core" {
			pub.subject = "perf.core" // no stream captures it: nothing is stored
		}
		if pub.storage == jetstream.MemoryStorage { // a stream of its own: storage cannot change in place
			pub.stream, pub.subject = "PERF_MEMORY", "perf.memory"
		}
		if pub.ctxPerMsg && mode != "sync" {
			return errors.New("-ctx-per-msg is for -mode sync: only a sync publish takes a context")
		}
	case "consume":
		con.mode, con.size = mode, size
		if !oneOf(mode, "consume", "messages", "fetch", "next", "ordered") {
			return fmt.Errorf("-mode %q: want consume, messages, fetch, next or ordered", mode)
		}
		if con.msgs < 1 || con.batch < 1 {
			return errors.New("-msgs and -batch must be at least 1")
		}
	case "latency":
		lat.size = size
		if !oneOf(lat.path, "core", "file", "memory") {
			return fmt.Errorf("-path %q: want core, file or memory", lat.path)
		}
		if lat.rate < 1 || lat.msgs < 1 || size < stampSize {
			return fmt.Errorf("-rate and -msgs must be at least 1, and -size at least %d bytes", stampSize)
		}
	}
	return nil
}

func oneOf(s string, choices ...string) bool {
	for _, c := range choices {
		if s == c {
			return true
		}
	}
	return false
}

func parseStorage(name string) (jetstream.StorageType, error) {
	switch name {
	case "file":
		return jetstream.FileStorage, nil
	case "memory":
		return jetstream.MemoryStorage, nil
	}
	return 0, fmt.Errorf("-storage %q: want file or memory", name)
}

// sizeFlag is a payload size in bytes, written 128, 128B, 1KiB or 64KiB.
type sizeFlag int

func (s *sizeFlag) String() string { return formatSize(int(*s)) }

func (s *sizeFlag) Set(text string) error {
	n, err := parseSize(text)
	if err != nil {
		return err
	}
	*s = sizeFlag(n)
	return nil
}

func parseSize(text string) (int, error) {
	number, unit := text, 1
	for _, u := range []struct {
		suffix string
		bytes  int
	}{{"KiB", 1024}, {"MiB", 1024 * 1024}, {"B", 1}} {
		if trimmed, ok := strings.CutSuffix(text, u.suffix); ok {
			number, unit = trimmed, u.bytes
			break
		}
	}
	n, err := strconv.Atoi(number)
	if err != nil || n < 0 || n*unit > 8*1024*1024 {
		return 0, fmt.Errorf("size %q: want a number of bytes up to 8MiB, such as 16, 128B, 1KiB or 64KiB", text)
	}
	return n * unit, nil
}

func formatSize(n int) string {
	switch {
	case n >= 1024 && n%1024 == 0:
		return strconv.Itoa(n/1024) + "KiB"
	default:
		return strconv.Itoa(n) + "B"
	}
}

// dialer opens a connection for one client of a measurement; name says
// which, for the server's connection list.
type dialer func(name string) (*nats.Conn, error)
