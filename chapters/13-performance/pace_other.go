//go:build !linux

package main

import "time"

// sleepUntil returns at t or a little after, never before.
func sleepUntil(t time.Time) {
	for d := time.Until(t); d > 0; d = time.Until(t) {
		time.Sleep(d)
	}
}
