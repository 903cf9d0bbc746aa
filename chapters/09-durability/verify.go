package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

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
