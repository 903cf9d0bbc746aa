// Chapter 08 is retention (보존 정책): what makes a stream let go of a
// message. The seed lists three policies, limits (한계 기반 보존), interest
// (관심 기반 보존) and work queue (작업 대기열 보존), and shows none at work.
// This chapter runs them side by side.
//
//	go run ./chapters/08-retention                                 the three policies side by side, always on its own embedded server
//	go run ./chapters/08-retention show                            what example_stream holds now
//	go run ./chapters/08-retention swap -retention workqueue       DELETES example_stream and recreates it with that retention
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/cli"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/connect"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/embedded"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/examplestream"
	"github.com/nats-io/nats.go/jetstream"
)

const usage = `usage: 08-retention                                                    (the three policies side by side, on its own embedded server)
       08-retention show [-server URL]
       08-retention swap -retention limits|interest|workqueue [-server URL]    (deletes example_stream)`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(cli.Exit("08-retention", run(ctx, os.Args[1:], os.Stdout)))
}

func run(ctx context.Context, args []string, stdout io.Writer) (err error) {
	role := "demo"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		role, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("08-retention "+role, flag.ContinueOnError)
	var (
		serverURL     string
		retentionName *string
	)
	switch role {
	case "demo":
	case "show", "swap":
		fs.StringVar(&serverURL, "server", os.Getenv("NATS_URL"), "NATS server URL; empty starts an embedded server (default $NATS_URL)")
		if role == "swap" {
			retentionName = fs.String("retention", "", "the retention example_stream gets: limits, interest or workqueue")
		}
	default:
		return cli.Usagef(usage, "unknown role %q", role)
	}
	if err := cli.Parse(fs, usage, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return cli.Usagef(usage, "unexpected argument %q", fs.Arg(0))
	}
	var retention jetstream.RetentionPolicy
	if role == "swap" {
		if retention, err = parseRetention(*retentionName); err != nil {
			return cli.Usagef(usage, "%v", err)
		}
		if serverURL == "" {
			// An embedded server would take the changed stream with it on exit.
			return cli.Usagef(usage, "swap changes example_stream on a running server: set NATS_URL or pass -server")
		}
	}
	if role == "demo" && os.Getenv("NATS_URL") != "" {
		// The demo creates streams named limits, interest and workqueue. On the
		// reader's server they would stay, and a second run would find them full.
		fmt.Fprintln(os.Stderr, "08-retention: the demo creates its own streams, so it starts its own embedded server; NATS_URL is for the show and swap roles")
	}

	url, stopServer, err := embedded.URLOrStart(serverURL)
	if err != nil {
		return err
	}
	defer stopServer()
	ctx, closeOption := connect.CancelOnClose(ctx)
	nc, err := connect.To(url, "08-retention "+role, closeOption)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, connect.Drain(nc)) }()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	js, err := connect.JetStream(ctx, nc)
	if err != nil {
		return err
	}

	switch role {
	case "show":
		return show(ctx, js, stdout)
	case "swap":
		return swap(ctx, js, stdout, retention)
	default:
		return demo(ctx, js, stdout)
	}
}

// docs:start codes
// The server's error codes for the rules this chapter shows. nats.go v1.55
// has no constants for them (see jetstream/errors.go), so the chapter names them.
const (
	codeStoreFailed          jetstream.ErrorCode = 10077 // DiscardNew: "maximum messages exceeded", "maximum bytes exceeded"
	codeWQPullNeedsAck       jetstream.ErrorCode = 10084 // work queue: a pull consumer must ack explicitly
	codeWQNeedsExplicitAck   jetstream.ErrorCode = 10098 // work queue: any consumer must ack explicitly
	codeWQMultipleUnfiltered jetstream.ErrorCode = 10099 // work queue: a second consumer without a filter
	codeWQNotUnique          jetstream.ErrorCode = 10100 // work queue: a filter that overlaps another consumer's
	codeWQNotDeliverAll      jetstream.ErrorCode = 10101 // work queue: a consumer must start at the beginning
)

// apiCode is the server's error code in err, or 0 if err is not an API error.
func apiCode(err error) jetstream.ErrorCode {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode
	}
	return 0
}

// refusal says what the server refused, in its own words, with its code.
func refusal(err error) string {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		return fmt.Sprintf("%s (%d)", apiErr.Description, apiErr.ErrorCode)
	}
	return err.Error()
}

