// Chapter 09 is durability and acknowledgements: what the seed's
// "내구성 있는 메시징" (durable messaging) and "확인 응답을 통한 향상된 발행"
// (publishing with acknowledgements) promise, shown and tested.
//
//	go run ./chapters/09-durability                          the whole scenario, on an embedded server it restarts
//	go run ./chapters/09-durability publish [-count 0]        publish to file_stream, printing every PubAck, until Ctrl+C
//	go run ./chapters/09-durability verify [-acked FILE]      check file_stream against what the publisher saw acknowledged
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/cli"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/connect"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/embedded"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

const usage = `usage: 09-durability                                              (the whole scenario, on its own embedded server)
       09-durability publish [-server URL] [-count N] [-from K] [-interval D]
       09-durability verify [-server URL] [-acked FILE]`

// docs:start streams
const (
	fileStream      = "file_stream"
	memoryStream    = "memory_stream"
	messagesSubject = "file.messages" // the publish and verify roles, and the demo's restart
	tasksSubject    = "file.tasks"    // the demo's acknowledgements
)

// streamConfig is one stream, stored on disk or in memory: storage is the
// seed's "storage=StorageType.FILE, # Storage type: MEMORY or FILE".
func streamConfig(name, subjects string, storage jetstream.StorageType) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:     name,
		Subjects: []string{subjects},
		Storage:  storage,
		// No MaxAge: messages stay until deleted, and the duplicates window
		// keeps its default of two minutes (a shorter MaxAge would cap it).
	}
}

var (
	fileConfig   = streamConfig(fileStream, "file.>", jetstream.FileStorage)
	memoryConfig = streamConfig(memoryStream, "memory.>", jetstream.MemoryStorage)
)

// docs:end streams

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(cli.Exit("09-durability", run(ctx, os.Args[1:], os.Stdout)))
}

func run(ctx context.Context, args []string, stdout io.Writer) (err error) {
	role := "demo"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		role, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("09-durability "+role, flag.ContinueOnError)
	var (
		serverURL   string
		count, from *int
		interval    *time.Duration
		ackedFile   *string
	)
	switch role {
	case "demo":
	case "publish", "verify":
		fs.StringVar(&serverURL, "server", os.Getenv("NATS_URL"), "NATS server URL; empty starts an embedded server (default $NATS_URL)")
		if role == "publish" {
			count = fs.Int("count", 0, "messages to publish (0: until Ctrl+C)")
			from = fs.Int("from", 1, "number of the first message; its message ID is message-K, so a repeat is recognised")
			interval = fs.Duration("interval", 0, "pause between publishes")
		} else {
			ackedFile = fs.String("acked", "", "the publish role's output: check that every message it saw acknowledged is stored")
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
	switch {
	case count != nil && *count < 0:
		return cli.Usagef(usage, "-count must not be negative")
	case from != nil && *from < 1:
		return cli.Usagef(usage, "-from must be at least 1")
	case interval != nil && *interval < 0:
		return cli.Usagef(usage, "-interval must not be negative")
	}

	if role == "demo" {
		if os.Getenv("NATS_URL") != "" {
			fmt.Fprintln(os.Stderr, "09-durability: the demo restarts its server, so it starts its own embedded one; NATS_URL is for the publish and verify roles")
		}
		return demo(ctx, stdout)
	}

	url, stopServer, err := embedded.URLOrStart(serverURL)
	if err != nil {
		return err
	}
	defer stopServer()
	if serverURL == "" && role == "verify" {
		fmt.Fprintln(os.Stderr, "09-durability: verify started an empty embedded server; set NATS_URL or -server to check a real one")
	}
	ctx, closeOption := connect.CancelOnClose(ctx)
	nc, err := connect.To(url, "09-durability "+role, closeOption)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, connect.Drain(nc)) }()
	js, err := connect.JetStream(ctx, nc)
	if err != nil {
		return err
	}
	stream, err := ensureStream(ctx, js, fileConfig, stdout)
	if err != nil {
		return err
	}
	if role == "publish" {
		p := publisher{js: js, out: stdout, log: os.Stderr, timeout: attemptTimeout, attempts: maxAttempts, interval: *interval}
		return p.run(ctx, stream, *from, *count)
	}
	return verify(ctx, stream, stdout, *ackedFile)
}

