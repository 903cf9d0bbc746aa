package main

import (
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"
)

// The seed's server, nats-server -js, has no users: a client with no
// credentials at all may read another program's stream, and delete it.
func TestAnOpenServerLetsAnyoneDeleteAStream(t *testing.T) {
	t.Parallel()
	s := jstest.Server(t)
	ctx := jstest.Context(t)
	_, owner := jstest.Connect(t, s)
	if _, err := owner.CreateStream(ctx, jetstream.StreamConfig{Name: ordersStream, Subjects: []string{ordersSubjects}}); err != nil {
		t.Fatal(err)
	}
	if _, err := owner.Publish(ctx, "orders.1", []byte("card 4111 1111 1111 1111")); err != nil {
		t.Fatal(err)
	}
	_, stranger := jstest.Connect(t, s) // no user, no password
	stream, err := stranger.Stream(ctx, ordersStream)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := stream.GetMsg(ctx, 1)
	if err != nil || string(msg.Data) != "card 4111 1111 1111 1111" {
		t.Fatalf("a stranger could not read the stream: %v", err)
	}
	if err := stranger.DeleteStream(ctx, ordersStream); err != nil {
		t.Fatalf("a stranger could not delete the stream: %v", err)
	}
	if _, err := owner.Stream(ctx, ordersStream); !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Fatalf("the stream is still there: %v", err)
	}
}

// Without TLS the NATS protocol is plain text: whoever sits between client
// and server reads the password in the client's CONNECT, and every
// message.
func TestWithoutTLSThePasswordCrossesTheWireInTheClear(t *testing.T) {
	t.Parallel()
	s := startConfigured(t, `authorization { users: [{user: admin, password: "s3cret-on-the-wire"}] }`)
	wire := &lockedBuffer{}
	proxy := eavesdrop(t, strings.TrimPrefix(s.ClientURL(), "nats://"), wire)
	client := connectWith(t, "nats://"+proxy, nats.UserInfo("admin", "s3cret-on-the-wire"))
	if err := client.nc.Publish("orders.1", []byte("card 4111 1111 1111 1111")); err != nil {
		t.Fatal(err)
	}
	if err := client.nc.Flush(); err != nil { // the server has read the publish
		t.Fatal(err)
	}
	for _, secret := range []string{`"pass":"s3cret-on-the-wire"`, "card 4111 1111 1111 1111"} {
		if !strings.Contains(wire.String(), secret) {
			t.Errorf("the wire did not carry %s in the clear", secret)
		}
	}
}

// eavesdrop listens on a free port of 127.0.0.1 and forwards one
// connection to server, copying what the client sends into wire before
// the server gets it.
func eavesdrop(t *testing.T, server string, wire io.Writer) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Error(err)
		}
		wg.Wait()
	})
	wg.Go(func() {
		client, err := l.Accept()
		if err != nil {
			return // the test ended without a client
		}
		defer client.Close()
		upstream, err := net.Dial("tcp", server)
		if err != nil {
			t.Error(err)
			return
		}
		defer upstream.Close()
		go func() {
			// Copy errors end the connection, which is all the test needs.
			if _, err := io.Copy(client, upstream); err != nil {
				client.Close()
			}
		}()
		if _, err := io.Copy(io.MultiWriter(wire, upstream), client); err != nil {
			upstream.Close()
		}
	})
	return l.Addr().String()
}

// Operator mode: the server trusts an operator's key, and learns accounts
// from JWTs the operator signed. Users are JWTs an account signed, which
// never appear in the server's configuration: a user created after the
// server started signs in, and one signed by an account the operator did
// not sign is refused.
func TestOperatorModeTrustsUsersTheAccountSigned(t *testing.T) {
	t.Parallel()
	operator, operatorPub := keyPair(t, nkeys.CreateOperator)
	_, systemPub := keyPair(t, nkeys.CreateAccount) // the server's own account; nobody signs in to it here
	account, accountPub := keyPair(t, nkeys.CreateAccount)
	operatorClaims := jwt.NewOperatorClaims(operatorPub)
	operatorClaims.SystemAccount = systemPub
	resolver := &server.MemAccResolver{}
	for pub, limits := range map[string]int64{systemPub: 0, accountPub: -1} {
		claims := jwt.NewAccountClaims(pub)
		claims.Limits.JetStreamLimits.DiskStorage = limits // not zero: the account has JetStream
		token, err := claims.Encode(operator)
		if err != nil {
			t.Fatal(err)
		}
		if err := resolver.Store(pub, token); err != nil {
			t.Fatal(err)
		}
	}
	opts := &server.Options{
		Host: "127.0.0.1", Port: server.RANDOM_PORT, NoSigs: true, JetStream: true, StoreDir: t.TempDir(),
		TrustedOperators: []*jwt.OperatorClaims{operatorClaims}, AccountResolver: resolver, SystemAccount: systemPub,
	}
	s, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(s.Shutdown)
	if !s.ReadyForConnections(jstest.Deadline) {
		t.Fatal("the server is not ready")
	}

	// A user made now, after the server started, by the account's key.
	user := func(signer nkeys.KeyPair) nats.Option {
		pair, pub := keyPair(t, nkeys.CreateUser)
		claims := jwt.NewUserClaims(pub)
		claims.Permissions.Pub.Allow.Add("orders.>")
		claims.Permissions.Sub.Allow.Add("_INBOX.>")
		token, err := claims.Encode(signer)
		if err != nil {
			t.Fatal(err)
		}
		seed, err := pair.Seed()
		if err != nil {
			t.Fatal(err)
		}
		return nats.UserJWTAndSeed(token, string(seed))
	}
	nc, err := nats.Connect(s.ClientURL(), user(account))
	if err != nil {
		t.Fatalf("a user the account signed: %v", err)
	}
	nc.Close()
	stranger, _ := keyPair(t, nkeys.CreateAccount)
	if _, err := nats.Connect(s.ClientURL(), user(stranger)); !errors.Is(err, nats.ErrAuthorization) {
		t.Fatalf("a user another account signed: %v, want nats.ErrAuthorization", err)
	}
}

func keyPair(t *testing.T, create func() (nkeys.KeyPair, error)) (nkeys.KeyPair, string) {
	t.Helper()
	pair, err := create()
	if err != nil {
		t.Fatal(err)
	}
	pub, err := pair.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	return pair, pub
}
