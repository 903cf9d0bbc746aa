package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/cli"
	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// clusterWait bounds the waits for a cluster: a split first vote waits out
// a 4–9 s election timeout, and a loaded machine adds to that.
const clusterWait = 60 * time.Second

// clusterPorts returns n ports of 127.0.0.1 that nothing listens on, and
// the -routes value that names them all.
func clusterPorts(t *testing.T, n int) ([]string, string) {
	t.Helper()
	var listeners []net.Listener
	var ports, routes []string
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().String())
		routes = append(routes, "nats://"+l.Addr().String())
	}
	for _, l := range listeners {
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return ports, strings.Join(routes, ",")
}

// startNode runs the chapter as one node of a cluster, until the test ends
// or the node fails; the node's error arrives on the channel.
func startNode(t *testing.T, name, clusterPort, routes string) <-chan error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	store := t.TempDir()
	go func() {
		done <- run(ctx, []string{"-name", name, "-port", "-1", "-store", store, "-cluster", clusterPort, "-routes", routes}, io.Discard)
	}()
	t.Cleanup(cancel)
	return done
}

// Chapter 01 runs one node of a cluster with nats-server's -name, -cluster
// and -routes (chapter 10). It refuses what would break the cluster in
// silence: a cluster port without routes or the other way round, a node
// left with the default name, and two nodes of one name, which never elect
// a meta leader.
func TestClusterFlags(t *testing.T) {
	t.Run("usage", func(t *testing.T) {
		t.Parallel()
		for _, args := range [][]string{
			{"-name", "n1", "-cluster", "127.0.0.1:6222"},
			{"-name", "n1", "-routes", "nats://127.0.0.1:6222"},
			{"-cluster", "127.0.0.1:6222", "-routes", "nats://127.0.0.1:6222"},
			{"-name", "n1", "-cluster", "127.0.0.1", "-routes", "nats://127.0.0.1:6222"},
			{"-name", "n1", "-cluster", "127.0.0.1:6222", "-routes", "127.0.0.1:6222"},
		} {
			var usageErr *cli.UsageError
			if err := run(context.Background(), args, io.Discard); !errors.As(err, &usageErr) {
				t.Errorf("%q: %v, want a usage error", args, err)
			}
		}
	})

	t.Run("three nodes", func(t *testing.T) {
		t.Parallel()
		ports, routes := clusterPorts(t, 3)
		var urls []string
		for i, port := range ports {
			out, args := &syncBuffer{}, []string{"-name", fmt.Sprintf("n%d", i+1), "-port", "-1", "-store", t.TempDir(), "-cluster", port, "-routes", routes}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- run(ctx, args, out) }()
			t.Cleanup(func() { // like Ctrl+C: each node stops cleanly
				cancel()
				if err := <-done; err != nil {
					t.Errorf("n%d: %v", i+1, err)
				}
			})
			jstest.Eventually(t, func() error {
				for _, line := range strings.Split(out.String(), "\n") {
					if u, ok := strings.CutPrefix(line, "  client URL: "); ok {
						urls = append(urls, u)
						return nil
					}
				}
				return errors.New("no client URL yet")
			})
			if want := fmt.Sprintf("  cluster:    node n%d of \"tutorial\", routes on %s;", i+1, port); !strings.Contains(out.String(), want) {
				t.Errorf("n%d says:\n%s\nwant a line starting %q", i+1, out, want)
			}
		}
		nc, err := nats.Connect(strings.Join(urls, ","))
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		js, err := jetstream.New(nc)
		if err != nil {
			t.Fatal(err)
		}
		// A stream with three replicas: the three nodes are one cluster.
		err = jstest.WaitFor(clusterWait, func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "R3", Replicas: 3})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	})

	t.Run("one name twice", func(t *testing.T) {
		t.Parallel()
		ports, routes := clusterPorts(t, 2)
		first, second := startNode(t, "n1", ports[0], routes), startNode(t, "n1", ports[1], routes)
		select {
		case err := <-first:
			checkDuplicate(t, err)
		case err := <-second:
			checkDuplicate(t, err)
		case <-time.After(clusterWait):
			t.Fatalf("two nodes named n1 still run after %s", clusterWait)
		}
	})
}

func checkDuplicate(t *testing.T, err error) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), `another node of cluster "tutorial" is named n1 too, so no node can lead: give each its own -name`) {
		t.Errorf("a node named like another: %v", err)
	}
}