// ensureStream returns the stream named in cfg, creating it if it does not
// exist. An existing stream is used as it is.
func ensureStream(ctx context.Context, js jetstream.JetStream, cfg jetstream.StreamConfig, out io.Writer) (jetstream.Stream, error) {
	stream, err := js.Stream(ctx, cfg.Name)
	if err == nil {
		return stream, nil
	}
	if !errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, fmt.Errorf("look up stream %q: %w", cfg.Name, err)
	}
	stream, err = js.CreateStream(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("create stream %q: %w", cfg.Name, err)
	}
	fmt.Fprintf(out, "Created stream %q (%s storage, subjects %s).\n", cfg.Name, storageName(cfg.Storage), strings.Join(cfg.Subjects, ", "))
	return stream, nil
}

func storageName(storage jetstream.StorageType) string {
	if storage == jetstream.MemoryStorage {
		return "memory"
	}
	return "file"
}

// docs:start publish
const (
	attemptTimeout = 2 * time.Second // one publish waits this long for its PubAck...
	maxAttempts    = 5               // ...and is sent this many times before the publisher gives up
)

// message and messageID name the publisher's message number n. The ID is
// what lets the stream recognise a repeat of the same message.
func message(n int) string   { return fmt.Sprintf("Message %d", n) }
func messageID(n int) string { return fmt.Sprintf("message-%d", n) }

// A publisher publishes Message 1, 2, ... to file.messages and prints every
// PubAck. A publish that gets no answer may or may not have been stored, so
// it is sent again with the same message ID: if the first attempt was stored
// after all, the stream answers "duplicate" instead of storing it twice.
type publisher struct {
	js       jetstream.JetStream
	out, log io.Writer     // PubAcks; retries
	timeout  time.Duration // how long one attempt waits for its PubAck
	attempts int           // how many times a message is sent before giving up
	interval time.Duration // pause between messages
}

// publish publishes message n until it is acknowledged, and returns its PubAck.
func (p publisher) publish(ctx context.Context, n int) (*jetstream.PubAck, error) {
	var err error
	for attempt := 1; attempt <= p.attempts; attempt++ {
		attemptCtx, cancel := context.WithTimeout(ctx, p.timeout)
		var ack *jetstream.PubAck
		ack, err = p.js.Publish(attemptCtx, messagesSubject, []byte(message(n)), jetstream.WithMsgID(messageID(n)))
		cancel()
		if err == nil {
			return ack, nil
		}
		if ctx.Err() != nil || !unanswered(err) {
			break
		}
		fmt.Fprintf(p.log, "09-durability publish: %s was not acknowledged (%v); sending it again with the same message ID %q\n", message(n), err, messageID(n))
	}
	switch {
	case ctx.Err() != nil:
		return nil, context.Cause(ctx)
	case connect.Closed(err): // reconnecting failed; ctx may not know yet
		return nil, connect.ErrConnectionLost
	}
	return nil, err
}

// unanswered says whether err means that no PubAck came back: the server
// may have stored the message, or not.
func unanswered(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) ||
		errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, nats.ErrNoResponders)
}

// run publishes count messages from number from on (count 0: until ctx ends).
func (p publisher) run(ctx context.Context, stream jetstream.Stream, from, count int) error {
	window := stream.CachedInfo().Config.Duplicates
	fmt.Fprintf(p.out, "Publishing to %s from %s on, each with a message ID. Press Ctrl+C to stop.\n", messagesSubject, message(from))
	acked := 0
	for n := from; count == 0 || n < from+count; n++ {
		ack, err := p.publish(ctx, n)
		if errors.Is(err, context.Canceled) { // Ctrl+C
			fmt.Fprintf(p.out, "Publisher stopped after %d acknowledged messages. To go on: publish -from %d.\n", acked, n)
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s was not acknowledged: %w. It may or may not be stored: publish -from %d within the stream's %s duplicates window sends it again, and a stored copy is not stored twice", message(n), err, n, window)
		}
		acked++
		duplicate := ""
		if ack.Duplicate {
			duplicate = ", duplicate: already stored"
		}
		fmt.Fprintf(p.out, "Acknowledged: %s (seq %d%s)\n", message(n), ack.Sequence, duplicate)
		if p.interval > 0 && (count == 0 || n+1 < from+count) {
			select {
			case <-ctx.Done():
			case <-time.After(p.interval):
			}
		}
	}
	return nil
}

