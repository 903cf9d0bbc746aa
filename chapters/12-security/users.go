package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// credentials are what the chapter's clients know, read from the directory
// that config wrote: the server's address, the CA to trust, the passwords,
// and the nkey seeds.
type credentials struct {
	url string // such as tls://127.0.0.1:4222
	dir string
}

// session is one user's connection. The server's refusals of what it may
// not do arrive on refusals: they are not the return value of any call.
type session struct {
	nc       *nats.Conn
	js       jetstream.JetStream
	refusals chan error
}

func (s *session) close() { s.nc.Close() }

// password reads user's password from DIR/USER.password, which config wrote
// with mode 0600. It never goes into an error message.
func (c credentials) password(user string) (string, error) {
	data, err := os.ReadFile(filepath.Join(c.dir, user+".password"))
	if err != nil {
		return "", fmt.Errorf("read the password of %s: %w (write it with: go run ./chapters/12-security config -dir %s)", user, err, c.dir)
	}
	return strings.TrimSpace(string(data)), nil
}

// docs:start connect
// connect signs in as user: with its password, or for the users that have
// an nkey seed file (USER.nk) with that key. auth replaces both when set.
// Every connection trusts ca.pem, and sends the server's asynchronous
// errors to the session's refusals instead of nats.go's default handler,
// which prints them to stderr.
func (c credentials) connect(user string, auth nats.Option) (*session, error) {
	if auth == nil {
		var err error
		if auth, err = c.signIn(user); err != nil {
			return nil, err
		}
	}
	refusals := make(chan error, 8)
	nc, err := nats.Connect(c.url, auth,
		nats.Name("12-security "+user),
		nats.RootCAs(filepath.Join(c.dir, caFile)),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			select {
			case refusals <- err:
			default: // nobody is listening for more; never block nats.go
			}
		}))
	if err != nil {
		return nil, fmt.Errorf("connect to %s as %s: %w", c.url, user, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("create a JetStream context for %s: %w", user, err)
	}
	return &session{nc: nc, js: js, refusals: refusals}, nil
}

// docs:end connect

func (c credentials) signIn(user string) (nats.Option, error) {
	seed := filepath.Join(c.dir, user+".nk")
	if _, err := os.Stat(seed); err == nil {
		auth, err := nats.NkeyOptionFromSeed(seed)
		if err != nil {
			return nil, fmt.Errorf("read the nkey seed of %s: %w", user, err)
		}
		return auth, nil
	}
	password, err := c.password(user)
	if err != nil {
		return nil, err
	}
	return nats.UserInfo(user, password), nil
}

// docs:start users-step
// usersStep signs in with a password, a wrong one, and none. The server
// compares the password with the bcrypt hash in its configuration, and
// tells a client that fails only "Authorization Violation": not which
// user, and not why. It returns admin's session for the steps after it.
func usersStep(creds credentials, out io.Writer) (*session, error) {
	fmt.Fprintln(out, "Passwords, checked against bcrypt hashes:")
	admin, err := creds.connect("admin", nil)
	if err != nil {
		return nil, err
	}
	result(out, "admin with its password", "connected")

	for _, try := range []struct {
		what string
		auth nats.Option
	}{
		{"admin with a wrong password", nats.UserInfo("admin", "a guess")},
		{"no credentials", noCredentials},
	} {
		refusal, err := refusedSignIn(creds, try.auth)
		if err != nil {
			admin.close()
			return nil, fmt.Errorf("%s: %w", try.what, err)
		}
		result(out, try.what, refusal.Error())
	}
	return admin, nil
}

// docs:end users-step

// noCredentials signs in as nobody: no user, no password, no key.
func noCredentials(*nats.Options) error { return nil }

// refusedSignIn returns the server's refusal to let a client in with auth:
// nats.Connect fails at once, with nats.ErrAuthorization.
func refusedSignIn(creds credentials, auth nats.Option) (refusal error, err error) {
	s, err := creds.connect("a stranger", auth)
	if err == nil {
		s.close()
		return nil, errors.New("the server let the client in")
	}
	if !errors.Is(err, nats.ErrAuthorization) {
		return nil, fmt.Errorf("want nats.ErrAuthorization, got %w", err)
	}
	return errors.Unwrap(err), nil
}

// result prints one line of the scenario: what was tried, and what the
// server made of it.
func result(out io.Writer, what, outcome string) {
	fmt.Fprintf(out, "  %-34s %s\n", what+":", outcome)
}
