package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
)

// stored is one message of the stream as verify reads it.
type stored struct {
	seq  uint64
	data string
	id   string // its Nats-Msg-Id header
}

// readAll reads every message of ORDERS in stream order, one by one from
// the stream's leader. A consumer would do it faster, but right after a
// crash the cluster may still be placing new consumers.
func readAll(ctx context.Context, stream jetstream.Stream) ([]stored, error) {
	info, err := stream.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the state of %s: %w", streamName, err)
	}
	var all []stored
	for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
		msg, err := stream.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue // deleted
		}
		if err != nil {
			return nil, fmt.Errorf("read %s at seq %d: %w", streamName, seq, err)
		}
		all = append(all, stored{seq, string(msg.Data), msg.Header.Get(jetstream.MsgIDHeader)})
	}
	return all, nil
}

// checkOnce returns a problem for each message ID stored more than once,
// and for each message stored under another message's ID.
func checkOnce(msgs []stored) []string {
	var problems []string
	first := make(map[string]uint64)
	for _, m := range msgs {
		if prev, ok := first[m.id]; ok {
			problems = append(problems, fmt.Sprintf("message ID %q is stored twice, at seq %d and %d", m.id, prev, m.seq))
			continue
		}
		first[m.id] = m.seq
		if n, ok := strings.CutPrefix(m.data, "Message "); !ok || m.id != "message-"+n {
			problems = append(problems, fmt.Sprintf("seq %d holds %q with message ID %q", m.seq, m.data, m.id))
		}
	}
	return problems
}

// publishedLine is how the publish role prints a PubAck.
var publishedLine = regexp.MustCompile(`^Published: Message ([0-9]+) \(stream [^,]+, seq ([0-9]+)`)

// checkAcked returns a problem for each message that the publisher's output
// says was acknowledged at some seq, but that the stream does not hold there.
func checkAcked(msgs []stored, output io.Reader) (acked int, problems []string, err error) {
	bySeq := make(map[uint64]string, len(msgs))
	for _, m := range msgs {
		bySeq[m.seq] = m.data
	}
	lines := bufio.NewScanner(output)
	for lines.Scan() {
		m := publishedLine.FindStringSubmatch(lines.Text())
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

// replicas describes where the stream is: its leader, and whether each
// follower is current, as the leader sees them.
func replicas(info *jetstream.StreamInfo) string {
	if info.Cluster == nil || info.Cluster.Leader == "" {
		return fmt.Sprintf("%s has no leader (are two of its three nodes running?)", streamName)
	}
	var peers []string
	for _, p := range info.Cluster.Replicas {
		state := "current"
		switch {
		case p.Offline:
			state = "offline"
		case !p.Current:
			state = fmt.Sprintf("not current, %d operations behind", p.Lag)
		}
		peers = append(peers, p.Name+" "+state)
	}
	slices.Sort(peers)
	return fmt.Sprintf("%s is led by %s; its other replicas: %s", streamName, info.Cluster.Leader, strings.Join(peers, ", "))
}

// verify checks that ORDERS holds each message ID once and, given the
// publish role's output, every acknowledged message where its PubAck said.
func verify(ctx context.Context, stream jetstream.Stream, out io.Writer, ackedFile string) error {
	msgs, err := readAll(ctx, stream)
	if err != nil {
		return err
	}
	problems := checkOnce(msgs)
	if len(problems) == 0 {
		fmt.Fprintf(out, "%s holds %d messages, each message ID once.\n", streamName, len(msgs))
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
			return fmt.Errorf("%s has no \"Published:\" lines: is it the output of 10-cluster publish?", ackedFile)
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
		return fmt.Errorf("%s does not hold what was published: %s", streamName, strings.Join(problems, "; "))
	}
	info, err := stream.Info(ctx)
	if err != nil {
		return fmt.Errorf("read where %s is: %w", streamName, err)
	}
	fmt.Fprintln(out, replicas(info)+".")
	return nil
}