// docs:end publish

// docs:start verify
// stored is what the stream holds at one sequence.
type stored struct {
	seq  uint64
	data string
}

// readAll reads every message on file.messages, in stream order, with an
// ordered consumer: no state on the server beyond the read itself.
func readAll(ctx context.Context, stream jetstream.Stream) ([]stored, error) {
	info, err := stream.Info(ctx, jetstream.WithSubjectFilter(messagesSubject))
	if err != nil {
		return nil, fmt.Errorf("read the state of %s: %w", fileStream, err)
	}
	if info.State.Subjects[messagesSubject] == 0 {
		return nil, nil
	}
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{messagesSubject}})
	if err != nil {
		return nil, fmt.Errorf("create a consumer to read %s: %w", fileStream, err)
	}
	msgs, err := cons.Messages()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", fileStream, err)
	}
	defer msgs.Stop()
	var all []stored
	for {
		nextCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		msg, err := msgs.Next(jetstream.NextContext(nextCtx))
		cancel()
		if err != nil {
			return nil, fmt.Errorf("read %s after %d messages: %w", fileStream, len(all), err)
		}
		meta, err := msg.Metadata()
		if err != nil {
			return nil, fmt.Errorf("read message metadata: %w", err)
		}
		all = append(all, stored{meta.Sequence.Stream, string(msg.Data())})
		if meta.NumPending == 0 {
			return all, nil
		}
	}
}

var messageNumber = regexp.MustCompile(`^Message ([1-9][0-9]*)$`)

// checkOnceInOrder returns a problem for each way msgs are not exactly
// Message 1 to Message N, once each, in this order.
func checkOnceInOrder(msgs []stored) []string {
	var problems []string
	for i, m := range msgs {
		if want := message(i + 1); m.data != want {
			problems = append(problems, fmt.Sprintf("seq %d holds %q where %q was due (a message is missing, stored twice or out of order)", m.seq, m.data, want))
			break // everything after a gap or a repeat is shifted: one report is enough
		}
	}
	return problems
}

// ackedLine is how the publish role prints a PubAck.
var ackedLine = regexp.MustCompile(`^Acknowledged: Message ([0-9]+) \(seq ([0-9]+)`)

// checkAcked returns a problem for each message that the publisher's output
// says was acknowledged at some seq, but that the stream does not hold there.
func checkAcked(msgs []stored, output io.Reader) (acked int, problems []string, err error) {
	bySeq := make(map[uint64]string, len(msgs))
	for _, m := range msgs {
		bySeq[m.seq] = m.data
	}
	lines := bufio.NewScanner(output)
	for lines.Scan() {
		m := ackedLine.FindStringSubmatch(lines.Text())
		if m == nil {
			continue
		}
		n, err := strconv.Atoi(m[1])
		if err != nil {
			return 0, nil, fmt.Errorf("read %q: %w", lines.Text(), err)
		}
		seq, err := strconv.ParseUint(m[2], 10, 64)
		if err != nil {
			return 0, nil, fmt.Errorf("read %q: %w", lines.Text(), err)
		}
		acked++
		if got, ok := bySeq[seq]; !ok || got != message(n) {
			problems = append(problems, fmt.Sprintf("%s was acknowledged at seq %d, but the stream holds %q there", message(n), seq, got))
		}
	}
	return acked, problems, lines.Err()
}

