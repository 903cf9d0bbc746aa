package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
)

// stamp is the first line of a Korean page: the English page it was
// translated from, and a hash of that page's prose at the time.
//
//	<!-- translated-from: docs/03-stream.md sha256=0123456789abcdef -->
type stamp struct {
	source string // docs/03-stream.md
	hash   string
}

var stampRE = regexp.MustCompile(`^<!-- translated-from: (\S+) sha256=([0-9a-f]+) -->$`)

func parseStamp(line string) (stamp, bool) {
	m := stampRE.FindStringSubmatch(strings.TrimSpace(line))
	if m == nil {
		return stamp{}, false
	}
	return stamp{m[1], m[2]}, true
}

func (s stamp) String() string {
	return fmt.Sprintf("<!-- translated-from: %s sha256=%s -->", s.source, s.hash)
}

// hashLen is the number of hex digits a stamp records: 64 bits.
const hashLen = 16

// proseHash hashes what a translation follows: the English page without the
// bodies of its included blocks (a docsync refresh changes only those), with
// white space runs made one space (rewrapping a paragraph changes nothing).
func proseHash(english string) string {
	sum := sha256.Sum256([]byte(strings.Join(strings.Fields(proseView(english)), " ")))
	return hex.EncodeToString(sum[:])[:hashLen]
}

// proseView is the English page without the bodies of its included blocks:
// the text that proseHash hashes, and that -changes compares.
func proseView(text string) string {
	lines := strings.Split(text, "\n")
	var out []string
	for i := 0; i < len(lines); i++ {
		out = append(out, lines[i])
		if !markerRE.MatchString(lines[i]) || i+1 >= len(lines) {
			continue
		}
		m := fenceRE.FindStringSubmatch(lines[i+1])
		if m == nil {
			continue
		}
		end := i + 2
		for end < len(lines) && strings.TrimRight(lines[end], " \t\r") != m[1]+m[2] {
			end++
		}
		out = append(out, lines[i+1])
		if end < len(lines) {
			out = append(out, lines[end])
		}
		i = end
	}
	return strings.Join(out, "\n")
}

// withStamp returns the Korean page with st as its first line, in place of
// the stamp it had.
func withStamp(korean string, st stamp) string {
	first, rest, _ := strings.Cut(korean, "\n") // a page of one line is all first line
	if _, ok := parseStamp(first); ok {
		return st.String() + "\n" + rest
	}
	return st.String() + "\n" + korean
}
