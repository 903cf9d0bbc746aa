package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/rogpeppe/go-internal/txtar"
)

// The bench role is the chapter's measurement procedure, written down so
// that anyone can run it again on a machine of their own:
//
//	go run ./chapters/13-performance bench -machine "8-core laptop, idle" -out results.txtar
//
// It needs the nats-server and nats (natscli) binaries on PATH, starts a
// server of its own, and measures every comparison the page makes. Each
// ratio is taken within one repetition, where the things compared ran one
// after the other, in an order that turns from one repetition to the next;
// the table gives the median over the repetitions, their range, and the
// load average while they ran. Absolute rates say how busy the machine
// was; ratios say what a setting costs.

// benchSteps are the bench role's measurements, in the order they run.
var benchSteps = []string{"reference", "batch", "window", "settings", "consume", "latency", "size", "publishers", "storage", "replicas", "inprocess", "pacer"}

type benchConfig struct {
	reps    int
	scale   float64
	steps   []string
	machine string
	out     string
}

func parseSteps(list string) ([]string, error) {
	var steps []string
	for _, s := range strings.Split(list, ",") {
		if !slices.Contains(benchSteps, s) {
			return nil, fmt.Errorf("-steps: no step %q (the steps are %s)", s, strings.Join(benchSteps, ", "))
		}
		steps = append(steps, s)
	}
	return steps, nil
}

// bench is a running measurement.
type bench struct {
	benchConfig
	self   string      // this program, run as a process of its own for the reference step
	dir    string      // servers' stores and logs
	server *realServer // nats-server -js, the binary
	log    io.Writer   // progress
}

// table is one file of the results archive.
type table struct{ name, text string }

func runBench(ctx context.Context, cfg benchConfig, out, log io.Writer) error {
	started, loadBefore := time.Now(), loadAverage()
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find this program, to run its publish role: %w", err)
	}
	serverVersion, err := toolVersion("nats-server", "go install github.com/nats-io/nats-server/v2@v2.15.2")
	if err != nil {
		return err
	}
	natsVersion, err := toolVersion("nats", "go install github.com/nats-io/natscli/nats@v0.5.0")
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "jetstream-tutorial-bench-*")
	if err != nil {
		return fmt.Errorf("create a directory for the servers: %w", err)
	}
	defer func() {
		if err := os.RemoveAll(dir); err != nil {
			fmt.Fprintf(log, "bench: remove %s: %v\n", dir, err)
		}
	}()
	server, err := startRealServer(dir, "default", false)
	if err != nil {
		return err
	}
	defer server.stop()
	b := &bench{benchConfig: cfg, self: self, dir: dir, server: server, log: log}

	var tables []table
	for _, step := range cfg.steps {
		fmt.Fprintf(log, "bench: %s\n", step)
		ts, err := b.step(ctx, step)
		if err != nil {
			return fmt.Errorf("bench %s: %w", step, err)
		}
		for _, t := range ts {
			fmt.Fprintf(out, "-- %s --\n%s\n", t.name, t.text)
		}
		tables = append(tables, ts...)
	}
	machine := machineTable(cfg, started, loadBefore, serverVersion, natsVersion)
	fmt.Fprintf(out, "-- machine --\n%s", machine)
	if cfg.out == "" {
		return nil
	}
	archive := &txtar.Archive{Comment: []byte("Written by the bench role of chapters/13-performance; docs/measuring.md says how to read it.\n")}
	archive.Files = append(archive.Files, txtar.File{Name: "machine", Data: []byte(machine)})
	for _, t := range tables {
		archive.Files = append(archive.Files, txtar.File{Name: t.name, Data: []byte(t.text)})
	}
	if err := os.WriteFile(cfg.out, txtar.Format(archive), 0o644); err != nil {
		return fmt.Errorf("write the results: %w", err)
	}
	fmt.Fprintf(log, "bench: wrote %s\n", cfg.out)
	return nil
}