// verify checks that file.messages holds Message 1 to N once each, in order,
// and, given the publish role's output, that every message it saw
// acknowledged is stored at the sequence its PubAck named.
func verify(ctx context.Context, stream jetstream.Stream, out io.Writer, ackedFile string) error {
	msgs, err := readAll(ctx, stream)
	if err != nil {
		return err
	}
	problems := checkOnceInOrder(msgs)
	if len(msgs) == 0 {
		fmt.Fprintf(out, "%s holds no messages on %s.\n", fileStream, messagesSubject)
	} else if len(problems) == 0 {
		fmt.Fprintf(out, "%s holds Message 1 to Message %d on %s, each once and in order.\n", fileStream, len(msgs), messagesSubject)
	}
	if ackedFile != "" {
		f, err := os.Open(ackedFile)
		if err != nil {
			return fmt.Errorf("open the publisher's output: %w", err)
		}
		defer f.Close()
		acked, ackProblems, err := checkAcked(msgs, f)
		if err != nil {
			return fmt.Errorf("read %s: %w", ackedFile, err)
		}
		if acked == 0 {
			return fmt.Errorf("%s has no \"Acknowledged:\" lines: is it the output of 09-durability publish?", ackedFile)
		}
		if len(ackProblems) == 0 {
			fmt.Fprintf(out, "All %d messages acknowledged in %s are stored at the sequence their PubAck named.\n", acked, ackedFile)
		}
		problems = append(problems, ackProblems...)
	}
	if len(problems) > 0 {
		if len(problems) > 3 {
			problems = append(problems[:3], fmt.Sprintf("and %d more", len(problems)-3))
		}
		return fmt.Errorf("%s does not hold what was published: %s", fileStream, strings.Join(problems, "; "))
	}
	return nil
}

// docs:end verify

// docs:start demo
// demo runs the chapter in one process. It needs a server it can restart,
// so it always starts its own, with the store in a new directory.
func demo(ctx context.Context, out io.Writer) (err error) {
	store, err := os.MkdirTemp("", "09-durability-*")
	if err != nil {
		return fmt.Errorf("create a store directory for the demo: %w", err)
	}
	defer func() {
		if rmErr := os.RemoveAll(store); rmErr != nil {
			err = errors.Join(err, fmt.Errorf("remove the demo's store %s: %w", store, rmErr))
		}
	}()
	fmt.Fprintln(out, "== File and memory storage across a restart (파일 저장 / 메모리 저장) ==")
	if err := withServer(ctx, store, func(ctx context.Context, js jetstream.JetStream) error {
		return beforeRestart(ctx, js, out)
	}); err != nil {
		return err
	}
	fmt.Fprintln(out, "Restarting the server on the same store directory.")
	return withServer(ctx, store, func(ctx context.Context, js jetstream.JetStream) error {
		file, err := afterRestart(ctx, js, out)
		if err != nil {
			return err
		}
		fmt.Fprintln(out, "\n== Publishing with a message ID (dedupe) ==")
		if err := dedupe(ctx, js, file, out); err != nil {
			return err
		}
		fmt.Fprintln(out, "\n== Expected last sequence ==")
		if err := expectLastSequence(ctx, js, file, out); err != nil {
			return err
		}
		fmt.Fprintln(out, "\n== Acknowledgements ==")
		return acknowledgements(ctx, js, file, out)
	})
}

// withServer starts a server on store, connects to it, runs f, then
// disconnects and shuts the server down cleanly (as Ctrl+C does in chapter 01).
func withServer(ctx context.Context, store string, f func(context.Context, jetstream.JetStream) error) (err error) {
	s, err := embedded.Start(embedded.Options{StoreDir: store})
	if err != nil {
		return err
	}
	defer s.Stop() // Shutdown: every stream flushed and closed; the store stays
	ctx, closeOption := connect.CancelOnClose(ctx)
	nc, err := connect.To(s.URL(), "09-durability demo", closeOption)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, connect.Drain(nc)) }()
	js, err := connect.JetStream(ctx, nc)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second) // a stuck step fails the demo instead of hanging it
	defer cancel()
	return f(ctx, js)
}

// docs:end demo

