package main

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/cli"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/nats-server/v2/server"
	"golang.org/x/crypto/bcrypt"
)

// What config writes is what the server loads: TLS required, on
// 127.0.0.1 at the port asked for, users in three accounts.
func TestConfigWritesWhatTheServerLoads(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := writeConfig(dir, 4222, bcrypt.MinCost); err != nil {
		t.Fatal(err)
	}
	opts, err := server.ProcessConfigFile(filepath.Join(dir, serverConfFile))
	if err != nil {
		t.Fatal(err)
	}
	if opts.Host != "127.0.0.1" || opts.Port != 4222 || opts.TLSConfig == nil || !opts.JetStream {
		t.Errorf("host %s, port %d, TLS %v, JetStream %v", opts.Host, opts.Port, opts.TLSConfig != nil, opts.JetStream)
	}
	accounts := map[string]int{}
	for _, u := range opts.Users {
		accounts[u.Account.Name]++
	}
	for _, u := range opts.Nkeys {
		accounts[u.Account.Name]++
	}
	if accounts["APP"] != 3 || accounts["OTHER"] != 1 || accounts["NOJS"] != 1 {
		t.Errorf("users per account: %v", accounts)
	}
}

// server.conf holds nothing secret or random: written twice for the same
// directory and port, it reads the same, while the credentials differ.
func TestServerConfIsTheSameEveryTime(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "secure")
	read := func() (conf, creds string) {
		if err := writeConfig(dir, 4222, bcrypt.MinCost); err != nil {
			t.Fatal(err)
		}
		c, err := os.ReadFile(filepath.Join(dir, serverConfFile))
		if err != nil {
			t.Fatal(err)
		}
		k, err := os.ReadFile(filepath.Join(dir, credentialsFile))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		return string(c), string(k)
	}
	conf1, creds1 := read()
	conf2, creds2 := read()
	if conf1 != conf2 {
		t.Errorf("server.conf differs between two runs:\n%s\n---\n%s", conf1, conf2)
	}
	if creds1 == creds2 {
		t.Error("two runs wrote the same credentials")
	}
}

// The CA's private key is not kept: the only private key in the directory
// is the server's, and the CA certificate in ca.pem signed the server's.
func TestOnlyTheServerKeyIsKept(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := writeConfig(dir, 4222, bcrypt.MinCost); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, entry := range entries {
		data, err := os.ReadFile(filepath.Join(dir, entry.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(data, []byte("PRIVATE KEY")) {
			keys = append(keys, entry.Name())
		}
	}
	if len(keys) != 1 || keys[0] != serverKeyFile {
		t.Errorf("files with a private key: %v, want only %s", keys, serverKeyFile)
	}
	ca, srv := readCert(t, filepath.Join(dir, caFile)), readCert(t, filepath.Join(dir, serverCertFile))
	if !ca.IsCA || srv.CheckSignatureFrom(ca) != nil {
		t.Error("ca.pem is not the CA that signed the server's certificate")
	}
	if len(srv.IPAddresses) != 1 || !srv.IPAddresses[0].Equal(net.IPv4(127, 0, 0, 1)) || len(srv.DNSNames) != 1 || srv.DNSNames[0] != "localhost" {
		t.Errorf("the server's certificate names %v and %v, want 127.0.0.1 and localhost", srv.IPAddresses, srv.DNSNames)
	}
}

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatalf("%s holds no PEM block", path)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// config does not overwrite a configuration: new credentials would lock
// out every client of a running server.
func TestConfigRefusesToOverwrite(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := writeConfig(dir, 4222, bcrypt.MinCost); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(filepath.Join(dir, credentialsFile))
	if err != nil {
		t.Fatal(err)
	}
	err = run(jstest.Context(t), []string{"config", "-dir", dir, "-cost", "4"}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "exists already") {
		t.Fatalf("config over a configuration: %v", err)
	}
	after, err := os.ReadFile(filepath.Join(dir, credentialsFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Error("the credentials changed")
	}
}

func TestUsageErrors(t *testing.T) {
	t.Setenv("NATS_URL", "")
	for _, args := range [][]string{
		{"nonsense"},
		{"config"},
		{"config", "-dir", t.TempDir(), "-port", "0"},
		{"config", "-dir", t.TempDir(), "-port", "65536"},
		{"config", "-dir", t.TempDir(), "-cost", "3"},
		{"config", "-dir", t.TempDir(), "extra"},
		{"-server", "tls://127.0.0.1:4222"}, // no -dir: no CA, no credentials
		{"-port", "4222"},                   // a flag of config only
	} {
		err := run(jstest.Context(t), args, &bytes.Buffer{})
		var usage *cli.UsageError
		if !errors.As(err, &usage) {
			t.Errorf("%q: %v, want a usage error", args, err)
		}
	}
}

// A -dir that holds no configuration stops the scenario at once, with what
// to run first.
func TestMissingDir(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "missing")
	err := run(jstest.Context(t), []string{"-dir", missing}, &bytes.Buffer{})
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "12-security config -dir "+missing) {
		t.Fatalf("%v, want not exist and the config command", err)
	}
}

// A -dir that is a file cannot be read as a directory.
func TestDirThatIsAFile(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	err := run(jstest.Context(t), []string{"-dir", file}, &bytes.Buffer{})
	if !errors.Is(err, syscall.ENOTDIR) {
		t.Fatalf("%v, want not a directory", err)
	}
}

// The server of a configuration whose port is taken fails at once, and
// says how to use the server that may be listening there.
func TestPortInUse(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	dir := t.TempDir()
	if err := writeConfig(dir, port, bcrypt.MinCost); err != nil {
		t.Fatal(err)
	}
	err = run(jstest.Context(t), []string{"-dir", dir}, &bytes.Buffer{})
	if !errors.Is(err, syscall.EADDRINUSE) || !strings.Contains(err.Error(), "NATS_URL=tls://127.0.0.1:"+strconv.Itoa(port)) {
		t.Fatalf("%v, want address in use and the NATS_URL to set", err)
	}
}

// A configuration the server rejects is reported with the server's reason:
// here, a $ subject without quotes, which the parser takes for a variable.
func TestRejectedConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := writeConfig(dir, 4222, bcrypt.MinCost); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, serverConfFile)
	data, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(data), `"$JS.ACK.ORDERS.worker.>"`, `$JS.ACK.ORDERS.worker.>`, 1)
	if broken == string(data) {
		t.Fatal("server.conf has no quoted $JS.ACK subject to break")
	}
	if err := os.WriteFile(conf, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	_, parseErr := server.ProcessConfigFile(conf)
	err = run(jstest.Context(t), []string{"-dir", dir}, &bytes.Buffer{})
	var usage *cli.UsageError
	if parseErr == nil || err == nil || errors.As(err, &usage) || !strings.Contains(err.Error(), parseErr.Error()) {
		t.Fatalf("%v, want the server's own reason: %v", err, parseErr)
	}
}