func (b *bench) step(ctx context.Context, name string) ([]table, error) {
	switch name {
	case "reference":
		return b.reference(ctx)
	case "batch":
		return b.batch(ctx)
	case "window":
		return b.window(ctx)
	case "settings":
		return b.settings(ctx)
	case "consume":
		return b.consume(ctx)
	case "latency":
		return b.latency(ctx)
	case "size":
		return b.size(ctx)
	case "publishers":
		return b.publishers(ctx)
	case "storage":
		return b.storage(ctx)
	case "replicas":
		return b.replicas(ctx)
	case "inprocess":
		return b.inprocess(ctx)
	default:
		return b.pacer(ctx)
	}
}

// machineTable names the machine and what ran on it.
func machineTable(cfg benchConfig, started time.Time, loadBefore float64, serverVersion, natsVersion string) string {
	model := "unknown CPU"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		if m := regexp.MustCompile(`(?m)^model name\s*:\s*(.+)$`).FindSubmatch(data); m != nil {
			model = string(m[1])
		}
	}
	natsGo := "nats.go (version unknown)"
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == "github.com/nats-io/nats.go" {
				natsGo = "nats.go " + dep.Version
			}
		}
	}
	t := newTable()
	t.add("machine", cmpOr(cfg.machine, "(not described: pass -machine)"))
	t.add("cpus", fmt.Sprintf("%d, %s/%s, %s", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, model))
	t.add("load", fmt.Sprintf("1-minute load average %s at the start, %s at the end", loadText(loadBefore), loadText(loadAverage())))
	t.add("recorded", fmt.Sprintf("%s, -reps %d -scale %g, in %s", started.UTC().Format("2006-01-02"), cfg.reps, cfg.scale, time.Since(started).Round(time.Second)))
	t.add("server", "nats-server "+serverVersion+", the binary: -js, file store in a temporary directory, loopback TCP")
	t.add("clients", fmt.Sprintf("%s, %s; nats bench from natscli %s", natsGo, runtime.Version(), natsVersion))
	return t.String()
}

func cmpOr(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

// toolVersion runs "name --version", or explains how to install it.
func toolVersion(name, install string) (string, error) {
	if _, err := exec.LookPath(name); err != nil {
		return "", fmt.Errorf("%s is not on PATH; the bench role compares with the real binaries (install it: %s)", name, install)
	}
	out, err := exec.Command(name, "--version").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s --version: %w", name, err)
	}
	fields := strings.Fields(string(out)) // "nats-server: v2.15.2", or "v0.5.0"
	if len(fields) == 0 {
		return "", fmt.Errorf("%s --version printed nothing", name)
	}
	return fields[len(fields)-1], nil
}

// loadAverage is the 1-minute load average, or -1 where the system does
// not say (only Linux's /proc/loadavg is read).
func loadAverage() float64 {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	fields := strings.Fields(string(data))
	if len(fields) == 0 {
		return -1
	}
	load, err := strconv.ParseFloat(fields[0], 64)
	if err != nil {
		return -1
	}
	return load
}

func loadText(load float64) string {
	if load < 0 {
		return "unknown"
	}
	return fmt.Sprintf("%.1f", load)
}

// realServer is a nats-server binary that the bench role started.
type realServer struct {
	cmd *exec.Cmd
	url string
	log *os.File
}