// docs:start restart
// beforeRestart creates the same stream twice, on disk and in memory,
// publishes three messages to each, and lets a durable consumer on each
// receive and acknowledge two of them.
func beforeRestart(ctx context.Context, js jetstream.JetStream, out io.Writer) error {
	for _, cfg := range []jetstream.StreamConfig{fileConfig, memoryConfig} {
		stream, err := js.CreateStream(ctx, cfg)
		if err != nil {
			return fmt.Errorf("create stream %q: %w", cfg.Name, err)
		}
		subject := strings.TrimSuffix(cfg.Subjects[0], ">") + "messages"
		for n := 1; n <= 3; n++ {
			if _, err := js.Publish(ctx, subject, []byte(message(n)), jetstream.WithMsgID(messageID(n))); err != nil {
				return fmt.Errorf("publish %s to %s: %w", message(n), cfg.Name, err)
			}
		}
		reader, err := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: "reader", AckPolicy: jetstream.AckExplicitPolicy})
		if err != nil {
			return fmt.Errorf("create consumer \"reader\" on %s: %w", cfg.Name, err)
		}
		batch, err := reader.Fetch(2, jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			return fmt.Errorf("fetch from %s: %w", cfg.Name, err)
		}
		for msg := range batch.Messages() {
			if err := msg.DoubleAck(ctx); err != nil { // recorded by the server before the restart
				return fmt.Errorf("ack a message of %s: %w", cfg.Name, err)
			}
		}
		if err := batch.Error(); err != nil {
			return fmt.Errorf("fetch from %s: %w", cfg.Name, err)
		}
		fmt.Fprintf(out, "%s (%s storage): published Message 1 to 3; consumer \"reader\" received and acked 2 of them.\n", cfg.Name, storageName(cfg.Storage))
	}
	return nil
}

// afterRestart shows what is left of the two streams, and returns the file one.
func afterRestart(ctx context.Context, js jetstream.JetStream, out io.Writer) (jetstream.Stream, error) {
	file, err := js.Stream(ctx, fileStream)
	if err != nil {
		return nil, fmt.Errorf("%s after the restart: %w", fileStream, err)
	}
	reader, err := file.Consumer(ctx, "reader")
	if err != nil {
		return nil, fmt.Errorf("consumer \"reader\" of %s after the restart: %w", fileStream, err)
	}
	info := reader.CachedInfo()
	fmt.Fprintf(out, "%s after the restart: %d messages; consumer \"reader\" has acked up to seq %d, %d message still to deliver.\n",
		fileStream, file.CachedInfo().State.Msgs, info.AckFloor.Stream, info.NumPending)

	_, err = js.Stream(ctx, memoryStream)
	if !errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, fmt.Errorf("%s after the restart: %v, want stream not found", memoryStream, err)
	}
	fmt.Fprintf(out, "%s after the restart: stream not found (error %d). Its messages, its consumer and its definition are gone.\n", memoryStream, jetstream.JSErrCodeStreamNotFound)
	return file, nil
}

// docs:end restart

// docs:start dedupe
// dedupe publishes Message 3 again with its message ID, as a publisher does
// that never got the first PubAck: the stream recognises it, even across
// the restart, and stores nothing.
func dedupe(ctx context.Context, js jetstream.JetStream, file jetstream.Stream, out io.Writer) error {
	ack, err := js.Publish(ctx, messagesSubject, []byte(message(3)), jetstream.WithMsgID(messageID(3)))
	if err != nil {
		return fmt.Errorf("publish %s again: %w", message(3), err)
	}
	if !ack.Duplicate {
		return fmt.Errorf("%s published again with ID %q was stored again as seq %d", message(3), messageID(3), ack.Sequence)
	}
	info, err := file.Info(ctx)
	if err != nil {
		return fmt.Errorf("read the state of %s: %w", fileStream, err)
	}
	fmt.Fprintf(out, "Published %s again with message ID %q: duplicate of seq %d, not stored again (%s still holds %d messages).\n",
		message(3), messageID(3), ack.Sequence, fileStream, info.State.Msgs)
	fmt.Fprintf(out, "The stream remembers message IDs for its duplicates window, %s here, and the restart did not make it forget.\n", info.Config.Duplicates)
	return nil
}

