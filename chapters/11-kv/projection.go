package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// docs:start events
// Chapter 07's event store, as it made it: stream accounts, one subject per
// account, each event the change and the balance after it. A chapter cannot
// import another, so the few lines it needs are written again here.
const (
	accountsStream   = "accounts"
	accountsSubjects = "accounts.*"
)

type accountEvent struct {
	Change  int `json:"change"`
	Balance int `json:"balance"`
}

// ensureAccounts binds to the accounts stream, creating it as chapter 07
// does if it is missing: no limits, so that no event is ever forgotten.
func ensureAccounts(ctx context.Context, js jetstream.JetStream) (jetstream.Stream, error) {
	stream, err := js.Stream(ctx, accountsStream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		stream, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: accountsStream, Subjects: []string{accountsSubjects}})
	}
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", accountsStream, err)
	}
	return stream, nil
}

// appendEvent appends change to the account's events as chapter 07's
// deposit role does: it reads the last event, and publishes only if that is
// still the last one (expected last subject sequence), else reads again.
func appendEvent(ctx context.Context, js jetstream.JetStream, stream jetstream.Stream, name string, change int) (uint64, accountEvent, error) {
	for {
		var last accountEvent
		var lastSeq uint64 // 0: the account has no event yet
		msg, err := stream.GetLastMsgForSubject(ctx, "accounts."+name)
		switch {
		case errors.Is(err, jetstream.ErrMsgNotFound):
		case err != nil:
			return 0, last, fmt.Errorf("read the last event of %s: %w", name, err)
		default:
			if err := json.Unmarshal(msg.Data, &last); err != nil {
				return 0, last, fmt.Errorf("event %d of %s: %w", msg.Sequence, name, err)
			}
			lastSeq = msg.Sequence
		}
		ev := accountEvent{Change: change, Balance: last.Balance + change}
		data, err := json.Marshal(ev)
		if err != nil {
			return 0, ev, fmt.Errorf("encode the event: %w", err)
		}
		ack, err := js.Publish(ctx, "accounts."+name, data, jetstream.WithExpectLastSequencePerSubject(lastSeq))
		if code := apiCode(err); code == jetstream.JSErrCodeStreamWrongLastSequence || code == jetstream.JSErrCodeStreamWrongLastSequenceConstant {
			continue // another writer appended first: read again
		}
		if err != nil {
			return 0, ev, fmt.Errorf("append an event to %s: %w", name, err)
		}
		return ack.Sequence, ev, nil
	}
}

// docs:end events

// docs:start fold
// A balance is what the bucket holds for an account: its balance, and the
// sequence of the last event folded into it.
type balance struct {
	Balance int    `json:"balance"`
	Seq     uint64 `json:"seq"`
}

// project folds into the bucket every event of the accounts stream it does
// not hold yet, in stream order, and returns how many it applied.
func project(ctx context.Context, stream jetstream.Stream, balances jetstream.KeyValue) (applied int, err error) {
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{accountsSubjects}})
	if err != nil {
		return 0, fmt.Errorf("read the accounts' events: %w", err)
	}
	if cons.CachedInfo().NumPending == 0 {
		return 0, nil
	}
	msgs, err := cons.Messages()
	if err != nil {
		return 0, fmt.Errorf("read the accounts' events: %w", err)
	}
	defer msgs.Stop()
	for {
		msg, err := msgs.Next(jetstream.NextMaxWait(5 * time.Second))
		if err != nil {
			return applied, fmt.Errorf("read the accounts' events: %w", err)
		}
		meta, err := msg.Metadata()
		if err != nil {
			return applied, fmt.Errorf("read event metadata: %w", err)
		}
		var ev accountEvent
		if err := json.Unmarshal(msg.Data(), &ev); err != nil {
			return applied, fmt.Errorf("event %d is not an account event: %w", meta.Sequence.Stream, err)
		}
		folded, err := fold(ctx, balances, strings.TrimPrefix(msg.Subject(), "accounts."), meta.Sequence.Stream, ev.Change)
		if err != nil {
			return applied, err
		}
		if folded {
			applied++
		}
		if meta.NumPending == 0 {
			return applied, nil
		}
	}
}

// fold adds one event's change to its account's balance, with
// compare-and-swap: if another projector wrote the balance in between, it
// reads it again. An event the balance already holds (its sequence is not
// newer) is skipped, so folding the same events twice changes nothing.
func fold(ctx context.Context, balances jetstream.KeyValue, name string, seq uint64, change int) (bool, error) {
	for {
		var current balance
		var rev uint64 // 0: no balance yet
		entry, err := balances.Get(ctx, name)
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound):
		case err != nil:
			return false, fmt.Errorf("read the balance of %s: %w", name, err)
		default:
			if err := json.Unmarshal(entry.Value(), &current); err != nil {
				return false, fmt.Errorf("the balance of %s: %w", name, err)
			}
			rev = entry.Revision()
		}
		if current.Seq >= seq {
			return false, nil // already folded in
		}
		data, err := json.Marshal(balance{Balance: current.Balance + change, Seq: seq})
		if err != nil {
			return false, fmt.Errorf("encode the balance: %w", err)
		}
		if rev == 0 {
			_, err = balances.Create(ctx, name, data)
		} else {
			_, err = balances.Update(ctx, name, data, rev)
		}
		if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			continue // another projector got there first
		}
		if err != nil {
			return false, fmt.Errorf("write the balance of %s: %w", name, err)
		}
		return true, nil
	}
}

// docs:end fold

// docs:start projection
// projection appends chapter 07's events, folds them into the bucket
// balances, folds them again (nothing changes), then deletes the bucket and
// rebuilds it from the stream: the events are the truth, the bucket a view.
func projection(ctx context.Context, js jetstream.JetStream, out io.Writer) error {
	stream, err := ensureAccounts(ctx, js)
	if err != nil {
		return err
	}
	for _, c := range []struct {
		name   string
		change int
	}{{"alice", 100}, {"bob", 20}, {"alice", -30}, {"carol", 5}, {"bob", 7}, {"alice", -50}} {
		seq, ev, err := appendEvent(ctx, js, stream, c.name, c.change)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "event %d on accounts.%s: change %d, balance %d\n", seq, c.name, ev.Change, ev.Balance)
	}
	for _, step := range []string{"fold", "fold again", "delete the bucket, fold"} {
		var balances jetstream.KeyValue
		if step == "fold again" {
			balances, err = js.KeyValue(ctx, "balances")
		} else {
			balances, err = freshBucket(ctx, js, jetstream.KeyValueConfig{Bucket: "balances"})
		}
		if err != nil {
			return err
		}
		applied, err := project(ctx, stream, balances)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%s: %d events applied;", step, applied)
		for _, name := range []string{"alice", "bob", "carol"} {
			entry, err := balances.Get(ctx, name)
			if err != nil {
				return fmt.Errorf("read the balance of %s: %w", name, err)
			}
			fmt.Fprintf(out, " %s %s", name, entry.Value())
		}
		fmt.Fprintln(out)
	}
	return nil
}

// docs:end projection
