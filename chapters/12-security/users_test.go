package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/nats.go"
	"golang.org/x/crypto/bcrypt"
)

// The configuration holds a bcrypt hash of admin's password, never the
// password, and the server lets admin in with the password itself.
func TestPasswordIsCheckedAgainstItsBcryptHash(t *testing.T) {
	t.Parallel()
	ts := startTestServer(t)
	password := ts.secret(t, "admin.password")
	creds := ts.secret(t, credentialsFile)
	hash := regexp.MustCompile(`(?m)^ADMIN_BCRYPT: "(\$2a\$\d\d\$[./A-Za-z0-9]{53})"$`).FindStringSubmatch(creds)
	if hash == nil {
		t.Fatalf("%s has no bcrypt hash for admin:\n%s", credentialsFile, creds)
	}
	if err := bcrypt.CompareHashAndPassword([]byte(hash[1]), []byte(password)); err != nil {
		t.Fatalf("the hash is not admin's password's: %v", err)
	}
	for _, name := range []string{serverConfFile, credentialsFile} {
		if strings.Contains(ts.secret(t, name), password) {
			t.Errorf("%s holds admin's password", name)
		}
	}
	ts.as(t, "admin") // fails the test if the server refuses
}

func TestWrongPasswordIsRejected(t *testing.T) {
	t.Parallel()
	ts := startTestServer(t)
	refusal, err := refusedSignIn(ts.creds, nats.UserInfo("admin", "a guess"))
	if err != nil {
		t.Fatal(err)
	}
	if refusal.Error() != "nats: Authorization Violation" {
		t.Errorf("refusal %q", refusal)
	}
}

func TestNoCredentialsAreRejected(t *testing.T) {
	t.Parallel()
	ts := startTestServer(t)
	if _, err := refusedSignIn(ts.creds, noCredentials); err != nil {
		t.Fatal(err)
	}
}

// A client that sends the hash from the configuration instead of the
// password is refused: the server hashes what it gets.
func TestSendingTheHashIsRejected(t *testing.T) {
	t.Parallel()
	ts := startTestServer(t)
	hash := regexp.MustCompile(`ADMIN_BCRYPT: "(.+)"`).FindStringSubmatch(ts.secret(t, credentialsFile))
	if hash == nil {
		t.Fatal("no hash for admin")
	}
	if _, err := refusedSignIn(ts.creds, nats.UserInfo("admin", hash[1])); err != nil {
		t.Fatal(err)
	}
}

// The client learns only "Authorization Violation": a user that does not
// exist and a wrong password read the same. The server's log says which
// user failed, and still not why.
func TestTheClientIsNotToldWhy(t *testing.T) {
	t.Parallel()
	ts := startTestServer(t)
	wrongPassword, err := refusedSignIn(ts.creds, nats.UserInfo("admin", "a guess"))
	if err != nil {
		t.Fatal(err)
	}
	noSuchUser, err := refusedSignIn(ts.creds, nats.UserInfo("nobody", "a guess"))
	if err != nil {
		t.Fatal(err)
	}
	if wrongPassword.Error() != noSuchUser.Error() {
		t.Errorf("a wrong password gives %q, an unknown user %q", wrongPassword, noSuchUser)
	}
	jstest.Eventually(t, func() error {
		if !strings.Contains(ts.log.String(), `authentication error - User "admin"`) {
			return errors.New("the server has not logged admin's failed sign-in")
		}
		return nil
	})
}

// No password or seed that config wrote appears in anything the chapter
// prints or returns, nor in the server's log with tracing on: the trace of
// a CONNECT shows the password as [REDACTED].
func TestNoSecretIsPrintedOrLogged(t *testing.T) {
	t.Parallel()
	ts := startTestServer(t)
	ctx := jstest.Context(t)
	var out bytes.Buffer
	if err := demo(ctx, ts.creds, &out); err != nil {
		t.Fatal(err)
	}
	// Failures print too: a server that is gone, and a password file that is.
	failures := []error{
		demo(ctx, credentials{url: "tls://127.0.0.1:1", dir: ts.creds.dir}, &out),
		nkeysStep(credentials{url: ts.creds.url, dir: t.TempDir()}, &out),
	}
	for _, err := range failures {
		if err == nil {
			t.Fatal("a broken setup did not fail")
		}
		out.WriteString(err.Error() + "\n")
	}
	jstest.Eventually(t, func() error {
		if !strings.Contains(ts.log.String(), `"pass":"[REDACTED]"`) {
			return errors.New("the server has not traced a CONNECT with a password yet")
		}
		return nil
	})
	secrets := map[string]string{}
	for _, user := range passwordUsers {
		secrets[user+".password"] = ts.secret(t, user+".password")
	}
	for _, user := range nkeyUsers {
		secrets[user+".nk"] = ts.secret(t, user+".nk")
	}
	for name, secret := range secrets {
		if len(secret) < 20 {
			t.Fatalf("%s holds %d characters", name, len(secret))
		}
		for where, text := range map[string]string{"the output": out.String(), "the server log": ts.log.String()} {
			if strings.Contains(text, secret) {
				t.Errorf("%s shows the secret of %s", where, name)
			}
		}
	}
}

// The files with secrets are for their owner only.
func TestSecretsAreForTheOwnerOnly(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "secure") // config creates it
	if err := writeConfig(dir, 4222, bcrypt.MinCost); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	public := map[string]bool{serverConfFile: true, caFile: true, serverCertFile: true}
	for _, entry := range entries {
		info, err := entry.Info()
		if err != nil {
			t.Fatal(err)
		}
		want := os.FileMode(0o600)
		if public[entry.Name()] {
			want = 0o644
		}
		if info.Mode().Perm() != want {
			t.Errorf("%s has mode %v, want %v", filepath.Join(dir, entry.Name()), info.Mode().Perm(), want)
		}
	}
	info, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o700 {
		t.Errorf("config created %s with mode %v, want 0700", dir, info.Mode().Perm())
	}
}