// docs:end dedupe

// docs:start expect
// expectLastSequence publishes twice on the condition that the stream's last
// sequence is still the one read before: the first publish moves it, so the
// second is refused instead of being stored on top of a change it never saw.
func expectLastSequence(ctx context.Context, js jetstream.JetStream, file jetstream.Stream, out io.Writer) error {
	info, err := file.Info(ctx)
	if err != nil {
		return fmt.Errorf("read the state of %s: %w", fileStream, err)
	}
	last := info.State.LastSeq
	ack, err := js.Publish(ctx, messagesSubject, []byte(message(4)), jetstream.WithExpectLastSequence(last))
	if err != nil {
		return fmt.Errorf("publish %s expecting last sequence %d: %w", message(4), last, err)
	}
	fmt.Fprintf(out, "Published %s expecting the last sequence to be %d: stored as seq %d.\n", message(4), last, ack.Sequence)

	_, err = js.Publish(ctx, messagesSubject, []byte(message(5)), jetstream.WithExpectLastSequence(last))
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode != jetstream.JSErrCodeStreamWrongLastSequence {
		return fmt.Errorf("publish %s with a stale expected last sequence: %v, want error %d", message(5), err, jetstream.JSErrCodeStreamWrongLastSequence)
	}
	fmt.Fprintf(out, "Published %s expecting the last sequence to be %d again: refused with error %d, %q.\n", message(5), last, apiErr.ErrorCode, apiErr.Description)
	return nil
}

// docs:end expect

// docs:start acks
const (
	tasksConsumer         = "tasks"
	maxDeliver            = 3 // deliveries of one message, then the server gives up on it
	maxDeliveriesAdvisory = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES." + fileStream + "." + tasksConsumer
)

// acknowledgements shows each way a consumer can answer a delivery, one
// task at a time, so that which message comes next never depends on timing.
func acknowledgements(ctx context.Context, js jetstream.JetStream, file jetstream.Stream, out io.Writer) error {
	cons, err := file.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:       tasksConsumer,
		FilterSubject: tasksSubject,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       30 * time.Second, // unanswered this long: delivered again
		MaxDeliver:    maxDeliver,
	})
	if err != nil {
		return fmt.Errorf("create consumer %q: %w", tasksConsumer, err)
	}
	gaveUp, err := js.Conn().SubscribeSync(maxDeliveriesAdvisory)
	if err != nil {
		return fmt.Errorf("subscribe to the MAX_DELIVERIES advisories: %w", err)
	}
	defer func() { err = errors.Join(err, gaveUp.Unsubscribe()) }()
	if err := js.Conn().FlushWithContext(ctx); err != nil {
		return fmt.Errorf("subscribe to the MAX_DELIVERIES advisories: %w", err)
	}

	t := tasks{js: js, cons: cons, out: out}
	steps := []struct {
		answer string
		do     func(jetstream.Msg) error
	}{
		{"Ack: sent without waiting, so a lost ack goes unnoticed", func(m jetstream.Msg) error { return m.Ack() }},
		{"DoubleAck: the server confirmed it", func(m jetstream.Msg) error { return m.DoubleAck(ctx) }},
		{"InProgress (still working: AckWait starts again), then DoubleAck", func(m jetstream.Msg) error {
			return errors.Join(m.InProgress(), m.DoubleAck(ctx))
		}},
	}
	for _, step := range steps {
		if err := t.publish(ctx); err != nil {
			return err
		}
		if err := t.answer(ctx, step.answer, step.do); err != nil {
			return err
		}
	}

	// A task that fails: Nak hands it back at once, Term settles it for good.
	if err := t.publish(ctx); err != nil {
		return err
	}
	if err := t.answer(ctx, "Nak: deliver it again", jetstream.Msg.Nak); err != nil {
		return err
	}
	if err := t.answer(ctx, "TermWithReason: never deliver it again", func(m jetstream.Msg) error {
		return m.TermWithReason("the task cannot be done")
	}); err != nil {
		return err
	}

	// A poison message fails every time: MaxDeliver ends its redeliveries.
	if err := t.publish(ctx); err != nil {
		return err
	}
	for range maxDeliver {
		if err := t.answer(ctx, "Nak (it fails every time)", jetstream.Msg.Nak); err != nil {
			return err
		}
	}
	return t.poisoned(ctx, file, gaveUp)
}

