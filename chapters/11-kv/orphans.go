package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
)

// docs:start orphans
// orphans stages two Puts to one name at the same time. Put looks up the
// object it replaces first, then writes the chunks under a new NUID, then the
// metadata, then purges the chunks of the object it looked up. Here A looks
// up (nothing yet), B puts the whole object, then A writes: A's metadata
// replaces B's, and nobody purges B's chunks.
func orphans(ctx context.Context, js jetstream.JetStream, out io.Writer) error {
	obs, err := js.ObjectStore(ctx, "files")
	if err != nil {
		return fmt.Errorf("object store files: %w", err)
	}
	reading, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		r := &gatedReader{r: strings.NewReader("written by A"), reading: reading, release: release}
		_, err := obs.Put(ctx, jetstream.ObjectMeta{Name: "shared.txt"}, r)
		done <- err
	}()
	select {
	case <-reading: // A has looked up shared.txt and is reading its data
	case err := <-done:
		return fmt.Errorf("A's put ended early: %v", err)
	}
	b, err := obs.PutString(ctx, "shared.txt", "written by B")
	if err != nil {
		return errors.Join(fmt.Errorf("B's put: %w", err), releaseAndWait(release, done))
	}
	if err := releaseAndWait(release, done); err != nil {
		return fmt.Errorf("A's put: %w", err)
	}
	value, err := obs.GetString(ctx, "shared.txt")
	if err != nil {
		return fmt.Errorf("get shared.txt: %w", err)
	}
	fmt.Fprintf(out, "two puts to shared.txt at once: get reads %q\n", value)
	a, err := obs.GetInfo(ctx, "shared.txt")
	if err != nil {
		return fmt.Errorf("info of shared.txt: %w", err)
	}
	if a.NUID == b.NUID {
		return errors.New("shared.txt still has B's NUID: the staging did not work")
	}
	return printSubjects(ctx, js, out, obs)
}

// gatedReader signals when Put first reads it, and then waits for release.
type gatedReader struct {
	r                io.Reader
	reading, release chan struct{}
	started          bool
}

func (g *gatedReader) Read(p []byte) (int, error) {
	if !g.started {
		g.started = true
		close(g.reading)
		<-g.release
	}
	return g.r.Read(p)
}

func releaseAndWait(release chan struct{}, done chan error) error {
	close(release)
	return <-done
}

// docs:end orphans
