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
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/cli"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/connect"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/embedded"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/examplestream"
	"github.com/nats-io/nats.go/jetstream"
)

// docs:start names
const (
	// Two subjects inside example_stream (my.subject.*), so that "the last
	// message" and "the last message of each subject" differ.
	kitchen = "my.subject.kitchen"
	garden  = "my.subject.garden"

	// accountsStream is the event store: one subject per account, holding
	// that account's events in order. It is not example_stream, which
	// forgets everything after nine seconds: an event log must not.
	accountsStream   = "accounts"
	accountsSubjects = "accounts.*"
)

// docs:end names

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

// docs:start publish
// publish stores count messages, alternating between the two subjects.
func publish(ctx context.Context, js jetstream.JetStream, out io.Writer, count int) error {
	for i := 1; i <= count; i++ {
		subject := kitchen
		if i%2 == 0 {
			subject = garden
		}
		if err := publishOne(ctx, js, out, subject, fmt.Sprintf("Message %d", i)); err != nil {
			return err
		}
	}
	return nil
}

// publishOne publishes and prints where the stream stored the message.
func publishOne(ctx context.Context, js jetstream.JetStream, out io.Writer, subject, message string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ack, err := js.Publish(ctx, subject, []byte(message))
	if err != nil {
		return fmt.Errorf("publish %q to %s: %w", message, subject, err)
	}
	fmt.Fprintf(out, "Published: %s on %s (stream %s, seq %d)\n", message, subject, ack.Stream, ack.Sequence)
	return nil
}

// docs:end publish

// docs:start position
// A position is where a new consumer starts reading (the -from flag). It is
// fixed when the consumer is created: a DeliverPolicy, plus OptStartSeq or
// OptStartTime for the two policies that need one.
type position struct {
	policy jetstream.DeliverPolicy
	seq    uint64     // with DeliverByStartSequencePolicy
	time   *time.Time // with DeliverByStartTimePolicy
}

// parsePosition reads all, new, last, last-per-subject, seq:N or time:RFC3339.
func parsePosition(from string) (position, error) {
	kind, arg, hasArg := strings.Cut(from, ":")
	switch {
	case from == "all":
		return position{policy: jetstream.DeliverAllPolicy}, nil // the oldest stored message on (the default)
	case from == "new":
		return position{policy: jetstream.DeliverNewPolicy}, nil // only what is published after the consumer exists
	case from == "last":
		return position{policy: jetstream.DeliverLastPolicy}, nil // the newest stored message, then new ones
	case from == "last-per-subject":
		return position{policy: jetstream.DeliverLastPerSubjectPolicy}, nil // the newest of each subject, then new ones
	case kind == "seq" && hasArg:
		seq, err := strconv.ParseUint(arg, 10, 64)
		if err != nil || seq == 0 {
			return position{}, fmt.Errorf("-from %s: want seq:N, with N a stream sequence from 1", from)
		}
		return position{policy: jetstream.DeliverByStartSequencePolicy, seq: seq}, nil // from this sequence on
	case kind == "time" && hasArg:
		t, err := time.Parse(time.RFC3339, arg)
		if err != nil {
			return position{}, fmt.Errorf("-from %s: want time:RFC3339, such as time:2025-06-01T10:30:00+09:00", from)
		}
		return position{policy: jetstream.DeliverByStartTimePolicy, time: &t}, nil // the first message stored at or after t
	}
	return position{}, fmt.Errorf("-from %q: want all, new, last, last-per-subject, seq:N or time:RFC3339", from)
}

// docs:end position

// docs:start consumer
// replayConsumer creates a consumer on filter that starts at from. A durable
// one stays on the server and remembers how far its reader acked; without a
// name it is ephemeral. Every consumer has its own position: reading from
// or acking on one does not move any other.
func replayConsumer(ctx context.Context, stream jetstream.Stream, filter string, from position, durable string, replay jetstream.ReplayPolicy) (jetstream.Consumer, error) {
	cons, err := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:       durable, // empty: ephemeral
		FilterSubject: filter,  // last-per-subject needs one
		DeliverPolicy: from.policy,
		OptStartSeq:   from.seq,
		OptStartTime:  from.time,
		ReplayPolicy:  replay, // instant (default): at once; original: with the gaps they were published with
		AckPolicy:     jetstream.AckExplicitPolicy,
	})
	if err != nil {
		return nil, fmt.Errorf("create a consumer on %q: %w", filter, err)
	}
	return cons, nil
}

