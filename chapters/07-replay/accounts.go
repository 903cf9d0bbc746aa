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

const (
	// accountsStream is the event store: one subject per account, holding
	// that account's events in order. It is not example_stream, which
	// forgets everything after nine seconds: an event log must not.
	accountsStream   = "accounts"
	accountsSubjects = "accounts.*"
)

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
// 10071; a replicated stream answers 10164 instead while another write to
// the subject is still in flight.
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
