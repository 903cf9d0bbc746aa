package main

import (
	"strings"
	"testing"
)

// verify says "each message ID once" and "stored at the sequence their
// PubAck named" only when it is so: a message stored twice, one stored
// under another's ID, one missing and one at another sequence are each found.
func TestVerifyFindsWhatWasNotStoredOnce(t *testing.T) {
	msgs := []stored{
		{1, "Message 1", "message-1"},
		{2, "Message 2", "message-2"},
		{3, "Message 2", "message-2"}, // stored twice
		{4, "Message 4", "message-3"}, // under another message's ID
	}
	problems := checkOnce(msgs)
	for _, want := range []string{`message ID "message-2" is stored twice, at seq 2 and 3`, `seq 4 holds "Message 4" with message ID "message-3"`} {
		if !strings.Contains(strings.Join(problems, "\n"), want) {
			t.Errorf("checkOnce: no %q in %q", want, problems)
		}
	}
	if got := checkOnce(msgs[:2]); len(got) > 0 {
		t.Errorf("checkOnce of messages stored once: %q", got)
	}

	output := strings.Join([]string{
		"Created stream ORDERS with 3 replicas.",
		"Published: Message 1 (stream ORDERS, seq 1)",
		"Published: Message 2 (stream ORDERS, seq 3)", // seq 3 holds the repeat: fine
		"Published: Message 5 (stream ORDERS, seq 5)", // not stored
		"Published: Message 1 (stream ORDERS, seq 2)", // another message there
		"All 4 messages acknowledged.",
	}, "\n")
	acked, problems, err := checkAcked(msgs, strings.NewReader(output))
	if err != nil {
		t.Fatal(err)
	}
	if acked != 4 {
		t.Errorf("read %d acknowledged messages, want 4", acked)
	}
	want := []string{
		`Message 5 was acknowledged at seq 5, but the stream holds "" there`,
		`Message 1 was acknowledged at seq 2, but the stream holds "Message 2" there`,
	}
	if strings.Join(problems, "\n") != strings.Join(want, "\n") {
		t.Errorf("checkAcked found\n%s\nwant\n%s", strings.Join(problems, "\n"), strings.Join(want, "\n"))
	}
}
