package chapters_test

import (
	"bytes"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
)

// lockedBuffer is a bytes.Buffer that a test may read while a process writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// SIGTERM, what a service manager or "docker stop" sends, stops the
// long-running programs as cleanly as Ctrl+C: they say goodbye and exit 0.
// (The transcripts cover SIGINT; testscript cannot send SIGTERM.)
func TestSIGTERMStopsCleanly(t *testing.T) {
	s := jstest.Server(t)
	for _, tc := range []struct {
		args  []string
		ready string
		bye   string
	}{
		{[]string{"01-server", "-port", "-1", "-store", t.TempDir()}, "Press Ctrl+C to stop.", "Stopped."},
		{[]string{"04-pubsub", "subscribe", "-server", s.URL()}, "Press Ctrl+C to exit.", "Subscriber stopped."},
		{[]string{"05-request-reply", "reply", "-server", s.URL()}, "Press Ctrl+C to exit.", "replier-1 stopped."},
		{[]string{"05-request-reply", "reply", "-core", "-server", s.URL()}, "Press Ctrl+C to exit.", "replier-1 stopped."},
		{[]string{"06-queue-groups", "worker", "-name", "worker-1", "-server", s.URL()}, "Press Ctrl+C to exit.", "[worker-1] Stopped after finishing 0 tasks."},
		{[]string{"07-replay", "read", "-server", s.URL()}, "Press Ctrl+C to exit.", "Reader stopped."},
		{[]string{"09-durability", "publish", "-count", "0", "-interval", "50ms", "-server", s.URL()}, "Press Ctrl+C to stop.", "Publisher stopped after"},
		{[]string{"11-kv", "watch", "-server", s.URL()}, "Press Ctrl+C to exit.", "Watch stopped."},
	} {
		t.Run(strings.Join(tc.args[:2], " "), func(t *testing.T) {
			var stdout, stderr lockedBuffer
			cmd := exec.Command(filepath.Join(binDir, tc.args[0]), tc.args[1:]...)
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			jstest.Eventually(t, func() error {
				if !strings.Contains(stdout.String(), tc.ready) {
					return errors.New("not ready yet")
				}
				return nil
			})
			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			if err := cmd.Wait(); err != nil {
				t.Fatalf("after SIGTERM: %v\nstdout:\n%s\nstderr:\n%s", err, &stdout, &stderr)
			}
			if !strings.Contains(stdout.String(), tc.bye) {
				t.Fatalf("no %q after SIGTERM:\n%s", tc.bye, &stdout)
			}
		})
	}
}
