package main

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"text/template"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"
	"golang.org/x/crypto/bcrypt"
)

// The files config writes into its directory. Those with secrets are
// readable by their owner only (0600).
const (
	serverConfFile  = "server.conf"      // what nats-server -c reads
	credentialsFile = "credentials.conf" // bcrypt hashes and public keys; server.conf includes it
	caFile          = "ca.pem"           // the authority clients trust
	serverCertFile  = "server-cert.pem"  // the server's certificate, for 127.0.0.1 and localhost
	serverKeyFile   = "server-key.pem"   // its private key (0600)
)

var (
	passwordUsers = []string{"admin", "other", "nojs"} // USER.password (0600)
	nkeyUsers     = []string{"publisher", "reader"}    // USER.nk, the nkey seed (0600)
)

// serverConf is the template of server.conf. Everything secret or random
// is in credentials.conf, which it includes, so it reads the same for
// everyone who writes it for the same directory and port.
var serverConf = template.Must(template.New(serverConfFile).Parse(`# nats-server -c {{.Conf}}
# Chapter 12's server: on this machine only, TLS required, every client a known user.
listen: {{.Listen}}

tls {
  cert_file: {{.Cert}}
  key_file: {{.Key}}
}

jetstream: {store_dir: {{.Store}}}

# ADMIN_BCRYPT and the others: bcrypt hashes of the passwords, and nkey public keys.
include "credentials.conf"

accounts {
  APP: {
    jetstream: enabled
    users: [
      {user: admin, password: $ADMIN_BCRYPT}     # no permissions: anything within APP
      {nkey: $PUBLISHER_NKEY, permissions: {
        publish: "orders.>"                       # the stream's subjects
        subscribe: "_INBOX.>"                     # where the PubAcks arrive
      }}
      {nkey: $READER_NKEY, permissions: {
        publish: [
          "$JS.API.CONSUMER.INFO.ORDERS.worker"     # js.Consumer
          "$JS.API.CONSUMER.MSG.NEXT.ORDERS.worker" # Fetch, Messages
          "$JS.ACK.ORDERS.worker.>"                 # acks: each message's reply subject
        ]
        subscribe: "_INBOX.>"                     # where the messages and answers arrive
      }}
    ]
  }
  OTHER: {
    jetstream: enabled                            # streams of its own, apart from APP's
    users: [{user: other, password: $OTHER_BCRYPT}]
  }
  NOJS: {
    users: [{user: nojs, password: $NOJS_BCRYPT}] # no jetstream: core NATS only
  }
}
`))

// file is one file that config writes.
type file struct {
	name string
	data []byte
	mode os.FileMode
}

// writeConfig writes server.conf into dir, with everything it references:
// a throwaway CA's certificate, the server's key pair, and the users'
// credentials. The server listens on 127.0.0.1:port (-1: any free port).
// cost is the bcrypt cost of the password hashes.
func writeConfig(dir string, port, cost int) error {
	dir, err := filepath.Abs(dir) // nats-server reads cert_file relative to its working directory
	if err != nil {
		return fmt.Errorf("find directory %s: %w", dir, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create directory %s: %w", dir, err)
	}
	conf := filepath.Join(dir, serverConfFile)
	switch _, err := os.Stat(conf); {
	case err == nil:
		return fmt.Errorf("%s exists already: choose another -dir, or remove it to start over", conf)
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("check for an earlier configuration: %w", err)
	}

	ca, err := newAuthority("12-security CA")
	if err != nil {
		return err
	}
	serverPair, err := ca.issue(leaf{name: "nats-server", ips: []net.IP{net.IPv4(127, 0, 0, 1)}, dns: []string{"localhost"}})
	if err != nil {
		return err
	}
	serverKey, err := keyPEM(serverPair)
	if err != nil {
		return err
	}
	files := []file{
		{caFile, certPEM(ca.cert), 0o644},
		{serverCertFile, certPEM(serverPair.Leaf), 0o644},
		{serverKeyFile, serverKey, 0o600},
	}

	credentials := []string{"# Written by 12-security config; server.conf includes it. Keep it private.\n"}
	for _, user := range passwordUsers {
		password := rand.Text() // 26 characters, 130 random bits
		hash, err := bcrypt.GenerateFromPassword([]byte(password), cost)
		if err != nil {
			return fmt.Errorf("hash the password of %s: %w", user, err)
		}
		files = append(files, file{user + ".password", []byte(password + "\n"), 0o600})
		credentials = append(credentials, fmt.Sprintf("%s_BCRYPT: %q\n", strings.ToUpper(user), hash))
	}
	for _, user := range nkeyUsers {
		pair, err := nkeys.CreateUser()
		if err != nil {
			return fmt.Errorf("create the key pair of %s: %w", user, err)
		}
		seed, err := pair.Seed()
		if err != nil {
			return fmt.Errorf("read the seed of %s: %w", user, err)
		}
		public, err := pair.PublicKey()
		if err != nil {
			return fmt.Errorf("read the public key of %s: %w", user, err)
		}
		files = append(files, file{user + ".nk", append(seed, '\n'), 0o600})
		credentials = append(credentials, fmt.Sprintf("%s_NKEY: %q\n", strings.ToUpper(user), public))
	}
	files = append(files, file{credentialsFile, []byte(strings.Join(credentials, "")), 0o600})

	var text strings.Builder
	if err := serverConf.Execute(&text, map[string]string{
		"Conf":   conf,
		"Listen": strconv.Quote("127.0.0.1:" + strconv.Itoa(port)),
		"Cert":   strconv.Quote(filepath.Join(dir, serverCertFile)),
		"Key":    strconv.Quote(filepath.Join(dir, serverKeyFile)),
		"Store":  strconv.Quote(filepath.Join(dir, "store")),
	}); err != nil {
		return fmt.Errorf("write %s: %w", serverConfFile, err)
	}
	// server.conf comes last: a directory without it is one config may write again.
	files = append(files, file{serverConfFile, []byte(text.String()), 0o644})
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f.name), f.data, f.mode); err != nil {
			return fmt.Errorf("write %s: %w", f.name, err)
		}
	}
	return nil
}