// docs:end consumer

// docs:start ordered
// orderedConsumer reads filter from a position in strict stream order. The
// client makes the consumer itself: no acks (AckNone), kept in memory. When
// that consumer is deleted, and (per nats.go's ordered.go) when a message is
// missing or heartbeats stop, it makes a new one that starts right after the
// last message it delivered.
func orderedConsumer(ctx context.Context, stream jetstream.Stream, filter string, from position, replay jetstream.ReplayPolicy, namePrefix string) (jetstream.Consumer, error) {
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{filter},
		DeliverPolicy:  from.policy,
		OptStartSeq:    from.seq,
		OptStartTime:   from.time,
		ReplayPolicy:   replay,
		NamePrefix:     namePrefix, // consumers are named prefix_1, prefix_2, ...; empty: a random prefix
	})
	if err != nil {
		return nil, fmt.Errorf("create an ordered consumer on %q: %w", filter, err)
	}
	return cons, nil
}

// docs:end ordered

// docs:start read
// readRole is the read role: one reader, messages until Ctrl+C or -count.
func readRole(ctx context.Context, stream jetstream.Stream, out io.Writer, opts readOptions) error {
	var cons jetstream.Consumer
	var err error
	var banner string
	switch {
	case opts.ordered:
		cons, err = orderedConsumer(ctx, stream, opts.filter, opts.from, opts.replay, "")
		banner = fmt.Sprintf("An ordered consumer reads '%s' (no acks).", opts.filter)
	case opts.durable != "":
		cons, err = stream.Consumer(ctx, opts.durable)
		if err == nil {
			info := cons.CachedInfo()
			banner = fmt.Sprintf("Consumer %q resumes on '%s' after seq %d, the last it acked.", opts.durable, info.Config.FilterSubject, info.AckFloor.Stream)
			break
		}
		if !errors.Is(err, jetstream.ErrConsumerNotFound) {
			return fmt.Errorf("look up consumer %q: %w", opts.durable, err)
		}
		cons, err = replayConsumer(ctx, stream, opts.filter, opts.from, opts.durable, opts.replay)
		banner = fmt.Sprintf("Created consumer %q on '%s'.", opts.durable, opts.filter)
	default:
		cons, err = replayConsumer(ctx, stream, opts.filter, opts.from, "", opts.replay)
		banner = fmt.Sprintf("Reading '%s'.", opts.filter)
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(out, banner, "Press Ctrl+C to exit.")
	err = receive(ctx, cons, out, opts.limit, !opts.ordered)
	if errors.Is(err, context.Canceled) {
		fmt.Fprintln(out, "Reader stopped.")
		return nil
	}
	return err
}

// receive prints messages as they arrive until it has limit of them (0: no
// limit) or ctx ends. With ack, it acks each one and waits until the server
// has recorded the ack (DoubleAck): a durable consumer's position is then
// safe before the next message is printed.
func receive(ctx context.Context, cons jetstream.Consumer, out io.Writer, limit int, ack bool) error {
	var opts []jetstream.PullMessagesOpt
	if limit > 0 {
		// Ask the server for no more than we will ack: a durable reader that
		// pulled more and stopped would leave them to wait out AckWait.
		opts = append(opts, jetstream.StopAfter(limit))
	}
	msgs, err := cons.Messages(opts...)
	if err != nil {
		return fmt.Errorf("start receiving: %w", err)
	}
	defer msgs.Stop()
	for received := 0; limit == 0 || received < limit; received++ {
		msg, err := msgs.Next(jetstream.NextContext(ctx))
		if err != nil {
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			if connect.Closed(err) {
				return connect.ErrConnectionLost // reconnecting failed, maybe before ctx heard of it
			}
			return fmt.Errorf("receive: %w", err)
		}
		meta, err := msg.Metadata()
		if err != nil {
			return fmt.Errorf("read message metadata: %w", err)
		}
		fmt.Fprintf(out, "Received a message on '%s': %s (seq %d)\n", msg.Subject(), msg.Data(), meta.Sequence.Stream)
		if ack {
			if err := doubleAck(ctx, msg); err != nil {
				return fmt.Errorf("ack seq %d: %w", meta.Sequence.Stream, err)
			}
		}
	}
	return nil
}

// doubleAck acks msg and waits for the server's confirmation. A Ctrl+C
// does not cut an ack short: it has up to five seconds of its own.
func doubleAck(ctx context.Context, msg jetstream.Msg) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return msg.DoubleAck(ctx)
}

