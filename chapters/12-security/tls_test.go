package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

var localhost = []net.IP{net.IPv4(127, 0, 0, 1)}

// writePEM writes a key pair as the files a tls block names, and returns
// their paths.
func writePEM(t testing.TB, dir, name string, pair tls.Certificate) (certFile, keyFile string) {
	t.Helper()
	key, err := keyPEM(pair)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, name+"-cert.pem"), filepath.Join(dir, name+"-key.pem")
	if err := os.WriteFile(certFile, certPEM(pair.Leaf), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, key, 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// issued makes a throwaway authority and a certificate it signs.
func issued(t testing.TB, l leaf) (*authority, tls.Certificate) {
	t.Helper()
	ca, err := newAuthority("test CA")
	if err != nil {
		t.Fatal(err)
	}
	pair, err := ca.issue(l)
	if err != nil {
		t.Fatal(err)
	}
	return ca, pair
}

func TestClientTrustingTheCAConnects(t *testing.T) {
	t.Parallel()
	ts := startTestServer(t)
	if !strings.HasPrefix(ts.creds.url, "tls://") {
		t.Errorf("the server's client URL is %s: a server that requires TLS hands out tls://", ts.creds.url)
	}
	admin := ts.as(t, "admin")
	state, err := admin.nc.TLSConnectionState()
	if err != nil {
		t.Fatal(err)
	}
	if !admin.nc.TLSRequired() || state.Version != tls.VersionTLS13 || !state.HandshakeComplete {
		t.Errorf("TLS required %v, version %s", admin.nc.TLSRequired(), tls.VersionName(state.Version))
	}
}

func TestClientTrustingAnotherCAIsRefused(t *testing.T) {
	t.Parallel()
	ts := startTestServer(t)
	other, err := newAuthority("another CA")
	if err != nil {
		t.Fatal(err)
	}
	_, err = nats.Connect(ts.creds.url, nats.Secure(&tls.Config{RootCAs: other.pool()}))
	if !errors.Is(err, nats.ErrTLS) || !errors.As(err, new(x509.UnknownAuthorityError)) {
		t.Fatalf("%v, want a TLS error: unknown authority", err)
	}
}

// A nats.go client without TLS options, even on a nats:// URL, reads
// tls_required in the server's INFO and starts TLS by itself, trusting the
// system's authorities, which do not include the chapter's CA.
func TestClientWithoutTLSOptionsUpgradesAndFails(t *testing.T) {
	t.Parallel()
	ts := startTestServer(t)
	plain := "nats://" + strings.TrimPrefix(ts.creds.url, "tls://")
	_, err := nats.Connect(plain)
	var unknown x509.UnknownAuthorityError
	var noRoots x509.SystemRootsError // a machine without system roots says this instead
	if !errors.Is(err, nats.ErrTLS) || !(errors.As(err, &unknown) || errors.As(err, &noRoots)) {
		t.Fatalf("%v, want a TLS error: unknown authority", err)
	}
}

// A client that dials 127.0.0.1 accepts only a certificate that names
// 127.0.0.1 (an IP SAN). One made for localhost alone is refused, unless the
// client checks it for localhost.
func TestCertificateWithoutTheIPIsRefused(t *testing.T) {
	t.Parallel()
	ca, pair := issued(t, leaf{name: "nats-server", dns: []string{"localhost"}})
	cert, key := writePEM(t, t.TempDir(), "server", pair)
	s := startConfigured(t, fmt.Sprintf(`tls { cert_file: %q, key_file: %q }`, cert, key))
	_, err := nats.Connect(s.ClientURL(), nats.Secure(&tls.Config{RootCAs: ca.pool()}))
	if !errors.As(err, new(x509.HostnameError)) {
		t.Fatalf("%v, want x509.HostnameError", err)
	}
	nc, err := nats.Connect(s.ClientURL(), nats.Secure(&tls.Config{RootCAs: ca.pool(), ServerName: "localhost"}))
	if err != nil {
		t.Fatalf("checked for localhost: %v", err)
	}
	nc.Close()
}

// A client that does not speak TLS reads INFO with tls_required, and the
// server closes the connection at its CONNECT. The same client talks to a
// server without TLS (which the chapter's check reports).
func TestPlaintextClientIsCutOff(t *testing.T) {
	t.Parallel()
	ts := startTestServer(t)
	ctx := jstest.Context(t)
	said, err := plaintextClient(ctx, ts.creds.url)
	if err != nil {
		t.Fatal(err)
	}
	if said != "INFO says tls_required; CONNECT gets the connection closed" {
		t.Errorf("said %q", said)
	}
	plain := startConfigured(t, "")
	if _, err := plaintextClient(ctx, plain.ClientURL()); err == nil || !strings.Contains(err.Error(), "does not require TLS") {
		t.Fatalf("against a server without TLS: %v", err)
	}
}

// A tls:// URL, or nats.Secure, never falls back to plaintext.
func TestSecureClientRefusesAPlainServer(t *testing.T) {
	t.Parallel()
	plain := startConfigured(t, "")
	_, err := nats.Connect("tls://" + strings.TrimPrefix(plain.ClientURL(), "nats://"))
	if !errors.Is(err, nats.ErrSecureConnWanted) {
		t.Fatalf("%v, want nats.ErrSecureConnWanted", err)
	}
}

// docs:start mutual-tls
// mutualTLSConf asks every client for a certificate that the CA in ca_file
// signed, and takes the client's user name from it (verify_and_map): the
// subject, here "CN=alice", when the certificate has no e-mail address or
// DNS name. A client with no certificate, or one that names no user, does
// not get in.
const mutualTLSConf = `
tls {
  cert_file: %q
  key_file: %q
  ca_file: %q
  verify_and_map: true
}
authorization {
  users: [
    {user: "CN=alice", permissions: {publish: "orders.>", subscribe: "_INBOX.>"}}
  ]
}`

// docs:end mutual-tls

// mutualTLS is a server that asks every client for a certificate signed by
// its CA, and takes the client's user from it (verify_and_map): alice may
// publish to orders.> only. It returns the server and the CA.
func mutualTLS(t *testing.T, dir string) (*server.Server, *authority) {
	t.Helper()
	ca, err := newAuthority("test CA")
	if err != nil {
		t.Fatal(err)
	}
	pair, err := ca.issue(leaf{name: "nats-server", ips: localhost})
	if err != nil {
		t.Fatal(err)
	}
	cert, key := writePEM(t, dir, "server", pair)
	caPath := filepath.Join(dir, caFile)
	if err := os.WriteFile(caPath, certPEM(ca.cert), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startConfigured(t, fmt.Sprintf(mutualTLSConf, cert, key, caPath))
	return s, ca
}

func TestMutualTLSMapsTheCertificateToAUser(t *testing.T) {
	t.Parallel()
	s, ca := mutualTLS(t, t.TempDir())
	ctx := jstest.Context(t)
	alice, err := ca.issue(leaf{name: "alice", client: true})
	if err != nil {
		t.Fatal(err)
	}
	// The user in CONNECT is ignored: the certificate says who this is.
	client := connectWith(t, s.ClientURL(),
		nats.Secure(&tls.Config{RootCAs: ca.pool(), Certificates: []tls.Certificate{alice}}))
	if err := client.nc.Publish("orders.1", []byte("1 book")); err != nil {
		t.Fatal(err)
	}
	refusedWithin(t, ctx, client, `Publish to "payments.1"`, func(context.Context) error {
		if err := client.nc.Publish("payments.1", []byte("100 EUR")); err != nil {
			return err
		}
		return client.nc.Flush()
	})
}

func TestMutualTLSRefusesAClientWithoutACertificate(t *testing.T) {
	t.Parallel()
	s, ca := mutualTLS(t, t.TempDir())
	_, err := nats.Connect(s.ClientURL(), nats.Secure(&tls.Config{RootCAs: ca.pool()}))
	// With TLS 1.3 the client finishes its half of the handshake before the
	// server checks for a certificate, so what the client sees depends on
	// timing: the server's alert, "remote error: tls: certificate required"
	// (a *net.OpError, without nats.ErrTLS), or the connection closed under
	// its first write (nats.ErrTLS).
	var remote *net.OpError
	alert := errors.As(err, &remote) && remote.Op == "remote error"
	if !alert && !errors.Is(err, nats.ErrTLS) {
		t.Fatalf("%v, want the server's alert or a connection closed after the handshake", err)
	}
	t.Logf("the client saw: %v", err)
}

func TestMutualTLSRefusesACertificateOfNoUser(t *testing.T) {
	t.Parallel()
	s, ca := mutualTLS(t, t.TempDir())
	mallory, err := ca.issue(leaf{name: "mallory", client: true})
	if err != nil {
		t.Fatal(err)
	}
	_, err = nats.Connect(s.ClientURL(), nats.Secure(&tls.Config{RootCAs: ca.pool(), Certificates: []tls.Certificate{mallory}}))
	if !errors.Is(err, nats.ErrAuthorization) {
		t.Fatalf("%v, want nats.ErrAuthorization", err)
	}
}
