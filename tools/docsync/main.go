// Command docsync keeps the code and output blocks on the docs pages equal to
// the tested files they come from. A page marks a block with an HTML comment
// on the line before its fence:
//
//	<!-- include: chapters/03-stream/main.go#config -->
//	```go
//	...replaced by the region between "// docs:start config" and "// docs:end config"
//	```
//
// Sources:
//
//	path                     the whole file, without its docs:start/end lines
//	path.go#NAME             a region marked with // docs:start NAME ... // docs:end NAME
//	path_test.go#func:NAME   the function NAME, without its // Output: comment
//	path_test.go#output:NAME the // Output: (or // Unordered output:) of Example NAME
//	path.txtar#FILE          the file FILE of a testscript archive (a checked transcript)
//
// After the source, NAME=value pairs replace $NAME in the text, for
// transcripts compared with cmpenv:
//
//	<!-- include: testdata/script/01-server.txtar#server.stdout PORT=4222 -->
//
// It also refuses a ```go or ```text block that has no marker: nothing on the
// site is copied by hand.
//
// It walks all of docs/, the Korean edition in docs/ko/ included: a Korean
// page keeps its English page's markers, so both editions show the same
// tested files (tools/translation checks that the markers match).
//
//	go run ./tools/docsync          rewrite the blocks in docs/
//	go run ./tools/docsync -check   exit 1 if a block differs from its source
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	check := flag.Bool("check", false, "report blocks that differ from their sources instead of rewriting them")
	root := flag.String("root", ".", "repository root; includes are relative to it")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: docsync [-check] [-root DIR] [PAGE.md ...]   (default: every page under docs/)")
		flag.PrintDefaults()
	}
	flag.Parse()
	pages := flag.Args()
	if len(pages) == 0 {
		found, err := Pages(*root)
		if err != nil {
			fmt.Fprintln(os.Stderr, "docsync:", err)
			os.Exit(1)
		}
		pages = found
	}
	problems, err := Sync(*root, pages, !*check)
	if err != nil {
		fmt.Fprintln(os.Stderr, "docsync:", err)
		os.Exit(1)
	}
	for _, p := range problems {
		fmt.Fprintln(os.Stderr, p)
	}
	if len(problems) > 0 {
		if *check {
			fmt.Fprintln(os.Stderr, `docsync: the pages drifted from the code; run "go run ./tools/docsync" and review the diff`)
		}
		os.Exit(1)
	}
}

// Pages lists the Markdown pages under root/docs, relative to root.
func Pages(root string) ([]string, error) {
	var pages []string
	err := filepath.WalkDir(filepath.Join(root, "docs"), func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(path, ".md") {
			rel, err := filepath.Rel(root, path)
			if err != nil {
				return err
			}
			pages = append(pages, rel)
		}
		return nil
	})
	return pages, err
}

// Sync brings every marked block of pages up to date. With write false it
// changes nothing and returns one problem per drifted block. Unmarked code or
// output blocks, and broken markers, are problems either way.
func Sync(root string, pages []string, write bool) ([]string, error) {
	var problems []string
	for _, page := range pages {
		path := filepath.Join(root, page)
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		updated, pageProblems := syncPage(root, page, string(data))
		if write && updated != string(data) {
			if err := os.WriteFile(path, []byte(updated), 0o644); err != nil {
				return nil, err
			}
			fmt.Fprintf(os.Stderr, "docsync: updated %s\n", page)
		}
		for _, p := range pageProblems {
			if write && p.drift {
				continue // fixed by the rewrite
			}
			problems = append(problems, p.String())
		}
	}
	return problems, nil
}
