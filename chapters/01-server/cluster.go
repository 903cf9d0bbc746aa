package main

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/cli"
	"github.com/nats-io/nats-server/v2/server"
)

// clusterName is the name of the cluster a node joins with -cluster, as
// nats-server's --cluster_name: every node of one cluster must use it.
const clusterName = "tutorial"

// clusterOptions turns -cluster and -routes into the server's options, as
// nats-server's --cluster and --routes do (chapter 10). Both or neither: a
// cluster port without routes stops JetStream from starting, and routes
// without a cluster port lead nowhere. A node of a cluster needs a name of
// its own, so the default name will not do.
func clusterOptions(name string, nameSet bool, listen, routes string) (server.ClusterOpts, []*url.URL, error) {
	switch {
	case listen == "" && routes == "":
		return server.ClusterOpts{}, nil, nil
	case routes == "":
		return server.ClusterOpts{}, nil, cli.Usagef(usage, "-cluster needs -routes: the cluster ports of all the nodes, this one included")
	case listen == "":
		return server.ClusterOpts{}, nil, cli.Usagef(usage, "-routes needs -cluster: where this node listens for the others")
	case !nameSet:
		return server.ClusterOpts{}, nil, cli.Usagef(usage, "a node of a cluster needs a -name of its own, such as -name n1 (the default, %q, would be every node's)", name)
	}
	host, port, err := net.SplitHostPort(strings.TrimPrefix(listen, "nats://"))
	if err != nil {
		return server.ClusterOpts{}, nil, cli.Usagef(usage, "-cluster %q: %v (write it as 127.0.0.1:6222)", listen, err)
	}
	if host == "" {
		host = "127.0.0.1" // not 0.0.0.0, nats-server's default: the routes stay on this machine
	}
	portNumber, err := strconv.Atoi(port)
	if err != nil || portNumber < 1 || portNumber > 65535 {
		return server.ClusterOpts{}, nil, cli.Usagef(usage, "-cluster %q: the port must be a number from 1 to 65535", listen)
	}
	var urls []*url.URL
	for _, route := range strings.Split(routes, ",") {
		u, err := url.Parse(strings.TrimSpace(route))
		if err != nil || u.Scheme != "nats" || u.Port() == "" {
			return server.ClusterOpts{}, nil, cli.Usagef(usage, "-routes: %q is not a route such as nats://127.0.0.1:6222", route)
		}
		urls = append(urls, u)
	}
	return server.ClusterOpts{Name: clusterName, Host: host, Port: portNumber}, urls, nil
}

// duplicateNames is the server's logger while it runs in a cluster, and
// keeps nothing but one error: a route refused because the node at its other
// end has this node's name. The server only logs it, and goes on without a
// meta leader, for good; the chapter stops instead. The server gives the
// error no code, so its text is what there is to match.
type duplicateNames chan string

func (d duplicateNames) Errorf(format string, v ...any) {
	if msg := fmt.Sprintf(format, v...); strings.Contains(msg, "duplicate name") {
		select {
		case d <- msg:
		default: // one is enough
		}
	}
}

func (duplicateNames) Noticef(string, ...any) {}
func (duplicateNames) Warnf(string, ...any)   {}
func (duplicateNames) Fatalf(string, ...any)  {}
func (duplicateNames) Debugf(string, ...any)  {}
func (duplicateNames) Tracef(string, ...any)  {}
