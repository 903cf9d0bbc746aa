package main

import (
	"bytes"
	"fmt"
	"io"
	"os/exec"
	"path"
	"path/filepath"
	"strings"

	"github.com/rogpeppe/go-internal/diff"
)

// printChanges prints, for each named Korean page (default: every stale
// one), the diff of its English page's prose between the version it was
// translated from and now.
func printChanges(w io.Writer, root string, args []string) error {
	var names []string
	for _, arg := range args {
		name, err := pageName(arg)
		if err != nil {
			return err
		}
		names = append(names, name)
	}
	if len(names) == 0 {
		all, err := pageNames(filepath.Join(root, koreanDir))
		if err != nil {
			return err
		}
		for _, name := range all {
			en, ko, err := readPair(root, name)
			if err != nil {
				continue // a Korean page without an English one: the check says so
			}
			if st := parse(ko).stamp; st == nil || st.hash != proseHash(en) {
				names = append(names, name)
			}
		}
		if len(names) == 0 {
			fmt.Fprintln(w, "translation: no Korean page is stale")
			return nil
		}
	}
	for _, name := range names {
		if err := printPageChanges(w, root, name); err != nil {
			return err
		}
	}
	return nil
}

func printPageChanges(w io.Writer, root, name string) error {
	en, ko, err := readPair(root, name)
	if err != nil {
		return err
	}
	enPath, koPath := path.Join(englishDir, name), path.Join(koreanDir, name)
	st := parse(ko).stamp
	if st == nil {
		fmt.Fprintf(w, "%s has no stamp, so what it was translated from is not known; compare it with %s by hand\n\n", koPath, enPath)
		return nil
	}
	if st.hash == proseHash(en) {
		fmt.Fprintf(w, "%s follows %s as it is now\n\n", koPath, enPath)
		return nil
	}
	commit, old, err := versionWithHash(root, enPath, st.hash)
	if err != nil {
		return err
	}
	if commit == "" {
		fmt.Fprintf(w, "%s: no committed version of %s has the prose hash %s that it records; compare by hand (git log -p %s)\n\n", koPath, enPath, st.hash, enPath)
		return nil
	}
	fmt.Fprintf(w, "%s was translated from %s as of commit %s. Its prose since then (included blocks left out):\n", koPath, enPath, commit)
	w.Write(diff.Diff(enPath+"@"+commit, []byte(proseView(old)+"\n"), enPath, []byte(proseView(en)+"\n")))
	fmt.Fprintf(w, "After updating %s: go run ./tools/translation -stamp %s\n\n", koPath, koPath)
	return nil
}

// versionWithHash finds the newest committed version of file whose prose
// hashes to hash, and returns its short commit id and text.
func versionWithHash(root, file, hash string) (string, string, error) {
	out, err := git(root, "log", "--format=%h", "--", file)
	if err != nil {
		return "", "", err
	}
	for _, commit := range strings.Fields(out) {
		text, err := git(root, "show", commit+":"+file)
		if err != nil {
			continue // the file did not exist under this name then
		}
		if proseHash(text) == hash {
			return commit, text, nil
		}
	}
	return "", "", nil
}

func git(root string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}
