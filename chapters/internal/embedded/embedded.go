// Package embedded starts a throwaway JetStream server inside the chapter's
// own process, so that every chapter runs with nothing installed.
//
// Chapter 01 teaches how to start a server; from chapter 02 on this package
// hides that step and nothing else.
package embedded

import (
	"fmt"
	"os"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// ServerName is the name the embedded server reports to clients, so that
// printed output does not depend on a random server ID.
const ServerName = "embedded"

// Server is a running embedded JetStream server with a private store.
type Server struct {
	*server.Server
	storeDir string
	ownStore bool
}

// Options describes the server to start. The zero value is what the
// chapters use: JetStream on, file store in a fresh temporary directory.
type Options struct {
	StoreDir     string // empty: a new temporary directory, removed by Stop
	NoJetStream  bool   // start a core-only server, as nats-server without -js
	SyncAlways   bool   // fsync before every acknowledgement (chapter 09)
	ServerName   string // empty: ServerName
	ReadyTimeout time.Duration
}

// Start starts a server on 127.0.0.1 at a random free port.
func Start(opts Options) (*Server, error) {
	storeDir, ownStore := opts.StoreDir, false
	if storeDir == "" && !opts.NoJetStream {
		dir, err := os.MkdirTemp("", "jetstream-tutorial-*")
		if err != nil {
			return nil, fmt.Errorf("create a temporary store directory: %w", err)
		}
		storeDir, ownStore = dir, true
	}
	name := opts.ServerName
	if name == "" {
		name = ServerName
	}
	s, err := server.NewServer(&server.Options{
		ServerName: name,
		Host:       "127.0.0.1",
		Port:       server.RANDOM_PORT, // 0 would mean 4222
		JetStream:  !opts.NoJetStream,
		StoreDir:   storeDir,
		SyncAlways: opts.SyncAlways,
		NoSigs:     true, // the chapter handles Ctrl+C itself
	})
	if err != nil {
		removeIf(ownStore, storeDir)
		return nil, fmt.Errorf("configure the embedded server: %w", err)
	}
	s.Start()
	ready := opts.ReadyTimeout
	if ready == 0 {
		ready = 5 * time.Second
	}
	if !s.ReadyForConnections(ready) {
		s.Shutdown()
		removeIf(ownStore, storeDir)
		return nil, fmt.Errorf("the embedded server was not ready within %s", ready)
	}
	return &Server{Server: s, storeDir: storeDir, ownStore: ownStore}, nil
}

// URL is the address clients connect to, such as nats://127.0.0.1:41234.
func (s *Server) URL() string { return s.ClientURL() }

// StoreDir is where the server keeps its streams.
func (s *Server) StoreDir() string { return s.storeDir }

// Stop shuts the server down and removes a store that Start created.
func (s *Server) Stop() {
	s.Shutdown()
	s.WaitForShutdown()
	removeIf(s.ownStore, s.storeDir)
}

func removeIf(own bool, dir string) {
	if own {
		// Best effort: a leftover temporary directory is harmless, and a
		// chapter that already finished its work should not fail on it.
		if err := os.RemoveAll(dir); err != nil {
			fmt.Fprintf(os.Stderr, "warning: could not remove %s: %v\n", dir, err)
		}
	}
}

// URLOrStart implements the run contract shared by the chapters: a non-empty
// serverURL (from -server or NATS_URL) is used as it is and stop does
// nothing; an empty one starts an embedded server that stop shuts down.
func URLOrStart(serverURL string) (url string, stop func(), err error) {
	if serverURL != "" {
		return serverURL, func() {}, nil
	}
	s, err := Start(Options{})
	if err != nil {
		return "", nil, err
	}
	return s.URL(), s.Stop, nil
}
