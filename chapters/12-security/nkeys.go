package main

import (
	"fmt"
	"io"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

// docs:start nkeys-step
// nkeysStep signs in with a key instead of a password. The server's
// configuration holds only the public key; the client proves that it holds
// the private key (the seed, publisher.nk) by signing a random challenge
// the server sends with each connection. A key the server does not list is
// refused like a wrong password.
func nkeysStep(creds credentials, out io.Writer) error {
	fmt.Fprintln(out, "Keys, of which the server holds only the public half:")
	publisher, err := creds.connect("publisher", nil) // nats.NkeyOptionFromSeed("publisher.nk")
	if err != nil {
		return err
	}
	publisher.close()
	result(out, "publisher with its seed file", "connected")

	stranger, err := nkeys.CreateUser() // a fresh key pair: the server has never seen it
	if err != nil {
		return fmt.Errorf("create a user key pair: %w", err)
	}
	public, err := stranger.PublicKey()
	if err != nil {
		return fmt.Errorf("read the public key: %w", err)
	}
	refusal, err := refusedSignIn(creds, nats.Nkey(public, stranger.Sign))
	if err != nil {
		return fmt.Errorf("an unknown key: %w", err)
	}
	result(out, "a key the server does not know", refusal.Error())
	return nil
}

// docs:end nkeys-step