// startRealServer starts "nats-server -js" on a free port of 127.0.0.1,
// with its store and log under dir; syncAlways adds a configuration file
// with "sync_interval: always".
func startRealServer(dir, name string, syncAlways bool) (*realServer, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("find a free port: %w", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		return nil, err
	}
	store := filepath.Join(dir, name)
	args := []string{"-js", "-a", "127.0.0.1", "-p", strconv.Itoa(port), "-sd", store}
	if syncAlways {
		conf := filepath.Join(dir, name+".conf")
		if err := os.WriteFile(conf, []byte("jetstream {\n  sync_interval: always\n}\n"), 0o644); err != nil {
			return nil, err
		}
		args = append(args, "-c", conf)
	}
	log, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("nats-server", args...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return nil, errors.Join(fmt.Errorf("start nats-server: %w", err), log.Close())
	}
	s := &realServer{cmd: cmd, url: fmt.Sprintf("nats://127.0.0.1:%d", port), log: log}
	err = waitFor(20*time.Second, func() error {
		nc, err := nats.Connect(s.url, nats.Timeout(time.Second))
		if err != nil {
			return err
		}
		defer nc.Close()
		return nc.Flush()
	})
	if err != nil {
		s.stop()
		return nil, fmt.Errorf("nats-server (%s) does not answer: %w (its log: %s)", strings.Join(args, " "), err, log.Name())
	}
	return s, nil
}

// stop stops the server as Ctrl+C does, and waits for it.
func (s *realServer) stop() {
	if err := s.cmd.Process.Signal(os.Interrupt); err == nil {
		if err := s.cmd.Wait(); err != nil {
			fmt.Fprintf(os.Stderr, "bench: nats-server: %v\n", err)
		}
	}
	if err := s.log.Close(); err != nil {
		fmt.Fprintf(os.Stderr, "bench: close the server's log: %v\n", err)
	}
}

// sample is what one measurement saw: "rate" in msgs/s, latencies in µs,
// "load" the load average just before it ran.
type sample map[string]float64

// runProcess runs a program with NATS_URL set to url and returns its
// standard output; a failure includes its standard error.
func runProcess(ctx context.Context, url, program string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, program, args...)
	cmd.Env = append(os.Environ(), "NATS_URL="+url)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s %s: %w: %s", filepath.Base(program), strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

var (
	nbRate    = regexp.MustCompile(`stats: ([\d,]+) msgs/sec`)
	nbLatency = regexp.MustCompile(`(P50|P99): ([\d,.]+)(us|ms|s)\b`)
	goRate    = regexp.MustCompile(`^(\d+) msgs/s`)
	goLatency = regexp.MustCompile(`(p50|p99) (\d+)µs`)
)

// parseNatsBench reads the rate and the P50 and P99 latencies (µs) from
// the stats line that nats bench prints at the end.
func parseNatsBench(out string) (sample, error) {
	m := nbRate.FindStringSubmatch(out)
	if m == nil {
		return nil, fmt.Errorf("no \"stats: N msgs/sec\" line in the output of nats bench:\n%s", out)
	}
	rate, err := strconv.ParseFloat(strings.ReplaceAll(m[1], ",", ""), 64)
	if err != nil {
		return nil, err
	}
	s := sample{"rate": rate}
	for _, l := range nbLatency.FindAllStringSubmatch(out, -1) {
		v, err := strconv.ParseFloat(strings.ReplaceAll(l[2], ",", ""), 64)
		if err != nil {
			return nil, err
		}
		s[strings.ToLower(l[1])] = v * map[string]float64{"us": 1, "ms": 1e3, "s": 1e6}[l[3]]
	}
	return s, nil
}

// parsePublishRole reads the publish role's report: its last line starts
// with the rate, and a sync publish adds a line of percentiles.
func parsePublishRole(out string) (sample, error) {
	s := sample{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if m := goRate.FindStringSubmatch(sc.Text()); m != nil {
			v, err := strconv.ParseFloat(m[1], 64)
			if err != nil {
				return nil, err
			}
			s["rate"] = v
		}
		for _, l := range goLatency.FindAllStringSubmatch(sc.Text(), -1) {
			v, err := strconv.ParseFloat(l[2], 64)
			if err != nil {
				return nil, err
			}
			s[l[1]] = v
		}
	}
	if _, ok := s["rate"]; !ok {
		return nil, fmt.Errorf("no \"N msgs/s\" line in the output of the publish role:\n%s", out)
	}
	return s, nil
}