// docs:end read

// docs:start fetch
// fetchWaiting fetches and acks the messages a consumer had waiting when it
// was created (NumPending counts them) and returns their stream sequences.
func fetchWaiting(ctx context.Context, cons jetstream.Consumer) ([]uint64, error) {
	pending := cons.CachedInfo().NumPending
	if pending == 0 {
		return nil, nil
	}
	return fetch(ctx, cons, int(pending))
}

// fetch fetches n messages, acks them and returns their stream sequences.
func fetch(ctx context.Context, cons jetstream.Consumer, n int) ([]uint64, error) {
	batch, err := cons.Fetch(n, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		return nil, fmt.Errorf("fetch %d messages: %w", n, err)
	}
	var seqs []uint64
	for msg := range batch.Messages() {
		meta, err := msg.Metadata()
		if err != nil {
			return nil, fmt.Errorf("read message metadata: %w", err)
		}
		seqs = append(seqs, meta.Sequence.Stream)
		if err := doubleAck(ctx, msg); err != nil {
			return nil, fmt.Errorf("ack seq %d: %w", meta.Sequence.Stream, err)
		}
	}
	if err := batch.Error(); err != nil {
		return nil, fmt.Errorf("fetch %d messages: %w", n, err)
	}
	if len(seqs) != n {
		return nil, fmt.Errorf("fetched %d messages, expected %d", len(seqs), n)
	}
	return seqs, nil
}

// docs:end fetch

// seqList prints sequences as "seq 1 2 3", or "nothing" for none.
func seqList(seqs []uint64) string {
	if len(seqs) == 0 {
		return "nothing"
	}
	s := "seq"
	for _, seq := range seqs {
		s += " " + strconv.FormatUint(seq, 10)
	}
	return s
}

// docs:start stream
// ensureAccounts returns the event store, creating it if it does not exist.
// Default limits: nothing expires and nothing is discarded.
func ensureAccounts(ctx context.Context, js jetstream.JetStream, out io.Writer) (jetstream.Stream, error) {
	stream, err := js.Stream(ctx, accountsStream)
	if err == nil {
		return stream, nil
	}
	if !errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, fmt.Errorf("look up stream %q: %w", accountsStream, err)
	}
	stream, err = js.CreateStream(ctx, jetstream.StreamConfig{
		Name:     accountsStream,
		Subjects: []string{accountsSubjects},
		Storage:  jetstream.FileStorage,
	})
	if err != nil {
		return nil, fmt.Errorf("create stream %q: %w", accountsStream, err)
	}
	fmt.Fprintf(out, "Created stream %q for the accounts' events (subjects %s).\n", accountsStream, accountsSubjects)
	return stream, nil
}

// docs:end stream

// docs:start events
// An accountEvent is one change to an account, stored on its subject
// accounts.NAME. It carries the balance after the change, so the last event
// of an account is its current state.
type accountEvent struct {
	Change  int `json:"change"`  // more than 0: a deposit; less: a withdrawal
	Balance int `json:"balance"` // after this change
}