// docs:end codes

// docs:start policies
// policies are the three retention policies, named as the -retention flag
// and the demo's streams name them.
var policies = []struct {
	name      string
	retention jetstream.RetentionPolicy
}{
	{"limits", jetstream.LimitsPolicy},
	{"interest", jetstream.InterestPolicy},
	{"workqueue", jetstream.WorkQueuePolicy},
}

// policyStream creates a stream named after its retention policy, capturing
// retention.<name>. Nothing else differs between the three: the limits are
// generous, so that only the policy decides what is removed.
func policyStream(ctx context.Context, js jetstream.JetStream, name string, retention jetstream.RetentionPolicy) (jetstream.Stream, error) {
	stream, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name:      name,
		Subjects:  []string{"retention." + name},
		Retention: retention,
		Storage:   jetstream.FileStorage,
		MaxAge:    time.Hour,
		MaxMsgs:   1000,
	})
	if err != nil {
		return nil, fmt.Errorf("create stream %q: %w", name, err)
	}
	return stream, nil
}

// docs:end policies

func parseRetention(name string) (jetstream.RetentionPolicy, error) {
	for _, p := range policies {
		if p.name == name {
			return p.retention, nil
		}
	}
	if name == "" {
		return 0, errors.New("-retention is required: limits, interest or workqueue")
	}
	return 0, fmt.Errorf("-retention %q: want limits, interest or workqueue", name)
}

func retentionName(r jetstream.RetentionPolicy) string {
	for _, p := range policies {
		if p.retention == r {
			return p.name
		}
	}
	return r.String()
}

// docs:start demo-helpers
// durable creates a named consumer that reads the whole stream and must ack
// each message: the same consumer for every policy.
func durable(ctx context.Context, stream jetstream.Stream, name string) (jetstream.Consumer, error) {
	return stream.CreateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:       name,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
	})
}

// receiveAll fetches every message the consumer has not delivered yet, and
// acks none of them.
func receiveAll(ctx context.Context, cons jetstream.Consumer) ([]jetstream.Msg, error) {
	info, err := cons.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("read consumer info: %w", err)
	}
	if info.NumPending == 0 {
		return nil, nil
	}
	batch, err := cons.Fetch(int(info.NumPending), jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		return nil, fmt.Errorf("fetch from %q: %w", info.Name, err)
	}
	var msgs []jetstream.Msg
	for msg := range batch.Messages() {
		msgs = append(msgs, msg)
	}
	if err := batch.Error(); err != nil {
		return nil, fmt.Errorf("fetch from %q: %w", info.Name, err)
	}
	if len(msgs) != int(info.NumPending) {
		return nil, fmt.Errorf("fetch from %q: got %d of %d messages", info.Name, len(msgs), info.NumPending)
	}
	return msgs, nil
}

// ackAll acks each message and waits until the server has recorded it.
func ackAll(ctx context.Context, msgs []jetstream.Msg) error {
	for _, msg := range msgs {
		if err := msg.DoubleAck(ctx); err != nil {
			return fmt.Errorf("ack %s: %w", msg.Subject(), err)
		}
	}
	return nil
}

// stored is how many messages the stream holds now.
func stored(ctx context.Context, stream jetstream.Stream) (uint64, error) {
	info, err := stream.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("read stream info: %w", err)
	}
	return info.State.Msgs, nil
}

