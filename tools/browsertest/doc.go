// Package browsertest holds the test of the rendered docs site in a real
// browser: it builds both editions with mkdocs (English, and Korean into
// ko/), serves the site on 127.0.0.1, and opens every page of both in
// headless Chromium (through chromedp) to check titles, <html lang>, Go
// highlighting, diagrams, the language switch, search in English and Korean
// in each edition, and that nothing is fetched from another host.
//
//	BROWSER_TEST=1 go test ./tools/browsertest
//
// Without BROWSER_TEST=1 the test skips, so that "go test ./..." stays fast
// and works on a machine with Go alone; with it (as .ci/run sets), a missing
// tool fails the test. It needs Debian's packages mkdocs, mkdocs-material,
// python3-pymdownx, chromium and fonts-noto-cjk.
//
// Screenshots of the landing page, a chapter, a Go listing, the Korean
// edition's landing page and chapter, and Korean searches go to
// .browsertest/ at the repository root (or $BROWSERTEST_OUT), and so does a
// screenshot of every page that fails.
package browsertest
