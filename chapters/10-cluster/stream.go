package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/connect"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

const (
	streamName   = "ORDERS"
	subject      = "orders.new"
	consumerName = "processor"
)

// The server's error codes this chapter meets, by their names in
// nats-server's errors.json. Match a NATS error on its code, not its text.
const (
	errNoSuitablePeers      jetstream.ErrorCode = 10005 // JSClusterNoPeersErrF: too few nodes for the replicas
	errClusterNotAvailable  jetstream.ErrorCode = 10008 // JSClusterNotAvailErr: no meta leader
	errInvalidStreamConfig  jetstream.ErrorCode = 10052 // JSStreamInvalidConfigF: replicas above 5, among others
	errReplicasNotSupported jetstream.ErrorCode = 10074 // JSStreamReplicasNotSupportedErr: one server, no cluster
)

// isAPIError reports whether err is a JetStream API error with that code.
func isAPIError(err error, code jetstream.ErrorCode) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == code
}

// untilReady calls attempt, with 2 s to answer each time, until it
// succeeds, fails for another reason than a cluster still forming, or
// readyTimeout has passed. A cluster that has just started, or has just lost
// a node, may have no meta leader to answer yet (it is elected seconds after
// a crash), or may not know every node yet.
func untilReady(ctx context.Context, log io.Writer, what string, attempt func(ctx context.Context) error) error {
	deadline := time.Now().Add(readyTimeout)
	for {
		attemptCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := attempt(attemptCtx)
		cancel()
		switch {
		case err == nil || !notReadyYet(err):
			return err
		case ctx.Err() != nil:
			return context.Cause(ctx)
		case time.Now().After(deadline):
			return fmt.Errorf("the cluster was not ready within %s: %w", readyTimeout, err)
		}
		fmt.Fprintf(log, "10-cluster: %s: %v; the cluster is still forming, trying again\n", what, err)
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// notReadyYet says whether err means only that the cluster is still
// forming: nobody answered, no meta leader, or not every node known (10005).
func notReadyYet(err error) bool {
	return isAPIError(err, errNoSuitablePeers) || isAPIError(err, errClusterNotAvailable) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrNoResponders) ||
		errors.Is(err, nats.ErrTimeout)
}

// clusterJetStream is connect.JetStream for a cluster: it checks that
// JetStream answers, until the cluster is ready.
func clusterJetStream(ctx context.Context, nc *nats.Conn, log io.Writer) (js jetstream.JetStream, err error) {
	err = untilReady(ctx, log, "account info", func(ctx context.Context) error {
		js, err = connect.JetStream(ctx, nc)
		return err
	})
	return js, err
}

// streamConfig is ORDERS with a copy on each of three nodes. A write is
// acknowledged once two of the three hold it.
func streamConfig() jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:     streamName,
		Subjects: []string{"orders.>"},
		Replicas: 3, // one leader, two followers, each on another node
		// The duplicates window keeps its default, 2 minutes: a publish sent
		// again with the same message ID within it is not stored twice.
	}
}

// ensureStream returns ORDERS, creating it if it is missing.
func ensureStream(ctx context.Context, js jetstream.JetStream, out, log io.Writer) (jetstream.Stream, error) {
	var stream jetstream.Stream
	created := false
	err := untilReady(ctx, log, "stream "+streamName, func(ctx context.Context) error {
		var err error
		stream, err = js.Stream(ctx, streamName)
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			stream, err = js.CreateStream(ctx, streamConfig())
			created = err == nil
		}
		return err
	})
	switch {
	case isAPIError(err, errReplicasNotSupported):
		return nil, fmt.Errorf("create stream %s with 3 replicas: %w (NATS_URL names a single server: start three nodes of one cluster, or unset NATS_URL)", streamName, err)
	case err != nil:
		return nil, fmt.Errorf("create stream %s: %w", streamName, err)
	case created:
		fmt.Fprintf(out, "Created stream %s with %d replicas.\n", streamName, stream.CachedInfo().Config.Replicas)
		return stream, nil
	}
	return existingStream(stream, out), nil
}

// existingStream returns ORDERS as it is: a publisher must not change a
// stream that others use. It only warns when one node holds it all.
func existingStream(stream jetstream.Stream, out io.Writer) jetstream.Stream {
	if r := stream.CachedInfo().Config.Replicas; r < 3 {
		fmt.Fprintf(out, "Stream %s has %d replica(s): it does not survive the loss of its node (nats stream edit %s --replicas 3).\n", streamName, r, streamName)
	}
	return stream
}

// placementLimit asks for more replicas than there are nodes. Each replica
// needs a node of its own, so the meta leader refuses: error 10005, whose
// description may go on to say why (", peer offline" right after a restart).
func placementLimit(ctx context.Context, js jetstream.JetStream, out io.Writer) error {
	_, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "ORDERS_R5", Subjects: []string{"orders-r5.>"}, Replicas: 5})
	if !isAPIError(err, errNoSuitablePeers) {
		return fmt.Errorf("create a stream with 5 replicas on 3 nodes: got %v, want error %d", err, errNoSuitablePeers)
	}
	fmt.Fprintf(out, "A stream with 5 replicas on 3 nodes is refused: error %d, no suitable peers for placement.\n", errNoSuitablePeers)
	return nil
}
