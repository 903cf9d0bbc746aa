package main

import (
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// The server's error codes for the work-queue rules. nats.go v1.55 has no
// constants for them (see its jetstream/errors.go), so the chapter names them.
const (
	codeWQPullNeedsAck       jetstream.ErrorCode = 10084 // work queue: a pull consumer with AckNone
	codeWQNeedsExplicitAck   jetstream.ErrorCode = 10098 // work queue: a push consumer with AckNone, or any with AckAll
	codeWQMultipleUnfiltered jetstream.ErrorCode = 10099 // work queue: a second consumer without a filter
	codeWQNotUnique          jetstream.ErrorCode = 10100 // work queue: a filter that overlaps another consumer's
	codeWQNotDeliverAll      jetstream.ErrorCode = 10101 // work queue: a consumer must start at the beginning
)

// apiCode is the server's error code in err, or 0 if err is not an API error.
func apiCode(err error) jetstream.ErrorCode {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode
	}
	return 0
}

// refusal says what the server refused, in its own words, with its code.
func refusal(err error) string {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		return fmt.Sprintf("%s (%d)", apiErr.Description, apiErr.ErrorCode)
	}
	return err.Error()
}
