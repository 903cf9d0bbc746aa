package main

import (
	"fmt"
	"regexp"
	"strings"
)

var (
	slugDrop     = regexp.MustCompile(`[^\w\s-]`)
	slugSeparate = regexp.MustCompile(`[-\s]+`)
	idCount      = regexp.MustCompile(`^(.*)_([0-9]+)$`)
	inlineLink   = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`)
)

// slugify is Python-Markdown's toc.slugify (3.4), which MkDocs uses for the
// ids of headings without an explicit { #id }. Python first decomposes the
// text (NFKD) and drops what is not ASCII; dropping non-ASCII alone differs
// only for accented Latin letters, which the English headings do not have,
// and tools/linkcheck compares the built ids of both editions anyway.
func slugify(text string) string {
	var ascii strings.Builder
	for _, r := range text {
		if r < 128 {
			ascii.WriteRune(r)
		}
	}
	s := strings.ToLower(strings.TrimSpace(slugDrop.ReplaceAllString(ascii.String(), "")))
	return slugSeparate.ReplaceAllString(s, "-")
}

// headingText is the text of a heading as the toc extension sees it: no
// code backticks, emphasis or link targets.
func headingText(markdown string) string {
	t := inlineLink.ReplaceAllString(markdown, "$1")
	return strings.NewReplacer("`", "", "**", "", "*", "").Replace(t)
}

// headingIDs returns the id MkDocs gives each heading: its explicit { #id },
// or its slug, made unique as Python-Markdown's toc.unique does.
func headingIDs(hs []heading) []string {
	used := make(map[string]bool)
	for _, h := range hs {
		if h.id != "" {
			used[h.id] = true
		}
	}
	ids := make([]string, len(hs))
	for i, h := range hs {
		if h.id != "" {
			ids[i] = h.id
			continue
		}
		id := slugify(headingText(h.text))
		for used[id] || id == "" {
			if m := idCount.FindStringSubmatch(id); m != nil {
				var n int
				fmt.Sscan(m[2], &n)
				id = fmt.Sprintf("%s_%d", m[1], n+1)
			} else {
				id += "_1"
			}
		}
		used[id] = true
		ids[i] = id
	}
	return ids
}