// startServer starts an embedded server from the configuration file at
// conf, as nats-server -c conf would. logs, if not nil, receives the
// server's log, traces included; tests read it.
func startServer(conf string, logs io.Writer) (*server.Server, error) {
	opts, err := server.ProcessConfigFile(conf)
	if err != nil {
		return nil, fmt.Errorf("the server refuses %s: %w", conf, err)
	}
	opts.NoSigs = true // Ctrl+C stops the chapter, and the chapter stops the server
	if opts.Port > 0 {
		// Say plainly what nats-server would only log.
		address := net.JoinHostPort(opts.Host, strconv.Itoa(opts.Port))
		l, err := net.Listen("tcp", address)
		if err != nil {
			return nil, fmt.Errorf("the server of %s cannot listen: %w (is it running already? then set NATS_URL=tls://%s)", conf, err, address)
		}
		if err := l.Close(); err != nil {
			return nil, fmt.Errorf("free %s for the server: %w", address, err)
		}
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("the server refuses %s: %w", conf, err)
	}
	log := &serverLog{out: logs}
	s.SetLoggerV2(log, logs != nil, logs != nil, false)
	s.Start() // returns once the server listens, or has logged why it cannot
	if fatal := log.fatalError(); fatal != "" {
		s.Shutdown()
		return nil, fmt.Errorf("start the server of %s: %s", conf, fatal)
	}
	if !s.ReadyForConnections(5 * time.Second) {
		s.Shutdown()
		return nil, fmt.Errorf("start the server of %s: not ready for connections within 5s", conf)
	}
	return s, nil
}

// serverLog is the embedded server's logger. It keeps what stops the
// server (Fatalf: a port in use, a store it cannot open) for startServer
// to report, and passes every line to out, if set.
type serverLog struct {
	out   io.Writer
	mu    sync.Mutex
	fatal string
}

func (l *serverLog) fatalError() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.fatal
}

func (l *serverLog) logf(level, format string, v ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if level == "FTL" && l.fatal == "" {
		l.fatal = fmt.Sprintf(format, v...)
	}
	if l.out != nil {
		fmt.Fprintf(l.out, "["+level+"] "+format+"\n", v...)
	}
}

func (l *serverLog) Noticef(format string, v ...any) { l.logf("INF", format, v...) }
func (l *serverLog) Warnf(format string, v ...any)   { l.logf("WRN", format, v...) }
func (l *serverLog) Fatalf(format string, v ...any)  { l.logf("FTL", format, v...) }
func (l *serverLog) Errorf(format string, v ...any)  { l.logf("ERR", format, v...) }
func (l *serverLog) Debugf(format string, v ...any)  { l.logf("DBG", format, v...) }
func (l *serverLog) Tracef(format string, v ...any)  { l.logf("TRC", format, v...) }
