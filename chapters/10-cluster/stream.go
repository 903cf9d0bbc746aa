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

// clusterJetStream is connect.JetStream for a cluster. After a crash of the
// meta leader, the node that answers account requests, nobody answers them
// until another is elected, seconds later: so it asks again, until
// readyTimeout.
func clusterJetStream(ctx context.Context, nc *nats.Conn, log io.Writer) (jetstream.JetStream, error) {
	deadline := time.Now().Add(readyTimeout)
	for {
		js, err := connect.JetStream(ctx, nc)
		if err == nil || !notReadyYet(err) || ctx.Err() != nil || time.Now().After(deadline) {
			return js, err
		}
		fmt.Fprintf(log, "10-cluster: %v; the cluster has no meta leader yet, trying again\n", err)
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// docs:start stream
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

// ensureStream returns ORDERS, creating it if it is missing. A cluster that
// has just started may have no meta leader to answer yet, or may not know
// every node yet (10005), so both are tried again until ctx ends.
func ensureStream(ctx context.Context, js jetstream.JetStream, out, log io.Writer) (jetstream.Stream, error) {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	for {
		attempt, cancelAttempt := context.WithTimeout(ctx, 2*time.Second)
		stream, err := js.Stream(attempt, streamName)
		created := false
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			stream, err = js.CreateStream(attempt, streamConfig())
			created = err == nil
		}
		cancelAttempt()
		switch {
		case created:
			fmt.Fprintf(out, "Created stream %s with %d replicas.\n", streamName, stream.CachedInfo().Config.Replicas)
			return stream, nil
		case err == nil:
			return existingStream(stream, out), nil
		case isAPIError(err, errReplicasNotSupported):
			return nil, fmt.Errorf("create stream %s with 3 replicas: %w (NATS_URL names a single server: start three nodes of one cluster, or unset NATS_URL)", streamName, err)
		case !notReadyYet(err):
			return nil, fmt.Errorf("create stream %s: %w", streamName, err)
		case ctx.Err() != nil:
			return nil, fmt.Errorf("create stream %s: the cluster was not ready within %s: %w", streamName, readyTimeout, err)
		}
		fmt.Fprintf(log, "10-cluster: stream %s: %v; the cluster is still forming, trying again\n", streamName, err)
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// notReadyYet says whether a create failed only because the cluster is
// still forming: no meta leader to answer, or not every node known.
func notReadyYet(err error) bool {
	return isAPIError(err, errNoSuitablePeers) || isAPIError(err, errClusterNotAvailable) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrNoResponders) ||
		errors.Is(err, nats.ErrTimeout)
}

// docs:end stream

// existingStream returns ORDERS as it is: a publisher must not change a
// stream that others use. It only warns when one node holds it all.
func existingStream(stream jetstream.Stream, out io.Writer) jetstream.Stream {
	if r := stream.CachedInfo().Config.Replicas; r < 3 {
		fmt.Fprintf(out, "Stream %s has %d replica(s): it does not survive the loss of its node (nats stream edit %s --replicas 3).\n", streamName, r, streamName)
	}
	return stream
}

// docs:start placement
// placementLimit asks for more replicas than there are nodes. Each replica
// needs a node of its own, so the meta leader refuses: error 10005.
func placementLimit(ctx context.Context, js jetstream.JetStream, out io.Writer) error {
	_, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "ORDERS_R5", Subjects: []string{"orders-r5.>"}, Replicas: 5})
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode != errNoSuitablePeers {
		return fmt.Errorf("create a stream with 5 replicas on 3 nodes: got %v, want error %d", err, errNoSuitablePeers)
	}
	fmt.Fprintf(out, "A stream with 5 replicas on 3 nodes is refused: error %d, %q.\n", apiErr.ErrorCode, apiErr.Description)
	return nil
}

// docs:end placement
