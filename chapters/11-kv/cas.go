package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"

	"github.com/nats-io/nats.go/jetstream"
)

// docs:start cas
// increment adds 1 to the number under key with compare-and-swap: read the
// value and its revision, write value+1 only if the key is still at that
// revision, and read again if it is not. It returns how often it had to.
func increment(ctx context.Context, kv jetstream.KeyValue, key string) (conflicts int, err error) {
	for {
		entry, err := kv.Get(ctx, key)
		if err != nil {
			return conflicts, fmt.Errorf("read %s: %w", key, err)
		}
		n, err := strconv.Atoi(string(entry.Value()))
		if err != nil {
			return conflicts, fmt.Errorf("%s is not a number: %w", key, err)
		}
		_, err = kv.Update(ctx, key, []byte(strconv.Itoa(n+1)), entry.Revision())
		if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			conflicts++ // another writer got in between: its write is kept, ours is retried
			continue
		}
		if err != nil {
			return conflicts, fmt.Errorf("update %s: %w", key, err)
		}
		return conflicts, nil
	}
}

// blindIncrement is the same without the check: read, then Put. Two writers
// that read the same value both write value+1, and one increment is lost.
func blindIncrement(ctx context.Context, kv jetstream.KeyValue, key string) error {
	entry, err := kv.Get(ctx, key)
	if err != nil {
		return fmt.Errorf("read %s: %w", key, err)
	}
	n, err := strconv.Atoi(string(entry.Value()))
	if err != nil {
		return fmt.Errorf("%s is not a number: %w", key, err)
	}
	if _, err := kv.Put(ctx, key, []byte(strconv.Itoa(n+1))); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	return nil
}

// docs:end cas

// docs:start two-writers
// twoWriters stages the race: writers A and B read the same revision, A
// updates first, and B's update is refused until B reads again.
func twoWriters(ctx context.Context, js jetstream.JetStream, out io.Writer) error {
	kv, err := freshBucket(ctx, js, jetstream.KeyValueConfig{Bucket: "counters"})
	if err != nil {
		return err
	}
	if _, err := kv.PutString(ctx, "visits", "10"); err != nil {
		return fmt.Errorf("put visits: %w", err)
	}
	read, err := kv.Get(ctx, "visits")
	if err != nil {
		return fmt.Errorf("read visits: %w", err)
	}
	fmt.Fprintf(out, "A and B both read visits=%s at revision %d\n", read.Value(), read.Revision())
	rev, err := kv.Update(ctx, "visits", []byte("11"), read.Revision())
	if err != nil {
		return fmt.Errorf("A's update: %w", err)
	}
	fmt.Fprintf(out, "A: update to 11 from revision %d: revision %d\n", read.Revision(), rev)
	_, err = kv.Update(ctx, "visits", []byte("11"), read.Revision())
	if !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return fmt.Errorf("B's update: %v, want ErrKeyRevisionMismatch", err)
	}
	fmt.Fprintf(out, "B: update to 11 from revision %d: refused, key revision mismatch (error %d)\n", read.Revision(), apiCode(err))
	if _, err := increment(ctx, kv, "visits"); err != nil {
		return err
	}
	now, err := kv.Get(ctx, "visits")
	if err != nil {
		return fmt.Errorf("read visits: %w", err)
	}
	fmt.Fprintf(out, "B: read again and retried: visits=%s at revision %d, no update lost\n", now.Value(), now.Revision())
	return nil
}

// docs:end two-writers

// counts is what countRole measures.
type counts struct {
	total     int // increments attempted
	blind     int // the read-then-put counter at the end
	cas       int // the compare-and-swap counter at the end
	conflicts int // compare-and-swap retries
}

// measure lets writers goroutines increment two counters increments times
// each, one with read-then-put and one with compare-and-swap, at the same
// time, and reads both counters at the end.
func measure(ctx context.Context, kv jetstream.KeyValue, writers, increments int) (counts, error) {
	const blindKey, casKey = "count.read-then-put", "count.compare-and-swap"
	for _, key := range []string{blindKey, casKey} {
		if _, err := kv.PutString(ctx, key, "0"); err != nil {
			return counts{}, fmt.Errorf("reset %s: %w", key, err)
		}
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	c := counts{total: writers * increments}
	for range writers {
		wg.Go(func() {
			conflicts := 0
			var err error
			for range increments {
				var n int
				if n, err = increment(ctx, kv, casKey); err != nil {
					break
				}
				conflicts += n
				if err = blindIncrement(ctx, kv, blindKey); err != nil {
					break
				}
			}
			mu.Lock()
			defer mu.Unlock()
			c.conflicts += conflicts
			errs = append(errs, err)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return c, err
	}
	for key, counter := range map[string]*int{blindKey: &c.blind, casKey: &c.cas} {
		entry, err := kv.Get(ctx, key)
		if err != nil {
			return c, fmt.Errorf("read %s: %w", key, err)
		}
		if *counter, err = strconv.Atoi(string(entry.Value())); err != nil {
			return c, fmt.Errorf("%s is not a number: %w", key, err)
		}
	}
	return c, nil
}

// countRole is the count role: it measures the two ways to increment.
func countRole(ctx context.Context, js jetstream.JetStream, out io.Writer, writers, increments int) error {
	kv, err := ensureKV(ctx, js, out)
	if err != nil {
		return err
	}
	c, err := measure(ctx, kv, writers, increments)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%d writers, %d increments each, at the same time: %d increments\n", writers, increments, c.total)
	fmt.Fprintf(out, "read-then-put:    counter %d, %d increments lost\n", c.blind, c.total-c.blind)
	fmt.Fprintf(out, "compare-and-swap: counter %d, %d increments lost, %d conflicts retried\n", c.cas, c.total-c.cas, c.conflicts)
	return nil
}
