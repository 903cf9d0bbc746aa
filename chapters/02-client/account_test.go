//go:build linux

package main

import (
	"errors"
	"math"
	"runtime/debug"
	"syscall"
	"testing"
	"time"

	"github.com/jetstream-tutorial/jetstream-go/chapters/internal/jstest"
	"github.com/nats-io/nats-server/v2/server/sysmem"
	"github.com/nats-io/nats.go/jetstream"
)

// The page: on a server with no limits in its configuration, the account
// has no limits of its own (-1), but the server has: three quarters of the
// machine's memory (or of GOMEMLIMIT, if lower) for memory streams, and
// three quarters of the disk space that was free when it started for file
// streams. A stream that would reserve more is refused.
func TestTheAccountHasNoLimitsButTheServerHas(t *testing.T) {
	s := jstest.Server(t)
	_, js := jstest.Connect(t, s)
	ctx := jstest.Context(t)
	info, err := js.AccountInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if l := info.Limits; l.MaxMemory != -1 || l.MaxStore != -1 || l.MaxStreams != -1 || l.MaxConsumers != -1 {
		t.Fatalf("account limits %+v, want -1 everywhere", l)
	}

	cfg := s.JetStreamConfig()
	memory := sysmem.Memory()
	if limit := debug.SetMemoryLimit(-1); limit != math.MaxInt64 && limit < memory {
		memory = limit
	}
	if want := memory / 4 * 3; cfg.MaxMemory != want {
		t.Errorf("the server's memory limit is %d bytes, want three quarters of %d: %d", cfg.MaxMemory, memory, want)
	}
	var fs syscall.Statfs_t
	if err := syscall.Statfs(s.StoreDir(), &fs); err != nil {
		t.Fatal(err)
	}
	free := int64(fs.Bavail) * fs.Bsize
	// Other programs write to the disk meanwhile: allow 2% either way.
	if want := free / 4 * 3; math.Abs(float64(cfg.MaxStore-want)) > 0.02*float64(want) {
		t.Errorf("the server's storage limit is %d bytes, want about three quarters of the %d free: %d", cfg.MaxStore, free, want)
	}

	for _, tc := range []struct {
		storage jetstream.StorageType
		limit   int64
		code    jetstream.ErrorCode
	}{
		{jetstream.MemoryStorage, cfg.MaxMemory, 10028}, // insufficient memory resources available
		{jetstream.FileStorage, cfg.MaxStore, 10047},    // insufficient storage resources available
	} {
		_, err := js.CreateStream(ctx, jetstream.StreamConfig{
			Name: "BIG_" + tc.storage.String(), Subjects: []string{"big." + tc.storage.String()},
			Storage: tc.storage, MaxBytes: tc.limit + 1, MaxAge: time.Hour,
		})
		var apiErr *jetstream.APIError
		if !errors.As(err, &apiErr) || apiErr.ErrorCode != tc.code {
			t.Errorf("a %s stream that reserves %d bytes, one more than the server has: %v, want error %d", tc.storage, tc.limit+1, err, tc.code)
		}
		if _, err := js.CreateStream(ctx, jetstream.StreamConfig{
			Name: "FITS_" + tc.storage.String(), Subjects: []string{"fits." + tc.storage.String()},
			Storage: tc.storage, MaxBytes: 1 << 20,
		}); err != nil {
			t.Errorf("a %s stream that reserves 1 MiB: %v", tc.storage, err)
		}
	}
}
