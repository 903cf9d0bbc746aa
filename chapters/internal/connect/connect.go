// Package connect holds the connection settings that chapter 02 teaches, so
// that later chapters open and close a connection in one line each.
package connect

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Hint is what to do when no server answers; every connection error ends with it.
const Hint = `start a server with "go run ./chapters/01-server", or unset NATS_URL to use an embedded one`

// Chapter 02's settings. The reconnect pair decides how long a program keeps
// trying once its server is gone: 10 tries 500 ms apart, about 5 s, where
// nats.go's defaults (60 tries 2 s apart) take about two minutes. The dial
// timeout is nats.go's default, written out. connect_test.go checks all three.
const (
	dialTimeout    = 2 * time.Second
	reconnectWait  = 500 * time.Millisecond
	maxReconnects  = 10 // with reconnectWait: about 5 s of retrying, then give up
	drainTimeout   = 5 * time.Second
	ConnectionLost = "lost the connection to the NATS server"
)

// ErrConnectionLost ends the context of CancelOnClose.
var ErrConnectionLost = errors.New(ConnectionLost + " and could not reconnect (is it still running? restart it and run this again)")

// Closed reports whether err means that the connection has closed for good.
// nats.go can return such an error before the ClosedHandler that
// CancelOnClose installs has run, so a loop checks both.
func Closed(err error) bool {
	return errors.Is(err, nats.ErrConnectionClosed) || errors.Is(err, jetstream.ErrConnectionClosed)
}

// CancelOnClose returns a context that ends with cause ErrConnectionLost
// when the connection closes for good, and the option that arranges it.
// A program that waits for messages waits on this context, so a dead server
// stops it within seconds instead of leaving it hanging.
func CancelOnClose(ctx context.Context) (context.Context, nats.Option) {
	ctx, cancel := context.WithCancelCause(ctx)
	return ctx, nats.ClosedHandler(func(*nats.Conn) { cancel(ErrConnectionLost) })
}

// To connects to url as the client called name. Extra options come last and
// win, so a chapter can add a ClosedHandler or change a limit.
func To(url, name string, extra ...nats.Option) (*nats.Conn, error) {
	opts := []nats.Option{
		nats.Name(name),
		nats.Timeout(dialTimeout),
		nats.ReconnectWait(reconnectWait),
		nats.MaxReconnects(maxReconnects),
		nats.DrainTimeout(drainTimeout),
		nats.DisconnectErrHandler(func(nc *nats.Conn, err error) {
			if err != nil {
				fmt.Fprintf(os.Stderr, "%s: %s (%v); reconnecting for a few seconds\n", name, ConnectionLost, err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			fmt.Fprintf(os.Stderr, "%s: reconnected to %s\n", name, nc.ConnectedUrlRedacted())
		}),
	}
	nc, err := nats.Connect(url, append(opts, extra...)...)
	if err != nil {
		return nil, Error(url, err)
	}
	return nc, nil
}

// Error explains a failed nats.Connect to the reader.
func Error(url string, err error) error {
	if errors.Is(err, nats.ErrNoServers) {
		// nats.go reports "connection refused" as ErrNoServers.
		return fmt.Errorf("cannot connect to %s: no NATS server is listening there (%s)", url, Hint)
	}
	return fmt.Errorf("cannot connect to %s: %w (%s)", url, err, Hint)
}

// JetStream returns a JetStream context for nc after checking, as chapter 02
// does, that the server has JetStream enabled; without that check a missing
// -js shows up later as a puzzling "no responders" error.
func JetStream(ctx context.Context, nc *nats.Conn) (jetstream.JetStream, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("create a JetStream context: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := js.AccountInfo(ctx); err != nil {
		if errors.Is(err, jetstream.ErrJetStreamNotEnabled) {
			return nil, fmt.Errorf("JetStream is not enabled on %s (restart the server with -js, or use \"go run ./chapters/01-server\")", nc.ConnectedUrlRedacted())
		}
		return nil, fmt.Errorf("ask JetStream for account info: %w", err)
	}
	return js, nil
}

// Drain lets in-flight messages finish (handlers run, acks and publishes are
// flushed), closes the connection, and waits until it is closed, so that
// nothing acknowledged in this process is lost when main returns.
func Drain(nc *nats.Conn) error {
	closed := make(chan struct{})
	previous := nc.ClosedHandler()
	nc.SetClosedHandler(func(c *nats.Conn) {
		if previous != nil {
			previous(c)
		}
		close(closed)
	})
	if err := nc.Drain(); err != nil {
		if errors.Is(err, nats.ErrConnectionClosed) {
			return nil // already closed: nothing left to flush
		}
		nc.Close()
		return fmt.Errorf("drain the connection: %w", err)
	}
	select {
	case <-closed:
		return nil
	case <-time.After(drainTimeout + time.Second):
		nc.Close()
		return fmt.Errorf("drain the connection: not closed after %s", drainTimeout)
	}
}
