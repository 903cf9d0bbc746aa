package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/nats-io/nats.go/jetstream"
)

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
