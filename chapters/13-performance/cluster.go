package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// cluster is three JetStream servers in this process, routed to each other
// on 127.0.0.1, as chapter 10 builds it. Here it only serves to compare R3
// with R1 on the same machine: the nodes share its cores, and the network
// is loopback.
type cluster struct {
	nodes []*server.Server
	dir   string
}

func startCluster() (*cluster, error) {
	dir, err := os.MkdirTemp("", "jetstream-tutorial-cluster-*")
	if err != nil {
		return nil, fmt.Errorf("create a directory for the cluster's stores: %w", err)
	}
	c := &cluster{dir: dir}
	var ports []int
	var routes []string
	for range 3 { // the routes name every node's port before the first one starts
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, errors.Join(fmt.Errorf("find a free port: %w", err), c.stop())
		}
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
		routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", ports[len(ports)-1]))
		if err := l.Close(); err != nil {
			return nil, errors.Join(err, c.stop())
		}
	}
	for i, port := range ports {
		name := fmt.Sprintf("n%d", i+1)
		s, err := server.NewServer(&server.Options{
			ServerName: name,
			Host:       "127.0.0.1",
			Port:       server.RANDOM_PORT,
			JetStream:  true,
			StoreDir:   filepath.Join(dir, name),
			NoSigs:     true,
			Cluster:    server.ClusterOpts{Name: "perf", Host: "127.0.0.1", Port: port},
			Routes:     server.RoutesFromStr(strings.Join(routes, ",")),
		})
		if err != nil {
			return nil, errors.Join(fmt.Errorf("configure node %s: %w", name, err), c.stop())
		}
		s.Start()
		c.nodes = append(c.nodes, s)
		if !s.ReadyForConnections(10 * time.Second) {
			return nil, errors.Join(fmt.Errorf("node %s is not listening after 10 s", name), c.stop())
		}
	}
	// A stream placed before the meta leader knows all three fails (10005).
	err = waitFor(30*time.Second, func() error {
		for _, s := range c.nodes {
			if s.JetStreamIsLeader() && len(s.JetStreamClusterPeers()) == 3 {
				return nil
			}
		}
		return errors.New("no meta leader that knows all three nodes yet")
	})
	if err != nil {
		return nil, errors.Join(err, c.stop())
	}
	return c, nil
}

// leaderURL is the client URL of the node that leads stream: a client there
// saves the hop to the leader that every message would otherwise take.
func (c *cluster) leaderURL(ctx context.Context, stream string) (string, error) {
	var url string
	err := waitFor(20*time.Second, func() error {
		if err := ctx.Err(); err != nil {
			return err
		}
		for _, s := range c.nodes {
			if s.JetStreamIsStreamLeader(server.DEFAULT_GLOBAL_ACCOUNT, stream) {
				url = s.ClientURL()
				return nil
			}
		}
		return fmt.Errorf("stream %s has no leader yet", stream)
	})
	return url, err
}

// url lists every node, for a client that may connect to any.
func (c *cluster) url() string {
	var urls []string
	for _, s := range c.nodes {
		urls = append(urls, s.ClientURL())
	}
	return strings.Join(urls, ",")
}

func (c *cluster) stop() error {
	for _, s := range c.nodes {
		s.Shutdown()
		s.WaitForShutdown()
	}
	if err := os.RemoveAll(c.dir); err != nil {
		return fmt.Errorf("remove the cluster's stores: %w", err)
	}
	return nil
}

// waitFor polls check until it returns nil, or returns its last error once
// limit has passed.
func waitFor(limit time.Duration, check func() error) error {
	deadline := time.Now().Add(limit)
	for {
		err := check()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("still not true after %s: %w", limit, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
