package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
)

// certValidity is how long the certificates that config writes stay valid:
// long enough to follow the chapter, short enough to be thrown away.
const certValidity = 30 * 24 * time.Hour

// docs:start authority
// authority is a throwaway certificate authority (CA). It signs the
// server's certificate, and a client that trusts it (ca.pem) trusts that
// certificate. config keeps its certificate and forgets its private key, so
// nobody can sign another certificate with it.
type authority struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newAuthority(name string) (*authority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate a key for %s: %w", name, err)
	}
	template := &x509.Certificate{
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour), // a clock a little behind still accepts it
		NotAfter:              time.Now().Add(certValidity),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	cert, err := sign(template, template, &key.PublicKey, key) // a CA signs its own certificate
	if err != nil {
		return nil, err
	}
	return &authority{cert: cert, key: key}, nil
}

// leaf is a certificate the authority issues: a server's, or a client's for
// mutual TLS.
type leaf struct {
	name   string   // the subject's common name, such as "alice"
	ips    []net.IP // the addresses a client may dial: 127.0.0.1 for the chapter's server
	dns    []string // the host names a client may dial, such as localhost
	client bool     // a client certificate (mutual TLS) rather than a server's
}

// issue creates a key pair for l and a certificate for it, signed by ca.
func (ca *authority) issue(l leaf) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("generate a key for %s: %w", l.name, err)
	}
	usage := x509.ExtKeyUsageServerAuth
	if l.client {
		usage = x509.ExtKeyUsageClientAuth
	}
	cert, err := sign(&x509.Certificate{
		Subject:     pkix.Name{CommonName: l.name},
		NotBefore:   time.Now().Add(-time.Hour),
		NotAfter:    time.Now().Add(certValidity),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{usage},
		IPAddresses: l.ips, // a client that dials 127.0.0.1 accepts only a certificate that names it
		DNSNames:    l.dns,
	}, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert}, nil
}

// docs:end authority

func sign(template, parent *x509.Certificate, pub *ecdsa.PublicKey, signer *ecdsa.PrivateKey) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("draw a serial number: %w", err)
	}
	template.SerialNumber = serial
	der, err := x509.CreateCertificate(rand.Reader, template, parent, pub, signer)
	if err != nil {
		return nil, fmt.Errorf("sign the certificate of %s: %w", template.Subject.CommonName, err)
	}
	return x509.ParseCertificate(der)
}

// pool is what a client trusts: the authority's certificate alone.
func (ca *authority) pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	return pool
}

// certPEM and keyPEM encode a certificate and its key as the files that
// nats-server's tls block and nats.RootCAs read.
func certPEM(cert *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
}

func keyPEM(pair tls.Certificate) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(pair.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("encode the private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// docs:start tls-step
// tlsStep shows who gets through the server's TLS: a client that trusts
// ca.pem, and neither one that trusts another authority nor one that does
// not speak TLS.
func tlsStep(ctx context.Context, creds credentials, admin *session, out io.Writer) error {
	fmt.Fprintln(out, "TLS:")
	state, err := admin.nc.TLSConnectionState()
	if err != nil {
		return fmt.Errorf("read the TLS state of admin's connection: %w", err)
	}
	result(out, "a client that trusts ca.pem", "connected with "+tls.VersionName(state.Version))

	other, err := newAuthority("another CA")
	if err != nil {
		return err
	}
	_, err = nats.Connect(creds.url, nats.Secure(&tls.Config{RootCAs: other.pool()}))
	if !errors.As(err, new(x509.UnknownAuthorityError)) {
		return fmt.Errorf("a client trusting another CA: %v, want x509.UnknownAuthorityError", err)
	}
	result(out, "a client that trusts another CA", err.Error())

	said, err := plaintextClient(ctx, creds.url)
	if err != nil {
		return err
	}
	result(out, "a client without TLS", said)
	return nil
}

// docs:end tls-step

// plaintextClient speaks the NATS protocol without TLS, as nats.go never
// does: nats.go sees tls_required in the server's first line, INFO, and
// starts the handshake by itself. It reports what the server said.
func plaintextClient(ctx context.Context, serverURL string) (string, error) {
	u, err := url.Parse(serverURL)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("read the server address from %q: want such as tls://127.0.0.1:4222", serverURL)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var dialer net.Dialer
	conn, err := dialer.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return "", fmt.Errorf("dial %s without TLS: %w", u.Host, err)
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline() // always set: the WithTimeout above
	if err := conn.SetDeadline(deadline); err != nil {
		return "", fmt.Errorf("set a deadline on the plain connection: %w", err)
	}
	r := bufio.NewReader(conn)
	line, err := r.ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("read the server's INFO: %w", err)
	}
	var info struct {
		TLSRequired bool `json:"tls_required"`
	}
	if err := json.Unmarshal([]byte(strings.TrimPrefix(strings.TrimSpace(line), "INFO ")), &info); err != nil {
		return "", fmt.Errorf("read the server's INFO %q: %w", line, err)
	}
	if !info.TLSRequired {
		return "", errors.New("the server does not require TLS: its INFO has no tls_required")
	}
	if _, err := io.WriteString(conn, "CONNECT {}\r\nPING\r\n"); err != nil {
		return "", fmt.Errorf("send CONNECT without TLS: %w", err)
	}
	// The server now expects a TLS handshake, and hangs up on anything else.
	rest, err := io.ReadAll(r)
	var timeout net.Error
	if errors.As(err, &timeout) && timeout.Timeout() {
		return "", errors.New("the server neither answered nor closed a plaintext CONNECT within 5s")
	}
	if strings.Contains(string(rest), "PONG") {
		return "", errors.New("the server answered a plaintext PING")
	}
	return "INFO says tls_required; CONNECT gets the connection closed", nil
}
