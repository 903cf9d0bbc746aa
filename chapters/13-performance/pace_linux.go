package main

import (
	"syscall"
	"time"
)

// sleepUntil returns at t or a little after, never before. On Linux, Go's
// timers wait in epoll_wait, whose timeout is in whole milliseconds (see
// runtime/netpoll_epoll.go), so time.Sleep(200µs) takes about a millisecond:
// more than the latencies the pacer serves to measure. nanosleep has no
// such floor. Go's runtime interrupts it with signals (SIGURG, to preempt a
// goroutine), so it sleeps again until t.
func sleepUntil(t time.Time) {
	for d := time.Until(t); d > 0; d = time.Until(t) {
		ts := syscall.NsecToTimespec(d.Nanoseconds())
		if err := syscall.Nanosleep(&ts, nil); err != nil && err != syscall.EINTR {
			time.Sleep(d) // nanosleep refused: the coarser sleep is still correct
		}
	}
}
