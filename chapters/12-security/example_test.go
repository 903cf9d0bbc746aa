package main

import (
	"context"
	"log"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// The chapter's scenario on a server of its own, started from the
// configuration that config writes (with bcrypt's minimum cost, which the
// race detector needs; the chapter uses the default).
func Example() {
	dir, err := os.MkdirTemp("", "12-security-example-*")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := writeConfig(dir, -1, bcrypt.MinCost); err != nil {
		log.Fatal(err)
	}
	s, err := startServer(filepath.Join(dir, serverConfFile), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Shutdown()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := demo(ctx, credentials{url: s.ClientURL(), dir: dir}, os.Stdout); err != nil {
		log.Fatal(err)
	}
	// Output:
	// Passwords, checked against bcrypt hashes:
	//   admin with its password:           connected
	//   admin with a wrong password:       nats: Authorization Violation
	//   no credentials:                    nats: Authorization Violation
	// Keys, of which the server holds only the public half:
	//   publisher with its seed file:      connected
	//   a key the server does not know:    nats: Authorization Violation
	// Permissions in account APP:
	//   admin creates ORDERS and worker:   a stream on orders.> and a durable consumer
	//   publisher publishes to orders.1:   stored as message 1 of ORDERS
	//   publisher publishes to payments.1: nats: permissions violation: Permissions Violation for Publish to "payments.1"
	//   reader fetches from ORDERS/worker: "1 book" from orders.1, acked
	//   reader creates a stream:           nats: permissions violation: Permissions Violation for Publish to "$JS.API.STREAM.CREATE.COPY"
	//   reader subscribes to orders.>:     nats: permissions violation: Permissions Violation for Subscription to "orders.>"
	// Accounts:
	//   OTHER looks up stream ORDERS:      nats: API error: code=404 err_code=10059 description=stream not found
	//   OTHER creates its own ORDERS:      it holds 0 messages; APP's holds 1
	//   NOJS asks for account info:        nats: API error: code=503 err_code=10039 description=jetstream not enabled for account
	// TLS:
	//   a client that trusts ca.pem:       connected with TLS 1.3
	//   a client that trusts another CA:   nats: tls error: tls: failed to verify certificate: x509: certificate signed by unknown authority
	//   a client without TLS:              INFO says tls_required; CONNECT gets the connection closed
}
