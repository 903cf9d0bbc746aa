// Three JetStream servers in one process, and a stream that outlives its leader.
package main

import (
	"context"
	"fmt"
	"log"
	"net"
	"os"
	"slices"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func main() {
	log.SetFlags(0) // an error is one plain line
	dir, err := os.MkdirTemp("", "cluster-")
	check(err, "create a directory for the stores")
	defer os.RemoveAll(dir)
	seed, err := net.Listen("tcp", "127.0.0.1:0") // a free port for n1's routes
	check(err, "find a free port")
	check(seed.Close(), "free the port")

	// Three nodes of one cluster, with a store each; all route to n1, and meet there.
	var nodes []*server.Server
	for i, port := range []int{seed.Addr().(*net.TCPAddr).Port, server.RANDOM_PORT, server.RANDOM_PORT} {
		s, err := server.NewServer(&server.Options{
			ServerName: fmt.Sprintf("n%d", i+1), // unique, or no leader is ever elected
			Host:       "127.0.0.1", Port: server.RANDOM_PORT,
			JetStream: true, StoreDir: fmt.Sprintf("%s/n%d", dir, i+1),
			Cluster: server.ClusterOpts{Name: "tutorial", Host: "127.0.0.1", Port: port},
			Routes:  server.RoutesFromStr("nats://" + seed.Addr().String()),
		})
		check(err, "configure a node")
		s.Start()
		defer s.Shutdown()
		nodes = append(nodes, s)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for !slices.ContainsFunc(nodes, knowsAll) { // the meta leader places each replica on a node
		check(ctx.Err(), "wait for a meta leader that knows all 3 nodes")
		time.Sleep(10 * time.Millisecond)
	}

	nc, err := nats.Connect(nodes[0].ClientURL()) // n1 tells the client about n2 and n3
	check(err, "connect to n1")
	defer nc.Close()
	js, err := jetstream.New(nc)
	check(err, "create a JetStream context")
	_, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}, Replicas: 3})
	check(err, "create stream ORDERS")
	for n := 1; n <= 6; n++ {
		if n == 4 { // stop the leader: a follower takes over, with every message
			nodes[slices.IndexFunc(nodes, leadsOrders)].Shutdown()
			fmt.Println("stopped the leader of ORDERS")
		}
		// No answer until a new leader is elected: send again, with the same ID.
		for {
			attempt, cancelAttempt := context.WithTimeout(ctx, time.Second)
			ack, err := js.Publish(attempt, "orders.new", fmt.Appendf(nil, "order %d", n), jetstream.WithMsgID(fmt.Sprint(n)))
			cancelAttempt()
			if err == nil {
				fmt.Printf("order %d stored as message %d\n", n, ack.Sequence)
				break
			}
			check(ctx.Err(), fmt.Sprintf("publish order %d (%v)", n, err))
		}
	}
}

func knowsAll(s *server.Server) bool    { return len(s.JetStreamClusterPeers()) == 3 }
func leadsOrders(s *server.Server) bool { return s.JetStreamIsStreamLeader("$G", "ORDERS") }

func check(err error, what string) {
	if err != nil {
		log.Fatalf("%s: %v", what, err)
	}
}