// tasks publishes tasks and answers their deliveries for acknowledgements.
type tasks struct {
	js        jetstream.JetStream
	cons      jetstream.Consumer
	out       io.Writer
	published int
}

func (t *tasks) publish(ctx context.Context) error {
	t.published++
	if _, err := t.js.Publish(ctx, tasksSubject, fmt.Appendf(nil, "task %d", t.published)); err != nil {
		return fmt.Errorf("publish task %d: %w", t.published, err)
	}
	return nil
}

// answer takes the consumer's next delivery and answers it with do.
func (t *tasks) answer(ctx context.Context, answer string, do func(jetstream.Msg) error) error {
	nextCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	msg, err := t.cons.Next(jetstream.FetchContext(nextCtx))
	if err != nil {
		return fmt.Errorf("receive a task: %w", err)
	}
	meta, err := msg.Metadata()
	if err != nil {
		return fmt.Errorf("read task metadata: %w", err)
	}
	if err := do(msg); err != nil {
		return fmt.Errorf("answer seq %d: %w", meta.Sequence.Stream, err)
	}
	fmt.Fprintf(t.out, "seq %d %q, delivery %d: %s.\n", meta.Sequence.Stream, msg.Data(), meta.NumDelivered, answer)
	return nil
}

// poisoned waits until the server gives up on the poison message, which it
// announces with an advisory, and shows where the message is left.
func (t *tasks) poisoned(ctx context.Context, file jetstream.Stream, gaveUp *nats.Subscription) error {
	// The server notices when it would deliver the message again, that is
	// when a pull request is waiting: keep asking, and expect nothing.
	for {
		batch, err := t.cons.Fetch(1, jetstream.FetchMaxWait(100*time.Millisecond))
		if err != nil {
			return fmt.Errorf("pull after the last delivery: %w", err)
		}
		for msg := range batch.Messages() {
			return fmt.Errorf("delivered again after %d deliveries: %q", maxDeliver, msg.Data())
		}
		if err := batch.Error(); err != nil {
			return fmt.Errorf("pull after the last delivery: %w", err)
		}
		pending, _, err := gaveUp.Pending()
		if err != nil {
			return fmt.Errorf("wait for the MAX_DELIVERIES advisory: %w", err)
		}
		if pending > 0 {
			break
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("wait for the MAX_DELIVERIES advisory: %w", context.Cause(ctx))
		}
	}
	msg, err := gaveUp.NextMsg(time.Second)
	if err != nil {
		return fmt.Errorf("read the MAX_DELIVERIES advisory: %w", err)
	}
	var advisory struct {
		StreamSeq  uint64 `json:"stream_seq"`
		Deliveries uint64 `json:"deliveries"`
	}
	if err := json.Unmarshal(msg.Data, &advisory); err != nil {
		return fmt.Errorf("read the MAX_DELIVERIES advisory: %w", err)
	}
	fmt.Fprintf(t.out, "MAX_DELIVERIES advisory: seq %d was delivered %d times; the server will not deliver it again.\n", advisory.StreamSeq, advisory.Deliveries)

	info, err := t.cons.Info(ctx)
	if err != nil {
		return fmt.Errorf("read consumer %q: %w", tasksConsumer, err)
	}
	fmt.Fprintf(t.out, "Consumer %q: %d messages waiting for an answer, %d to deliver.\n", tasksConsumer, info.NumAckPending, info.NumPending)
	poison, err := file.GetMsg(ctx, advisory.StreamSeq)
	if err != nil {
		return fmt.Errorf("get seq %d: %w", advisory.StreamSeq, err)
	}
	fmt.Fprintf(t.out, "Seq %d is still in %s (%q): the advisory says where to find it.\n", poison.Sequence, fileStream, poison.Data)
	return nil
}

// docs:end acks
