// Chapter 12 is security: who may connect, what each user may publish and
// read, accounts that keep streams apart, and TLS on the wire. The seed's
// server has none of it: it listens on every address, and anyone who
// reaches the port may do anything.
//
//	go run ./chapters/12-security                                the scenario, on a server of its own
//	go run ./chapters/12-security config -dir DIR -port 4222     write DIR/server.conf for nats-server -c
//	NATS_URL=tls://127.0.0.1:4222 go run ./chapters/12-security -dir DIR
//	                                                             the scenario, on that server
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/cli"
	"golang.org/x/crypto/bcrypt"
)

const usage = `usage: 12-security [-server URL] [-dir DIR]      (the scenario; with neither, on a server of its own)
       12-security config -dir DIR [-port 4222] [-cost 10]`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(cli.Exit("12-security", run(ctx, os.Args[1:], os.Stdout)))
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	role := "demo"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		role, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("12-security "+role, flag.ContinueOnError)
	dir := fs.String("dir", "", "the directory that 12-security config wrote")
	var serverURL *string
	var port, cost *int
	switch role {
	case "demo":
		serverURL = fs.String("server", os.Getenv("NATS_URL"), "the server of DIR/server.conf; empty starts it in this process (default $NATS_URL)")
	case "config":
		fs.Lookup("dir").Usage = "the directory to write server.conf and its files into (created if missing)"
		port = fs.Int("port", 4222, "the port the server listens on, at 127.0.0.1")
		cost = fs.Int("cost", bcrypt.DefaultCost, fmt.Sprintf("bcrypt cost of the password hashes, %d to %d: each step doubles the work of every sign-in", bcrypt.MinCost, bcrypt.MaxCost))
	default:
		return cli.Usagef(usage, "unknown role %q", role)
	}
	if err := cli.Parse(fs, usage, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return cli.Usagef(usage, "unexpected argument %q", fs.Arg(0))
	}

	if role == "config" {
		switch {
		case *dir == "":
			return cli.Usagef(usage, "config needs -dir: where to write server.conf")
		case *port < 1 || *port > 65535:
			return cli.Usagef(usage, "-port %d: want 1 to 65535", *port)
		case *cost < bcrypt.MinCost || *cost > bcrypt.MaxCost:
			return cli.Usagef(usage, "-cost %d: want %d to %d", *cost, bcrypt.MinCost, bcrypt.MaxCost)
		}
		if err := writeConfig(*dir, *port, *cost); err != nil {
			return err
		}
		return printWritten(stdout, *dir, *port)
	}
	if *serverURL != "" && *dir == "" {
		return cli.Usagef(usage, "with a server URL, -dir must name the directory 12-security config wrote for it: the clients need its ca.pem and credentials")
	}
	return demoOn(ctx, *serverURL, *dir, stdout)
}

// demoOn runs the scenario on the server at serverURL, with the files in
// dir. An empty serverURL starts the server of dir/server.conf in this
// process; an empty dir too writes a configuration into a temporary
// directory first, with a free port.
func demoOn(ctx context.Context, serverURL, dir string, stdout io.Writer) (err error) {
	if dir == "" {
		tmp, err := os.MkdirTemp("", "12-security-*")
		if err != nil {
			return fmt.Errorf("create a temporary directory: %w", err)
		}
		defer func() { err = errors.Join(err, os.RemoveAll(tmp)) }()
		// bcrypt's least cost: a hash's cost slows down whoever guesses at a
		// stolen hash, and these go with the directory when the run ends.
		if err := writeConfig(tmp, -1, bcrypt.MinCost); err != nil {
			return err
		}
		dir = tmp
	}
	conf := filepath.Join(dir, serverConfFile)
	if _, err := os.Stat(conf); err != nil {
		return fmt.Errorf("read %s: %w (write it with: go run ./chapters/12-security config -dir %s)", conf, err, dir)
	}
	if serverURL == "" {
		s, err := startServer(conf, nil)
		if err != nil {
			return err
		}
		defer func() {
			s.Shutdown()
			s.WaitForShutdown()
		}()
		serverURL = s.ClientURL()
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return demo(ctx, credentials{url: serverURL, dir: dir}, stdout)
}

// demo runs the chapter's scenario, one section of the page after another.
func demo(ctx context.Context, creds credentials, out io.Writer) error {
	if err := removeOthersOrders(ctx, creds); err != nil { // left by an earlier run
		return err
	}
	admin, err := usersStep(creds, out)
	if err != nil {
		return err
	}
	defer admin.close()
	if err := nkeysStep(creds, out); err != nil {
		return err
	}
	if err := permissionsStep(ctx, creds, admin, out); err != nil {
		return err
	}
	if err := accountsStep(ctx, creds, admin, out); err != nil {
		return err
	}
	return tlsStep(ctx, creds, admin, out)
}

// printWritten tells the reader what config wrote, and what to run next.
func printWritten(out io.Writer, dir string, port int) error {
	_, err := fmt.Fprintf(out, `Wrote %[1]s for nats-server -c, and the files it names:
  %[2]s: the CA that clients trust (its private key is not kept)
  %[3]s and %[4]s: the server's certificate, for 127.0.0.1 and localhost, and its key
  %[5]s: bcrypt hashes and nkey public keys, which server.conf includes
  %[6]s: the passwords
  %[7]s: the nkey seeds
The certificates are valid for 30 days. Keep the directory private: it holds keys and passwords.
Start the server:  nats-server -c %[1]s
Run the scenario:  NATS_URL=tls://127.0.0.1:%[8]d go run ./chapters/12-security -dir %[9]s
`, filepath.Join(dir, serverConfFile), caFile, serverCertFile, serverKeyFile, credentialsFile,
		strings.Join(suffixed(passwordUsers, ".password"), ", "), strings.Join(suffixed(nkeyUsers, ".nk"), ", "), port, dir)
	return err
}

func suffixed(names []string, suffix string) []string {
	var out []string
	for _, name := range names {
		out = append(out, name+suffix)
	}
	return out
}
