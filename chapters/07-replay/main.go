// Chapter 07 is replay and ordering, which the seed promises ("메시지 재처리",
// "메시지 순서 보장", "이벤트 소싱") but never shows: where a consumer starts
// reading, consumers that keep their own positions, the ordered consumer, and
// an event log per account with optimistic concurrency.
//
//	go run ./chapters/07-replay                                     the whole scenario, embedded
//	go run ./chapters/07-replay publish [-count 5]                  five messages on two subjects
//	go run ./chapters/07-replay read -from seq:3                    replay from a position, until Ctrl+C
//	go run ./chapters/07-replay deposit -account alice -amount 100  append an event to an account
//	go run ./chapters/07-replay balances                            every account's balance
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
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/examplestream"
	"github.com/nats-io/nats.go/jetstream"
)

const usage = `usage: 07-replay [-server URL]                                       (the whole scenario)
       07-replay publish [-server URL] [-count N]
       07-replay read [-server URL] [-from POS] [-subject S] [-durable NAME | -ordered] [-replay instant|original] [-count N]
       07-replay deposit|withdraw [-server URL] -account NAME -amount N [-expect-seq N]
       07-replay balances [-server URL]
POS is all, new, last, last-per-subject, seq:N or time:RFC3339`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(cli.Exit("07-replay", run(ctx, os.Args[1:], os.Stdout)))
}

// readOptions are the read role's flags.
type readOptions struct {
	from    position
	filter  string
	durable string
	ordered bool
	replay  jetstream.ReplayPolicy
	limit   int
}

func run(ctx context.Context, args []string, stdout io.Writer) (err error) {
	role := "demo"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		role, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("07-replay "+role, flag.ContinueOnError)
	serverURL := fs.String("server", os.Getenv("NATS_URL"), "NATS server URL; empty starts an embedded server (default $NATS_URL)")
	var (
		count                         *int
		from, filter, durable, replay *string
		ordered                       *bool
		name                          *string
		amount                        *int
		expectSeq                     *uint64 // nil: read the account's last sequence first
	)
	switch role {
	case "demo", "balances":
	case "publish":
		count = fs.Int("count", 5, "messages to publish, alternating "+kitchen+" and "+garden)
	case "read":
		from = fs.String("from", "all", "where a new consumer starts: all, new, last, last-per-subject, seq:N or time:RFC3339")
		filter = fs.String("subject", "my.subject.*", "subject filter within example_stream")
		durable = fs.String("durable", "", "name a durable consumer: it keeps its position between runs (-from applies when it is created)")
		ordered = fs.Bool("ordered", false, "read with an ordered consumer: strict stream order, no acks")
		replay = fs.String("replay", "instant", "instant: as fast as possible; original: with the gaps the messages were published with")
		count = fs.Int("count", 0, "stop after N messages (0: run until Ctrl+C)")
	case "deposit", "withdraw":
		name = fs.String("account", "", "the account, such as alice (its subject is accounts.alice)")
		amount = fs.Int("amount", 0, "how much, more than 0")
		fs.Func("expect-seq", "act on the account as it was at its event N, and publish only if that is still its last (0: a new account); default: read the last, and retry if it changes", func(s string) error {
			seq, err := strconv.ParseUint(s, 10, 64)
			expectSeq = &seq
			return err
		})
	default:
		return cli.Usagef(usage, "unknown role %q", role)
	}
	if err := cli.Parse(fs, usage, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return cli.Usagef(usage, "unexpected argument %q", fs.Arg(0))
	}
	var read readOptions
	switch role {
	case "publish":
		if *count < 0 {
			return cli.Usagef(usage, "-count must not be negative")
		}
	case "read":
		if read, err = readFlags(*from, *filter, *durable, *ordered, *replay, *count); err != nil {
			return cli.Usagef(usage, "%v", err)
		}
	case "deposit", "withdraw":
		switch {
		case !validToken(*name):
			return cli.Usagef(usage, "-account must be a name without spaces, dots, * or >, such as alice")
		case *amount <= 0:
			return cli.Usagef(usage, "-amount must be more than 0")
		}
	}

	url, stopServer, err := embedded.URLOrStart(*serverURL)
	if err != nil {
		return err
	}
	defer stopServer()
	ctx, closeOption := connect.CancelOnClose(ctx)
	nc, err := connect.To(url, "07-replay "+role, closeOption)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, connect.Drain(nc)) }()
	js, err := connect.JetStream(ctx, nc)
	if err != nil {
		return err
	}

	switch role {
	case "deposit", "withdraw":
		accounts, err := ensureAccounts(ctx, js, stdout)
		if err != nil {
			return err
		}
		change := *amount
		if role == "withdraw" {
			change = -change
		}
		return changeRole(ctx, js, accounts, stdout, *name, change, expectSeq)
	case "balances":
		return balancesRole(ctx, js, stdout)
	}
	stream, err := examplestream.Ensure(ctx, js, stdout)
	if err != nil {
		return err
	}
	switch role {
	case "publish":
		return publish(ctx, js, stdout, *count)
	case "read":
		return readRole(ctx, stream, stdout, read)
	default:
		return demo(ctx, js, stream, stdout)
	}
}

// readFlags checks the read role's flags together.
func readFlags(from, filter, durable string, ordered bool, replay string, count int) (readOptions, error) {
	opts := readOptions{filter: filter, durable: durable, ordered: ordered, limit: count}
	var err error
	if opts.from, err = parsePosition(from); err != nil {
		return opts, err
	}
	switch replay {
	case "instant":
		opts.replay = jetstream.ReplayInstantPolicy
	case "original":
		opts.replay = jetstream.ReplayOriginalPolicy
	default:
		return opts, fmt.Errorf("-replay %q: want instant or original", replay)
	}
	switch {
	case count < 0:
		return opts, errors.New("-count must not be negative")
	case filter == "":
		return opts, errors.New("-subject must not be empty (my.subject.* is the whole of example_stream)")
	case ordered && durable != "":
		return opts, errors.New("-ordered and -durable do not go together: an ordered consumer is the client's own, made anew each run")
	case durable != "" && !validToken(durable):
		return opts, errors.New("-durable must be a name without spaces, dots, * or >")
	}
	return opts, nil
}

// validToken says whether name can be one token of a subject, and so an
// account or a consumer name.
func validToken(name string) bool {
	return name != "" && !strings.ContainsAny(name, " \t.*>/\\")
}

// docs:start demo
// demo publishes five messages and replays them every way, then shows two
// consumers with their own positions, the ordered consumer, and an event log
// with optimistic concurrency.
func demo(ctx context.Context, js jetstream.JetStream, stream jetstream.Stream, out io.Writer) error {
	if err := publish(ctx, js, out, 5); err != nil {
		return err
	}
	if err := demoPositions(ctx, js, stream, out); err != nil {
		return err
	}
	if err := demoTwoReaders(ctx, stream, out); err != nil {
		return err
	}
	if err := demoOrdered(ctx, js, stream, out); err != nil {
		return err
	}
	return demoAccounts(ctx, js, out)
}

// docs:end demo