// settle waits until the stream holds want messages. The server removes an
// acked message in the background, a moment after it confirmed the ack.
func settle(ctx context.Context, stream jetstream.Stream, want uint64) (uint64, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for {
		got, err := stored(ctx, stream)
		if err != nil || got == want {
			return got, err
		}
		select {
		case <-ctx.Done():
			return got, fmt.Errorf("stream %q holds %d messages, expected %d: %w", stream.CachedInfo().Config.Name, got, want, context.Cause(ctx))
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// docs:end demo-helpers

// docs:start demo
// demo does the same things to a limits, an interest and a work-queue stream
// and prints a table: after each step, what each stream still stores.
func demo(ctx context.Context, js jetstream.JetStream, out io.Writer) error {
	t := &table{out: out}
	for _, p := range policies {
		stream, err := policyStream(ctx, js, p.name, p.retention)
		if err != nil {
			return err
		}
		t.lanes = append(t.lanes, &lane{name: p.name, stream: stream})
	}
	publish := func(from, to int) cell {
		return func(_ int, l *lane) (string, error) {
			var seqs []string
			for i := from; i <= to; i++ {
				ack, err := js.Publish(ctx, "retention."+l.name, fmt.Appendf(nil, "Message %d", i))
				if err != nil {
					return "", fmt.Errorf("publish Message %d: %w", i, err)
				}
				seqs = append(seqs, fmt.Sprint(ack.Sequence))
			}
			return strings.Join(seqs, " "), nil
		}
	}
	// want is what each policy's rule predicts. settle waits for it (removal
	// happens a moment after the ack), and the demo fails if it never comes.
	stored := func(want ...uint64) cell {
		return func(i int, l *lane) (string, error) {
			got, err := settle(ctx, l.stream, want[i])
			return fmt.Sprint(got), err
		}
	}
	var refused []string

	fmt.Fprintln(out, "The same steps on three streams that differ only in their retention policy:")
	t.row("", func(_ int, l *lane) (string, error) { return l.name, nil })
	t.note("1. Publish Message 1 and 2; no consumer yet.")
	t.row("   PubAck sequences", publish(1, 2))
	t.row("   stored", stored(2, 0, 2))
	t.row(`2. Add a durable consumer "reader".`, func(_ int, l *lane) (_ string, err error) {
		l.reader, err = durable(ctx, l.stream, "reader")
		return "created", err
	})
	t.note("3. Publish Message 3 and 4.")
	t.row("   PubAck sequences", publish(3, 4))
	t.row("   stored", stored(4, 2, 4))
	t.row(`4. Add a second one, "auditor".`, func(_ int, l *lane) (string, error) {
		auditor, err := durable(ctx, l.stream, "auditor")
		if apiCode(err) == codeWQMultipleUnfiltered {
			refused = append(refused, fmt.Sprintf("The %s stream refused \"auditor\":\n  %s", l.name, refusal(err)))
			return "refused", nil
		}
		l.auditor = auditor
		return "created", err
	})
	t.note(`5. "reader" fetches, acks nothing yet.`)
	t.row("   received", func(_ int, l *lane) (_ string, err error) {
		l.received, err = receiveAll(ctx, l.reader)
		return fmt.Sprint(len(l.received)), err
	})
	t.row("   stored", stored(4, 2, 4))
	t.note(`6. "reader" acks what it received.`)
	t.row("   acked", func(_ int, l *lane) (string, error) {
		return fmt.Sprint(len(l.received)), ackAll(ctx, l.received)
	})
	t.row("   stored", stored(4, 2, 0))
	t.note(`7. "auditor" fetches and acks.`)
	t.row("   acked", func(_ int, l *lane) (string, error) {
		if l.auditor == nil {
			return "-", nil
		}
		msgs, err := receiveAll(ctx, l.auditor)
		if err != nil {
			return "", err
		}
		return fmt.Sprint(len(msgs)), ackAll(ctx, msgs)
	})
	t.row("   stored", stored(4, 0, 0))
	if t.err != nil {
		return t.err
	}
	for _, line := range refused {
		fmt.Fprintln(out, line)
	}
	return nil
}

// docs:end demo

// docs:start table
// lane is one policy's stream in the demo, with its two consumers.
type lane struct {
	name            string
	stream          jetstream.Stream
	reader, auditor jetstream.Consumer // auditor stays nil where the server refuses it
	received        []jetstream.Msg
}

// A cell does one step to the i-th lane and says what came of it.
type cell func(i int, l *lane) (string, error)

// table prints the demo: one row per step, one column per lane. After the
// first error it does nothing more, and err says what failed.
type table struct {
	out   io.Writer
	lanes []*lane
	err   error
}

func (t *table) note(line string) {
	if t.err == nil {
		fmt.Fprintln(t.out, line)
	}
}

func (t *table) row(label string, step cell) {
	if t.err != nil {
		return
	}
	cells := make([]any, len(t.lanes))
	for i, l := range t.lanes {
		text, err := step(i, l)
		if err != nil {
			t.err = fmt.Errorf("%s stream, %s: %w", l.name, strings.TrimSpace(label), err)
			return
		}
		cells[i] = text
	}
	fmt.Fprintf(t.out, "%-40s%-10s%-10s%s\n", append([]any{label}, cells...)...)
}

// docs:end table

// docs:start discard
// limitedStream keeps at most three messages. What happens to a fourth is
// the discard policy's choice: DiscardOld removes the oldest to make room,
// DiscardNew refuses the new one.
func limitedStream(ctx context.Context, js jetstream.JetStream, name string, discard jetstream.DiscardPolicy) (jetstream.Stream, error) {
	stream, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name:      name,
		Subjects:  []string{name},
		Retention: jetstream.LimitsPolicy,
		MaxMsgs:   3,
		Discard:   discard,
	})
	if err != nil {
		return nil, fmt.Errorf("create stream %q: %w", name, err)
	}
	return stream, nil
}

// publishOrRefused publishes one message and says what became of it. A
// refusal by a full DiscardNew stream is an answer, not a failure: the
// publisher learns that the message was not stored.
func publishOrRefused(ctx context.Context, js jetstream.JetStream, out io.Writer, subject, data string) error {
	ack, err := js.Publish(ctx, subject, []byte(data))
	switch {
	case apiCode(err) == codeStoreFailed:
		fmt.Fprintf(out, "  %s refused: %s\n", data, refusal(err))
		return nil
	case err != nil:
		return fmt.Errorf("publish %q to %s: %w", data, subject, err)
	}
	fmt.Fprintf(out, "  %s stored at seq %d\n", data, ack.Sequence)
	return nil
}

// docs:end discard

// docs:start show
// show prints example_stream's retention and what it stores right now.
func show(ctx context.Context, js jetstream.JetStream, out io.Writer) error {
	stream, err := js.Stream(ctx, examplestream.Name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("stream %q does not exist (create it with \"go run ./chapters/03-stream\")", examplestream.Name)
	}
	if err != nil {
		return fmt.Errorf("look up stream %q: %w", examplestream.Name, err)
	}
	info := stream.CachedInfo()
	fmt.Fprintf(out, "%s: %s retention, %s stored, last sequence %d, %s\n", examplestream.Name,
		retentionName(info.Config.Retention), plural(int(info.State.Msgs), "message"), info.State.LastSeq,
		plural(info.State.Consumers, "consumer"))
	return nil
}

// docs:end show

// docs:start swap
// swap replaces example_stream with one that differs only in its retention,
// as the seed's comment "LIMITS, INTEREST, or WORK_QUEUE" invites. The
// server cannot change retention to or from work queue in place. swap
// therefore always deletes the stream, with every message and consumer, and
// creates it again, even between limits and interest, where an update would
// work.
func swap(ctx context.Context, js jetstream.JetStream, out io.Writer, retention jetstream.RetentionPolicy) error {
	cfg := examplestream.Config()
	cfg.Retention = retention
	old, err := js.Stream(ctx, cfg.Name)
	switch {
	case errors.Is(err, jetstream.ErrStreamNotFound):
		fmt.Fprintf(out, "Stream %q does not exist yet; nothing to delete.\n", cfg.Name)
	case err != nil:
		return fmt.Errorf("look up stream %q: %w", cfg.Name, err)
	case old.CachedInfo().Config.Retention == retention:
		fmt.Fprintf(out, "Stream %q already has %s retention; nothing changed.\n", cfg.Name, retentionName(retention))
		return nil
	default:
		info := old.CachedInfo()
		if err := js.DeleteStream(ctx, cfg.Name); err != nil {
			return fmt.Errorf("delete stream %q: %w", cfg.Name, err)
		}
		fmt.Fprintf(out, "Deleted stream %q (%s retention) and with it %s and %s.\n", cfg.Name,
			retentionName(info.Config.Retention), plural(int(info.State.Msgs), "message"), plural(info.State.Consumers, "consumer"))
	}
	if _, err := js.CreateStream(ctx, cfg); err != nil {
		return fmt.Errorf("create stream %q with %s retention: %w", cfg.Name, retentionName(retention), err)
	}
	fmt.Fprintf(out, "Created stream %q with %s retention, otherwise as chapter 03 configures it.\n", cfg.Name, retentionName(retention))
	switch retention {
	case jetstream.WorkQueuePolicy:
		fmt.Fprintln(out, "Now a message goes once a consumer acks it, and each subject may have only one consumer.")
	case jetstream.InterestPolicy:
		fmt.Fprintln(out, "Now a message is stored only for the consumers that exist, and goes once all of them acked it.")
	default:
		fmt.Fprintln(out, "Now messages stay until a limit removes them, as chapters 04 to 06 expect.")
	}
	return nil
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// docs:end swap