// An account is what a writer knows before it changes the account: the
// balance, and the sequence of the event that balance comes from.
type account struct {
	name    string
	balance int
	lastSeq uint64 // 0: the account has no events yet
}

// errConflict says the account got a new event after the writer read it.
var errConflict = errors.New("the account changed after it was read")

// readAccount reads an account's current state: its last event.
func readAccount(ctx context.Context, stream jetstream.Stream, name string) (account, error) {
	msg, err := stream.GetLastMsgForSubject(ctx, "accounts."+name)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return account{name: name}, nil // a new account: no events, balance 0
	}
	if err != nil {
		return account{}, fmt.Errorf("read the last event of %s: %w", name, err)
	}
	var ev accountEvent
	if err := json.Unmarshal(msg.Data, &ev); err != nil {
		return account{}, fmt.Errorf("event seq %d of %s is not an account event: %w", msg.Sequence, name, err)
	}
	return account{name: name, balance: ev.Balance, lastSeq: msg.Sequence}, nil
}

// appendEvent stores the change as the account's next event, but only if
// the account's last event is still the one acc was read from. The server
// checks that as it stores: the publish carries the header
// Nats-Expected-Last-Subject-Sequence, and a stale one is rejected with
// 10071 (on a replicated stream, 10164).
func appendEvent(ctx context.Context, js jetstream.JetStream, acc account, change int) (account, error) {
	balance := acc.balance + change
	if balance < 0 {
		return acc, fmt.Errorf("%s has %d, cannot withdraw %d", acc.name, acc.balance, -change)
	}
	data, err := json.Marshal(accountEvent{Change: change, Balance: balance})
	if err != nil {
		return acc, fmt.Errorf("encode the event: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ack, err := js.Publish(ctx, "accounts."+acc.name, data, jetstream.WithExpectLastSequencePerSubject(acc.lastSeq))
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant) {
		return acc, fmt.Errorf("%w: %s was read at seq %d (%s, error %d)", errConflict, acc.name, acc.lastSeq, apiErr.Description, apiErr.ErrorCode)
	}
	if err != nil {
		return acc, fmt.Errorf("append an event to %s: %w", acc.name, err)
	}
	return account{name: acc.name, balance: balance, lastSeq: ack.Sequence}, nil
}

// docs:end events

// docs:start change
// changeRole is the deposit and withdraw roles: read the account, append the
// change, and if another writer got in between, read it again and retry.
// Each conflict means another writer succeeded, so this ends. With
// -expect-seq the writer acts on the account as it was at that event (what
// it read earlier, say in another terminal), and a conflict is final.
func changeRole(ctx context.Context, js jetstream.JetStream, stream jetstream.Stream, out io.Writer, name string, change int, expectSeq *uint64) error {
	for {
		var acc account
		var err error
		if expectSeq != nil {
			acc, err = readAccountAt(ctx, stream, name, *expectSeq)
		} else {
			acc, err = readAccount(ctx, stream, name)
		}
		if err != nil {
			return err
		}
		after, err := appendEvent(ctx, js, acc, change)
		if errors.Is(err, errConflict) && expectSeq == nil {
			fmt.Fprintf(out, "%v; reading it again\n", err)
			continue
		}
		if errors.Is(err, errConflict) {
			return fmt.Errorf("%w; see its balance with \"07-replay balances\" and try again", err)
		}
		if err != nil {
			return err
		}
		fmt.Fprintln(out, describe(after, change))
		return nil
	}
}

// readAccountAt reads an account as it was at its event seq (0: before its
// first event).
func readAccountAt(ctx context.Context, stream jetstream.Stream, name string, seq uint64) (account, error) {
	if seq == 0 {
		return account{name: name}, nil
	}
	msg, err := stream.GetMsg(ctx, seq)
	if err != nil {
		return account{}, fmt.Errorf("read event seq %d: %w", seq, err)
	}
	if msg.Subject != "accounts."+name {
		return account{}, fmt.Errorf("seq %d is an event of %s, not of %s", seq, strings.TrimPrefix(msg.Subject, "accounts."), name)
	}
	var ev accountEvent
	if err := json.Unmarshal(msg.Data, &ev); err != nil {
		return account{}, fmt.Errorf("event seq %d of %s is not an account event: %w", seq, name, err)
	}
	return account{name: name, balance: ev.Balance, lastSeq: seq}, nil
}

// docs:end change

// describe says what an appended event did.
func describe(acc account, change int) string {
	if change < 0 {
		return fmt.Sprintf("Withdrew %d from %s: balance %d (seq %d)", -change, acc.name, acc.balance, acc.lastSeq)
	}
	return fmt.Sprintf("Deposited %d to %s: balance %d (seq %d)", change, acc.name, acc.balance, acc.lastSeq)
}

// docs:start balances
// balances rebuilds every account's current state in one pass: a consumer
// with DeliverLastPerSubject gets the last event of each accounts.* subject,
// in stream order.
func balances(ctx context.Context, stream jetstream.Stream) ([]account, error) {
	cons, err := orderedConsumer(ctx, stream, accountsSubjects, position{policy: jetstream.DeliverLastPerSubjectPolicy}, jetstream.ReplayInstantPolicy, "")
	if err != nil {
		return nil, err
	}
	var accounts []account
	err = readStored(ctx, cons, func(msg jetstream.Msg, seq uint64, ev accountEvent) {
		accounts = append(accounts, account{name: strings.TrimPrefix(msg.Subject(), "accounts."), balance: ev.Balance, lastSeq: seq})
	})
	return accounts, err
}

// history replays every event of one account from its first, which is how
// event sourcing rebuilds state when the events carry only the changes.
func history(ctx context.Context, stream jetstream.Stream, name string) ([]accountEvent, error) {
	cons, err := orderedConsumer(ctx, stream, "accounts."+name, position{policy: jetstream.DeliverAllPolicy}, jetstream.ReplayInstantPolicy, "")
	if err != nil {
		return nil, err
	}
	var events []accountEvent
	err = readStored(ctx, cons, func(_ jetstream.Msg, _ uint64, ev accountEvent) { events = append(events, ev) })
	return events, err
}

// readStored hands each stored account event to use, in stream order, and
// stops after the one whose metadata says nothing more is pending.
func readStored(ctx context.Context, cons jetstream.Consumer, use func(msg jetstream.Msg, seq uint64, ev accountEvent)) error {
	if cons.CachedInfo().NumPending == 0 {
		return nil
	}
	msgs, err := cons.Messages()
	if err != nil {
		return fmt.Errorf("read the accounts: %w", err)
	}
	defer msgs.Stop()
	for {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		msg, err := msgs.Next(jetstream.NextContext(ctx))
		cancel()
		if err != nil {
			return fmt.Errorf("read the accounts: %w", err)
		}
		meta, err := msg.Metadata()
		if err != nil {
			return fmt.Errorf("read message metadata: %w", err)
		}
		var ev accountEvent
		if err := json.Unmarshal(msg.Data(), &ev); err != nil {
			return fmt.Errorf("event seq %d on %s is not an account event: %w", meta.Sequence.Stream, msg.Subject(), err)
		}
		use(msg, meta.Sequence.Stream, ev)
		if meta.NumPending == 0 {
			return nil
		}
	}
}

// docs:end balances

// balancesRole is the balances role. It only reads: no stream, no accounts.
func balancesRole(ctx context.Context, js jetstream.JetStream, out io.Writer) error {
	var accounts []account
	stream, err := js.Stream(ctx, accountsStream)
	switch {
	case err == nil:
		if accounts, err = balances(ctx, stream); err != nil {
			return err
		}
	case !errors.Is(err, jetstream.ErrStreamNotFound):
		return fmt.Errorf("look up stream %q: %w", accountsStream, err)
	}
	if len(accounts) == 0 {
		fmt.Fprintln(out, "No accounts yet: add one with \"07-replay deposit -account alice -amount 100\".")
	}
	for _, acc := range accounts {
		fmt.Fprintf(out, "%s: %d (seq %d)\n", acc.name, acc.balance, acc.lastSeq)
	}
	return nil
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

// docs:start demo-positions
// demoPositions creates one consumer per -from on the same five stored
// messages and shows what each has waiting; then one more message comes.
func demoPositions(ctx context.Context, js jetstream.JetStream, stream jetstream.Stream, out io.Writer) error {
	third, err := stream.GetMsg(ctx, 3)
	if err != nil {
		return fmt.Errorf("read seq 3: %w", err)
	}
	// Start by time at seq 3's own timestamp: no clock, no sleep, same result every run.
	thirdsTime := "time:" + third.Time.Format(time.RFC3339Nano)
	froms := []string{"all", "seq:3", thirdsTime, "last", "last-per-subject", "new"}

	fmt.Fprintln(out, "Six consumers on the same five stored messages, each created with its own -from:")
	var consumers []jetstream.Consumer
	for _, from := range froms {
		pos, err := parsePosition(from)
		if err != nil {
			return err
		}
		cons, err := replayConsumer(ctx, stream, "my.subject.*", pos, "", jetstream.ReplayInstantPolicy)
		if err != nil {
			return err
		}
		consumers = append(consumers, cons)
		seqs, err := fetchWaiting(ctx, cons)
		if err != nil {
			return err
		}
		if from == thirdsTime {
			from = "time:(seq 3's time)"
		}
		fmt.Fprintf(out, "  -from %-20s %s\n", from, seqList(seqs))
	}

	if err := publishOne(ctx, js, out, garden, "Message 6"); err != nil {
		return err
	}
	var next []uint64
	for _, cons := range consumers {
		seqs, err := fetch(ctx, cons, 1)
		if err != nil {
			return err
		}
		next = append(next, seqs...)
	}
	fmt.Fprintf(out, "Next message for each of the six: %s. -from sets only where a consumer starts.\n", seqList(next))
	return nil
}

// docs:end demo-positions

// docs:start demo-readers
// demoTwoReaders shows two durable consumers on one stream, each with its
// own position: acks on one do not move the other.
func demoTwoReaders(ctx context.Context, stream jetstream.Stream, out io.Writer) error {
	fmt.Fprintln(out, "Two durable consumers on the same stream:")
	for _, r := range []struct {
		name string
		read int
	}{{"reader-a", 4}, {"reader-b", 2}} {
		cons, err := replayConsumer(ctx, stream, "my.subject.*", position{policy: jetstream.DeliverAllPolicy}, r.name, jetstream.ReplayInstantPolicy)
		if err != nil {
			return err
		}
		seqs, err := fetch(ctx, cons, r.read)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "  %s reads and acks %s\n", r.name, seqList(seqs))
	}
	for _, name := range []string{"reader-a", "reader-b"} {
		cons, err := stream.Consumer(ctx, name)
		if err != nil {
			return fmt.Errorf("look up consumer %q: %w", name, err)
		}
		info, err := cons.Info(ctx)
		if err != nil {
			return fmt.Errorf("consumer %q: %w", name, err)
		}
		fmt.Fprintf(out, "  %s has acked up to seq %d; %d more are waiting for it\n", name, info.AckFloor.Stream, info.NumPending)
	}
	return nil
}

// docs:end demo-readers

// docs:start demo-ordered
// demoOrdered reads the stream with an ordered consumer, deletes the
// consumer under it, and shows the client carry on with a new one.
func demoOrdered(ctx context.Context, js jetstream.JetStream, stream jetstream.Stream, out io.Writer) error {
	fmt.Fprintln(out, "An ordered consumer reads the stream in order, without acks:")
	cons, err := orderedConsumer(ctx, stream, "my.subject.*", position{policy: jetstream.DeliverAllPolicy}, jetstream.ReplayInstantPolicy, "ordered")
	if err != nil {
		return err
	}
	msgs, err := cons.Messages()
	if err != nil {
		return fmt.Errorf("start the ordered consumer: %w", err)
	}
	defer msgs.Stop()
	next := func(n int) (string, error) {
		var seqs []uint64
		for range n {
			ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			msg, err := msgs.Next(jetstream.NextContext(ctx))
			cancel()
			if err != nil {
				return "", fmt.Errorf("ordered consumer: %w", err)
			}
			meta, err := msg.Metadata()
			if err != nil {
				return "", fmt.Errorf("read message metadata: %w", err)
			}
			seqs = append(seqs, meta.Sequence.Stream)
		}
		return fmt.Sprintf("%s through consumer %s", seqList(seqs), cons.CachedInfo().Name), nil
	}
	got, err := next(6)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "  %s\n", got)

	// Delete the consumer on the server, to see the client replace it.
	if err := stream.DeleteConsumer(ctx, "ordered_1"); err != nil {
		return fmt.Errorf("delete consumer ordered_1: %w", err)
	}
	fmt.Fprintln(out, "Consumer ordered_1 deleted on the server.")
	if err := publishOne(ctx, js, out, kitchen, "Message 7"); err != nil {
		return err
	}
	if got, err = next(1); err != nil {
		return err
	}
	fmt.Fprintf(out, "  %s: the client made it to go on after seq 6\n", got)
	return nil
}

