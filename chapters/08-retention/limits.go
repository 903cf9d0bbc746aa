package main

import (
	"context"
	"fmt"
	"io"

	"github.com/nats-io/nats.go/jetstream"
)

// codeStoreFailed is the server's refusal of a publish to a full DiscardNew
// stream: "maximum messages exceeded" or "maximum bytes exceeded". nats.go
// v1.55 has no constant for it.
const codeStoreFailed jetstream.ErrorCode = 10077

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
