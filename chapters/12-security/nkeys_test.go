package main

import (
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

// The publisher signs in with the seed file config wrote; the server's
// configuration holds its public key and never the seed.
func TestNkeyUserSignsInWithItsSeed(t *testing.T) {
	t.Parallel()
	ts := startTestServer(t)
	seed := ts.secret(t, "publisher.nk")
	pair, err := nkeys.FromSeed([]byte(seed))
	if err != nil {
		t.Fatal(err)
	}
	public, err := pair.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	creds := ts.secret(t, credentialsFile)
	if !strings.Contains(creds, `PUBLISHER_NKEY: "`+public+`"`) {
		t.Errorf("%s does not name the publisher's public key %s", credentialsFile, public)
	}
	if strings.Contains(creds, seed) || strings.Contains(ts.secret(t, serverConfFile), seed) {
		t.Error("the server's configuration holds the publisher's seed")
	}
	publisher := ts.as(t, "publisher")
	if !publisher.nc.IsConnected() {
		t.Fatal("the publisher is not connected")
	}
}

func TestUnknownNkeyIsRejected(t *testing.T) {
	t.Parallel()
	ts := startTestServer(t)
	stranger, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	public, err := stranger.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := refusedSignIn(ts.creds, nats.Nkey(public, stranger.Sign)); err != nil {
		t.Fatal(err)
	}
}

// Knowing a listed public key is not enough: the client must sign the
// server's challenge with the matching seed.
func TestKnownPublicKeyWithAnotherSeedIsRejected(t *testing.T) {
	t.Parallel()
	ts := startTestServer(t)
	publisher, err := nkeys.FromSeed([]byte(ts.secret(t, "publisher.nk")))
	if err != nil {
		t.Fatal(err)
	}
	public, err := publisher.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	impostor, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := refusedSignIn(ts.creds, nats.Nkey(public, impostor.Sign)); err != nil {
		t.Fatal(err)
	}
}