// docs:end demo-ordered

// docs:start demo-accounts
// demoAccounts keeps two accounts as event logs, rebuilds their balances,
// and has two tellers race to withdraw from the same account.
func demoAccounts(ctx context.Context, js jetstream.JetStream, out io.Writer) error {
	stream, err := ensureAccounts(ctx, js, out)
	if err != nil {
		return err
	}
	for _, ch := range []struct {
		name   string
		change int
	}{{"alice", 100}, {"bob", 20}, {"alice", -30}} {
		acc, err := readAccount(ctx, stream, ch.name)
		if err != nil {
			return err
		}
		if acc, err = appendEvent(ctx, js, acc, ch.change); err != nil {
			return err
		}
		fmt.Fprintln(out, describe(acc, ch.change))
	}

	fmt.Fprintln(out, "Balances, from the last event of each account (DeliverLastPerSubject):")
	accounts, err := balances(ctx, stream)
	if err != nil {
		return err
	}
	for _, acc := range accounts {
		fmt.Fprintf(out, "  %s: %d (seq %d)\n", acc.name, acc.balance, acc.lastSeq)
	}

	// Both tellers read alice before either writes: the same state, the same sequence.
	teller1, err := readAccount(ctx, stream, "alice")
	if err != nil {
		return err
	}
	teller2, err := readAccount(ctx, stream, "alice")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Two tellers read alice at seq %d (balance %d) and both withdraw 50:\n", teller1.lastSeq, teller1.balance)
	after, err := appendEvent(ctx, js, teller1, -50)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "  teller 1: %s\n", describe(after, -50))
	_, err = appendEvent(ctx, js, teller2, -50)
	if !errors.Is(err, errConflict) {
		return fmt.Errorf("teller 2 was not stopped: %v", err)
	}
	fmt.Fprintf(out, "  teller 2: rejected, %v\n", err)
	again, err := readAccount(ctx, stream, "alice")
	if err != nil {
		return err
	}
	_, err = appendEvent(ctx, js, again, -50)
	if err == nil {
		return errors.New("teller 2 overdrew alice")
	}
	fmt.Fprintf(out, "  teller 2 reads alice again at seq %d: %v\n", again.lastSeq, err)

	events, err := history(ctx, stream, "alice")
	if err != nil {
		return err
	}
	sum, changes := 0, ""
	for _, ev := range events {
		sum += ev.Change
		changes += fmt.Sprintf(" %+d", ev.Change)
	}
	fmt.Fprintf(out, "alice's %d events replayed from the first (DeliverAll):%s = %d, the balance of her last event\n", len(events), changes, sum)
	if sum != again.balance {
		return fmt.Errorf("alice's history adds up to %d, but her last event says %d", sum, again.balance)
	}
	return nil
}

// docs:end demo-accounts
