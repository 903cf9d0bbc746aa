package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// clusterName is what every node of the demo's cluster calls it. A node
// with another cluster name refuses the routes of the others.
const clusterName = "tutorial"

// readyTimeout bounds the wait for a meta leader. It is usually elected in
// under a second, but a split first vote waits out the 4–9 s election timeout,
// and a loaded machine adds more: nats-server's own tests allow 40 s.
const readyTimeout = 30 * time.Second

// A node is one nats-server of the cluster, running in this process.
type node struct {
	name string
	opts *server.Options // what the node was started with, to start it again
	srv  *server.Server  // nil while the node is stopped
}

// A cluster is three nodes that know each other through their routes.
type cluster struct{ nodes []*node }

// startCluster starts n1, n2 and n3 in this process, each with its own store
// under dir, all on 127.0.0.1. Their cluster ports are picked free and then
// listened on; another program can take one in between, so a cluster whose
// node cannot listen is started again on other ports, up to three times.
func startCluster(dir string) (*cluster, error) {
	var err error
	for try := range 3 {
		stores := dir
		if try > 0 { // fresh stores: the nodes of a failed try may have written to theirs
			stores = filepath.Join(dir, fmt.Sprintf("try%d", try+1))
		}
		var c *cluster
		if c, err = startClusterOnce(stores); !errors.Is(err, errNotListening) {
			return c, err
		}
	}
	return nil, err
}

// errNotListening is a node that did not come up on its ports.
var errNotListening = errors.New("not listening")

func startClusterOnce(dir string) (*cluster, error) {
	clusterPorts, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	var routes []string // every node lists all three, itself included
	for _, port := range clusterPorts {
		routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", port))
	}
	c := &cluster{}
	for i, port := range clusterPorts {
		name := fmt.Sprintf("n%d", i+1)
		n := &node{name: name, opts: &server.Options{
			ServerName: name, // unique: two nodes with one name never elect a leader
			Host:       "127.0.0.1",
			Port:       server.RANDOM_PORT, // the client port
			JetStream:  true,
			StoreDir:   filepath.Join(dir, name), // never shared between nodes
			NoSigs:     true,
			Cluster: server.ClusterOpts{
				Name: clusterName, // the same on every node
				Host: "127.0.0.1", // the default, 0.0.0.0, would expose the routes
				Port: port,
			},
			Routes: server.RoutesFromStr(strings.Join(routes, ",")),
		}}
		c.nodes = append(c.nodes, n)
		if err := n.start(); err != nil {
			c.shutdown()
			return nil, err
		}
	}
	return c, nil
}

// start starts the node, on the same store and ports as before if it ran
// already. Listening is all it waits for: the cluster is not ready yet.
func (n *node) start() error {
	s, err := server.NewServer(n.opts.Clone()) // NewServer changes the options it is given
	if err != nil {
		return fmt.Errorf("configure node %s: %w", n.name, err)
	}
	s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		return fmt.Errorf("node %s is %w on 127.0.0.1:%d after 10s (is that port taken? run it again)", n.name, errNotListening, n.opts.Cluster.Port)
	}
	n.opts.Port = s.Addr().(*net.TCPAddr).Port // a restart keeps the client port
	n.srv = s
	return nil
}

// waitReady waits until one node is the meta leader, the node that places
// streams, and knows every running node: an R3 stream created before then
// fails with error 10005, "no suitable peers for placement".
func (c *cluster) waitReady(ctx context.Context) (metaLeader string, err error) {
	err = waitFor(ctx, readyTimeout, func() error {
		running := c.running()
		for _, n := range running {
			if n.srv.JetStreamIsLeader() && len(n.srv.JetStreamClusterPeers()) == len(running) {
				metaLeader = n.name
				return nil
			}
		}
		return errors.New("no meta leader that knows every node yet (are the node names unique, and the routes right?)")
	})
	return metaLeader, err
}

// urls lists the client URLs of all nodes, comma-separated, the form
// NATS_URL takes: a client tries them in turn and learns the rest.
func (c *cluster) urls() string {
	var urls []string
	for _, n := range c.nodes {
		urls = append(urls, fmt.Sprintf("nats://127.0.0.1:%d", n.opts.Port))
	}
	return strings.Join(urls, ",")
}

// running returns the nodes that are not stopped.
func (c *cluster) running() []*node {
	var nodes []*node
	for _, n := range c.nodes {
		if n.srv != nil {
			nodes = append(nodes, n)
		}
	}
	return nodes
}

// node returns the node called name, or nil.
func (c *cluster) node(name string) *node {
	for _, n := range c.nodes {
		if n.name == name {
			return n
		}
	}
	return nil
}

// stop shuts the node down the way Ctrl+C does: gracefully. Before it goes,
// it hands each group it leads to a follower, so there is no election to
// wait for. A crash (kill -9) gives it no such chance.
func (n *node) stop() {
	if n.srv != nil {
		n.srv.Shutdown()
		n.srv.WaitForShutdown()
		n.srv = nil
	}
}

// shutdown stops every node.
func (c *cluster) shutdown() {
	for _, n := range c.nodes {
		n.stop()
	}
}

// streamLeader returns the running node that leads stream, or nil while
// there is none (an election is under way, or quorum is lost).
func (c *cluster) streamLeader(stream string) *node {
	for _, n := range c.running() {
		if n.srv.JetStreamIsStreamLeader(server.DEFAULT_GLOBAL_ACCOUNT, stream) {
			return n
		}
	}
	return nil
}

// stored returns how many messages the node's own copy of stream holds.
func (n *node) stored(stream string) (uint64, error) {
	if n.srv == nil {
		return 0, fmt.Errorf("node %s is stopped", n.name)
	}
	acc, err := n.srv.JszAccount(&server.JSzOptions{Account: server.DEFAULT_GLOBAL_ACCOUNT, Streams: true})
	if err != nil {
		return 0, fmt.Errorf("read node %s's streams: %w", n.name, err)
	}
	for _, s := range acc.Streams {
		if s.Name == stream {
			return s.State.Msgs, nil
		}
	}
	return 0, fmt.Errorf("node %s holds no replica of %s", n.name, stream)
}

// freePorts returns n TCP ports of 127.0.0.1 that nothing listened on a
// moment ago. The routes must name every node's cluster port before the
// first node starts, so a random port chosen by the server is no use here.
func freePorts(n int) (ports []int, err error) {
	var listeners []net.Listener
	defer func() { // free them for the nodes
		for _, l := range listeners {
			err = errors.Join(err, l.Close())
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port for the routes: %w", err)
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// waitFor polls check until it returns nil, and returns its last error once
// limit has passed, or the cause of ctx's end.
func waitFor(ctx context.Context, limit time.Duration, check func() error) error {
	deadline := time.Now().Add(limit)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		err := check()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %s: %w", limit, err)
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-tick.C:
		}
	}
}
