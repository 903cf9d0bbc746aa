package browsertest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// root is the repository root, seen from this package's directory.
const root = "../.."

// debianChromium is the browser binary that Debian's chromium package starts.
const debianChromium = "/usr/lib/chromium/chromium"

// The two editions of the site: English at the root, Korean in ko/
// (mkdocs.ko.yml), with the same file names.
var editions = []edition{
	{lang: "en", config: "mkdocs.yml", dir: ""},
	{lang: "ko", config: "mkdocs.ko.yml", dir: "ko/"},
}

type edition struct {
	lang   string // <html lang> and hreflang
	config string // its MkDocs configuration
	dir    string // its folder in the site, with a slash; "" for the root
}

// searches are the queries the site search must answer, each typed on an
// edition's home page, with a page of that edition that must be among the
// results. The Korean queries prove that Hangul is indexed
// (docs/.overrides/partials/language.html) and that the Korean edition's
// search finds the English API names of its code and prose.
var searches = []struct{ name, edition, query, page string }{
	{"english", "", "consumer", "04-pubsub.md"},
	{"korean", "", "스트림", "03-stream.md"},
	{"ko-korean", "ko/", "스트림", "03-stream.md"},
	{"ko-api-name", "ko/", "DoubleAck", "04-pubsub.md"},
}

func TestSite(t *testing.T) {
	// About 20 s of a warm "go test ./..." that should take under a minute:
	// a slow extra, run when asked for, as .ci/run does.
	if os.Getenv("BROWSER_TEST") != "1" {
		t.Skip("the site in a browser takes about 20 s: set BROWSER_TEST=1 to run it, as .ci/run does")
	}
	mkdocs := lookTool(t, "mkdocs", "apt-get install mkdocs mkdocs-material python3-pymdownx")
	chromium := lookTool(t, "chromium", "apt-get install chromium fonts-noto-cjk")
	// Debian's /usr/bin/chromium is a script that adds Google API keys and
	// remote extensions, which make the browser call Google; start the binary itself.
	if _, err := os.Stat(debianChromium); err == nil {
		chromium = debianChromium
	}

	var pages []page
	siteNames := make(map[string]string) // by edition dir
	for _, ed := range editions {
		name, edPages := readNav(t, ed)
		siteNames[ed.dir] = name
		pages = append(pages, edPages...)
	}
	site := buildSite(t, mkdocs)
	base := serve(t, site)
	trap := startTrap(t)
	shots := screenshotDir(t)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var chromeOut bytes.Buffer
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		append(chromedp.DefaultExecAllocatorOptions[:], // headless, --no-first-run, --disable-background-networking, --disable-sync, ...
			chromedp.ExecPath(chromium),
			chromedp.NoSandbox, // needed as root
			chromedp.DisableGPU,
			chromedp.Flag("disable-quic", true),
			chromedp.Flag("disable-component-update", true),
			// Chromium's own calls home, which the trap would otherwise see: autofill
			// hints when the test types into the search box, and the like.
			chromedp.Flag("disable-features", "Translate,BlinkGenPropertyTrees,AutofillServerCommunication,OptimizationHints,MediaRouter,DialMediaRouteProvider,NetworkTimeServiceQuerying,CertificateTransparencyComponentUpdater"),
			chromedp.Flag("disable-domain-reliability", true),
			chromedp.Flag("disable-field-trial-config", true),
			chromedp.Flag("disable-component-extensions-with-background-pages", true),
			chromedp.Flag("no-service-autorun", true),
			chromedp.WindowSize(1280, 900),
			// Every request that is not for 127.0.0.1 goes to the trap, which records it.
			chromedp.ProxyServer(trap.url),
			chromedp.CombinedOutput(&chromeOut),
			// No UserDataDir: chromedp makes a fresh, empty one and removes it at the end.
		)...)
	defer cancelAlloc()
	browser, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()

	var watch watcher
	if err := chromedp.Listen(browser, watch.event); err != nil {
		t.Fatalf("start chromium %s: %v\n%s", chromium, err, chromeOut.String())
	}

	for _, p := range pages {
		t.Run(p.edition.dir+p.source, func(t *testing.T) {
			defer failureScreenshot(t, browser, shots, p.edition.dir+p.source)
			checkPage(t, browser, base, p, siteNames[p.edition.dir])
		})
	}
	byPath := make(map[string]string) // "ko/03-stream.md" -> "ko/03-stream/"
	for _, p := range pages {
		byPath[p.edition.dir+p.source] = p.edition.dir + p.path
	}
	for _, s := range searches {
		t.Run("search/"+s.name, func(t *testing.T) {
			defer failureScreenshot(t, browser, shots, "search-"+s.name)
			checkSearch(t, browser, base+s.edition, s.query, base+byPath[s.edition+s.page])
			if s.name == "korean" || s.name == "ko-korean" {
				ctx, cancel := context.WithTimeout(browser, 10*time.Second)
				defer cancel()
				// The results slide in with a CSS transition: wait for it to end.
				if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getAnimations().every(a => a.playState !== "running")`)); err != nil {
					t.Fatalf("the search results are still moving: %v", err)
				}
				saveScreenshot(t, ctx, chromedp.CaptureScreenshot(), shots, "search-"+s.name+".png")
			}
		})
	}
	t.Run("language-switch", func(t *testing.T) {
		defer failureScreenshot(t, browser, shots, "language-switch")
		checkLanguageSwitch(t, browser, base, byPath, siteNames)
	})
	t.Run("screenshots", func(t *testing.T) {
		saveReviewScreenshots(t, browser, base, byPath, shots)
	})

	if err := chromedp.Cancel(browser); err != nil {
		t.Errorf("close chromium: %v", err)
	}
	// Every request a page makes, its web workers' included, must go to the
	// site's server. The check is real only if the requests were seen at all.
	if !slices.Contains(watch.requested(), base+"search/search_index.json") {
		t.Errorf("the browser's requests were not observed (no request for %ssearch/search_index.json)", base)
	}
	for _, u := range watch.offHost(base) {
		t.Errorf("a page requested %s: the site must not reach anything but 127.0.0.1", u)
	}
	// Chromium itself still calls a few Google services (updates, sign-in)
	// despite its flags. Those are not the site's requests, and the trap
	// refused them before they left the machine.
	if hosts := trap.hosts(); len(hosts) > 0 {
		t.Logf("chromium's own background requests, refused by the proxy trap: %s", strings.Join(hosts, ", "))
	}
	for _, e := range watch.exceptions() {
		t.Errorf("JavaScript exception: %s", e)
	}
	t.Logf("screenshots in %s", shots)
}

// page is one entry of an edition's nav.
type page struct {
	edition edition
	title   string // as in the nav, which is the page's title
	source  string // file name, under docs/ (English) or docs/ko/ (Korean)
	path    string // URL path relative to the edition's root: "" or "03-stream/"
	gos     int    // ```go blocks in the source
	svgs    int    // SVG images in the source
}

var (
	navEntry  = regexp.MustCompile(`^\s*- (.+): (\S+\.md)\s*$`)
	goFence   = regexp.MustCompile("(?m)^\\s*```go\\s*$")
	svgImage  = regexp.MustCompile(`!\[[^\]]*\]\([^)\s]+\.svg\)`)
	siteNameL = regexp.MustCompile(`(?m)^site_name: (.+)$`)
)

// readNav reads the site name and the pages of an edition's nav, with what
// their Markdown sources promise the browser will show. A page the Korean
// edition has not translated yet is the English one (the MkDocs hook in
// docs/.overrides/hooks/i18n.py falls back to it).
func readNav(t *testing.T, ed edition) (string, []page) {
	t.Helper()
	cfg, err := os.ReadFile(filepath.Join(root, ed.config))
	if err != nil {
		t.Fatal(err)
	}
	m := siteNameL.FindSubmatch(cfg)
	if m == nil {
		t.Fatalf("%s has no site_name", ed.config)
	}
	var pages []page
	sc := bufio.NewScanner(bytes.NewReader(cfg))
	for sc.Scan() {
		e := navEntry.FindStringSubmatch(sc.Text())
		if e == nil {
			continue
		}
		src, err := os.ReadFile(filepath.Join(root, "docs", ed.dir, e[2]))
		if os.IsNotExist(err) && ed.dir != "" {
			src, err = os.ReadFile(filepath.Join(root, "docs", e[2]))
		}
		if err != nil {
			t.Fatalf("%s's nav: %v", ed.config, err)
		}
		p := page{edition: ed, title: e[1], source: e[2], gos: len(goFence.FindAll(src, -1)), svgs: len(svgImage.FindAll(src, -1))}
		if e[2] != "index.md" {
			p.path = strings.TrimSuffix(e[2], ".md") + "/"
		}
		pages = append(pages, p)
	}
	if len(pages) == 0 {
		t.Fatalf("no pages in %s's nav", ed.config)
	}
	return string(m[1]), pages
}

// lookTool finds a program, or fails the test with how to install it.
func lookTool(t *testing.T, name, install string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("BROWSER_TEST=1 but %s is not installed (%s)", name, install)
	}
	return path
}

// buildSite builds both editions into one site, English first: each build
// empties its site directory, and the Korean one is ko/ inside the English one.
func buildSite(t *testing.T, mkdocs string) string {
	t.Helper()
	site := t.TempDir()
	for _, ed := range editions {
		cmd := exec.Command(mkdocs, "build", "--strict", "--quiet", "-f", ed.config, "--site-dir", filepath.Join(site, ed.dir))
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("mkdocs build --strict -f %s: %v\n%s", ed.config, err, out)
		}
	}
	return site
}

// serve serves the site on a free port of 127.0.0.1 and returns its base URL.
func serve(t *testing.T, site string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.FileServer(http.Dir(site)), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln) //nolint:errcheck // returns http.ErrServerClosed when Close runs
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("stop the site server: %v", err)
		}
	})
	return "http://" + ln.Addr().String() + "/"
}

// trap is an HTTP proxy that refuses every request and remembers its host.
// Chromium sends it everything but 127.0.0.1, so nothing the browser does
// leaves the machine, not even a DNS lookup.
type trap struct {
	url  string
	mu   sync.Mutex
	seen []string
}

func startTrap(t *testing.T) *trap {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &trap{url: "http://" + ln.Addr().String()}
	srv := &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln) //nolint:errcheck // returns http.ErrServerClosed when Close runs
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("stop the proxy trap: %v", err)
		}
	})
	return p
}

func (p *trap) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.seen = append(p.seen, r.Host)
	p.mu.Unlock()
	http.Error(w, "browsertest: the site must not reach other hosts", http.StatusForbidden)
}

// hosts returns the hosts that reached the trap, each once, in order.
func (p *trap) hosts() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	hosts := slices.Clone(p.seen)
	slices.Sort(hosts)
	return slices.Compact(hosts)
}

// watcher collects, from the browser's events, every URL a page requested
// and every uncaught JavaScript exception.
type watcher struct {
	mu   sync.Mutex
	urls []string
	errs []string
}

// event runs on chromedp's event loop, so it only records.
func (w *watcher) event(ev any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch e := ev.(type) {
	case *network.EventRequestWillBeSent:
		w.urls = append(w.urls, e.Request.URL)
	case *runtime.EventExceptionThrown:
		msg := e.ExceptionDetails.Text
		if e.ExceptionDetails.Exception != nil {
			msg += " " + e.ExceptionDetails.Exception.Description
		}
		w.errs = append(w.errs, fmt.Sprintf("%s (%s:%d)", msg, e.ExceptionDetails.URL, e.ExceptionDetails.LineNumber))
	}
}

// offHost returns the requested URLs that are neither on the site's server
// nor inline (data:, blob:, about:).
func (w *watcher) offHost(base string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var off []string
	for _, raw := range w.urls {
		u, err := url.Parse(raw)
		if err != nil {
			off = append(off, raw)
			continue
		}
		switch {
		case u.Scheme == "data" || u.Scheme == "blob" || u.Scheme == "about":
		case strings.HasPrefix(raw, base):
		default:
			off = append(off, raw)
		}
	}
	return off
}

func (w *watcher) requested() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.urls)
}

func (w *watcher) exceptions() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.errs)
}

// goBlock is what the browser shows of one ```go listing.
type goBlock struct {
	Spans   int `json:"spans"`   // Pygments token spans, whitespace aside
	Colored int `json:"colored"` // of those, spans whose color differs from the code's
}

// image is one <img> of a page, as loaded.
type image struct {
	Src   string `json:"src"`
	Width int    `json:"width"`
}

func checkPage(t *testing.T, browser context.Context, base string, p page, siteName string) {
	ctx, cancel := context.WithTimeout(browser, 30*time.Second)
	defer cancel()
	pageURL := base + p.edition.dir + p.path
	if err := chromedp.Do(ctx, chromedp.Navigate(pageURL)); err != nil {
		t.Fatalf("open %s: %v", pageURL, err)
	}

	// The page says its language, and its language switch goes to the same
	// page in each edition.
	lang, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.lang`))
	if err != nil {
		t.Fatal(err)
	}
	if lang != p.edition.lang {
		t.Errorf(`<html lang=%q>, want %q`, lang, p.edition.lang)
	}
	switches, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]string](`
		Object.fromEntries(Array.from(document.querySelectorAll("a[hreflang]")).map(a => [a.hreflang, a.href]))`))
	if err != nil {
		t.Fatal(err)
	}
	for _, ed := range editions {
		if want := base + ed.dir + p.path; switches[ed.lang] != want {
			t.Errorf("the language switch to %q goes to %q, want %s", ed.lang, switches[ed.lang], want)
		}
	}

	title, err := chromedp.Run(ctx, chromedp.Title())
	if err != nil {
		t.Fatal(err)
	}
	want := p.title + " - " + siteName
	if p.source == "index.md" {
		want = siteName
	}
	if title != want {
		t.Errorf("title %q, want %q", title, want)
	}

	// Each ```go block is a div.language-go.highlight (pymdownx.highlight's
	// pygments_lang_class) with Pygments spans that the theme colors.
	blocks, err := chromedp.Run(ctx, chromedp.Evaluate[[]goBlock](`
		Array.from(document.querySelectorAll("div.language-go.highlight")).map(div => {
			const code = div.querySelector("code");
			const base = getComputedStyle(code).color;
			const spans = Array.from(code.querySelectorAll("span[class]")).filter(s => s.className !== "w");
			return {spans: spans.length, colored: spans.filter(s => getComputedStyle(s).color !== base).length};
		})`))
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) != p.gos {
		t.Errorf("%d highlighted Go listings, want %d (the ```go blocks of docs/%s%s)", len(blocks), p.gos, p.edition.dir, p.source)
	}
	for i, b := range blocks {
		if b.Spans == 0 || b.Colored == 0 {
			t.Errorf("Go listing %d is not highlighted: %d token spans, %d in color", i+1, b.Spans, b.Colored)
		}
	}

	// Diagrams are SVG images: each must have loaded and have a width.
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](
		`Array.from(document.images).every(img => img.complete)`,
		chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		t.Fatalf("images still loading: %v", err)
	}
	images, err := chromedp.Run(ctx, chromedp.Evaluate[[]image](`
		Array.from(document.querySelectorAll("article img")).filter(img => /\.svg$/.test(new URL(img.src).pathname))
			.map(img => ({src: img.getAttribute("src"), width: img.naturalWidth}))`))
	if err != nil {
		t.Fatal(err)
	}
	if len(images) != p.svgs {
		t.Errorf("%d SVG images, want %d (the .svg images of docs/%s%s)", len(images), p.svgs, p.edition.dir, p.source)
	}
	for _, img := range images {
		if img.Width <= 0 {
			t.Errorf("diagram %s did not render (natural width %d)", img.Src, img.Width)
		}
	}
}

// checkSearch types query into the search box of the edition at base and
// waits until the results link to wantURL.
func checkSearch(t *testing.T, browser context.Context, base, query, wantURL string) {
	ctx, cancel := context.WithTimeout(browser, 30*time.Second)
	defer cancel()
	input := chromedp.CSS("input.md-search__input")
	if err := chromedp.Do(ctx,
		chromedp.Navigate(base),
		chromedp.WaitVisible(input),
		chromedp.Click(input),
		chromedp.SendKeys(input, query),
	); err != nil {
		t.Fatalf("type %q into the search box: %v", query, err)
	}
	// The results come from a web worker; wait for the wanted page among them.
	found, err := chromedp.Run(ctx, chromedp.PollFunction[[]string](`want => {
		const links = Array.from(document.querySelectorAll(".md-search-result__link")).map(a => a.href.split("#")[0]);
		return links.includes(want) ? links : null;
	}`, chromedp.WithPollingArgs(wantURL), chromedp.WithPollingTimeout(20*time.Second)))
	if err != nil {
		meta, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".md-search-result__meta")))
		t.Fatalf("search %q: no result links to %s (%v); the search says %q", query, wantURL, err, meta)
	}
	t.Logf("search %q: %d results, among them %s", query, len(found), wantURL)
}

// checkLanguageSwitch uses the switch as a reader does, both ways: from an
// English chapter to its Korean twin, and back.
func checkLanguageSwitch(t *testing.T, browser context.Context, base string, byPath, siteNames map[string]string) {
	ctx, cancel := context.WithTimeout(browser, 30*time.Second)
	defer cancel()
	from := base + byPath["03-stream.md"]
	if err := chromedp.Do(ctx, chromedp.Navigate(from)); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct{ lang, url, siteName string }{
		{"ko", base + byPath["ko/03-stream.md"], siteNames["ko/"]},
		{"en", from, siteNames[""]},
	} {
		// The switch is a menu under the translate icon: open it, then click
		// the link, and wait for the page it opens.
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(".md-select button"))); err != nil {
			t.Fatalf("open the language menu: %v", err)
		}
		if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(`a.md-select__link[hreflang="`+step.lang+`"]`))); err != nil {
			t.Fatalf("click the switch to %q: %v", step.lang, err)
		}
		got, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[location.href, document.documentElement.lang, document.title]`))
		if err != nil {
			t.Fatal(err)
		}
		if got[0] != step.url || got[1] != step.lang || !strings.HasSuffix(got[2], " - "+step.siteName) {
			t.Errorf("the switch to %q opened %s, lang %q, title %q; want %s, lang %q, a title ending in %q",
				step.lang, got[0], got[1], got[2], step.url, step.lang, " - "+step.siteName)
		}
	}
}

// saveReviewScreenshots keeps pictures for a person to look at: the landing
// page, a chapter with code and diagrams, and one Go listing close up, and
// the Korean edition's landing page and chapter.
func saveReviewScreenshots(t *testing.T, browser context.Context, base string, byPath map[string]string, dir string) {
	chapter := "04-pubsub.md"
	if _, ok := byPath[chapter]; !ok {
		chapter = "03-stream.md"
	}
	ctx, cancel := context.WithTimeout(browser, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(base)); err != nil {
		t.Fatal(err)
	}
	saveScreenshot(t, ctx, chromedp.FullScreenshot(100), dir, "landing.png")
	if err := chromedp.Do(ctx, chromedp.Navigate(base+byPath[chapter])); err != nil {
		t.Fatal(err)
	}
	name := strings.TrimSuffix(chapter, ".md")
	saveScreenshot(t, ctx, chromedp.FullScreenshot(100), dir, name+".png")
	saveScreenshot(t, ctx, chromedp.Screenshot(chromedp.CSS("div.language-go.highlight")), dir, name+"-go-listing.png")
	if err := chromedp.Do(ctx, chromedp.Navigate(base+byPath["ko/index.md"])); err != nil {
		t.Fatal(err)
	}
	saveScreenshot(t, ctx, chromedp.FullScreenshot(100), dir, "ko-landing.png")
	if err := chromedp.Do(ctx, chromedp.Navigate(base+byPath["ko/"+chapter])); err != nil {
		t.Fatal(err)
	}
	saveScreenshot(t, ctx, chromedp.FullScreenshot(100), dir, "ko-"+name+".png")
}

func saveScreenshot(t *testing.T, ctx context.Context, shot chromedp.Action[[]byte], dir, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, shot)
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Errorf("save screenshot: %v", err)
	}
}

// failureScreenshot saves what the browser showed when a subtest failed.
func failureScreenshot(t *testing.T, browser context.Context, dir, name string) {
	if !t.Failed() {
		return
	}
	ctx, cancel := context.WithTimeout(browser, 10*time.Second)
	defer cancel()
	file := "failed-" + strings.NewReplacer("/", "-", ".md", "").Replace(name) + ".png"
	saveScreenshot(t, ctx, chromedp.CaptureScreenshot(), dir, file)
	t.Logf("screenshot of the failure: %s", filepath.Join(dir, file))
}

// screenshotDir is $BROWSERTEST_OUT, or .browsertest/ at the repository
// root (git-ignored), emptied of earlier screenshots.
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("BROWSERTEST_OUT")
	if dir == "" {
		dir = filepath.Join(root, ".browsertest")
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	old, err := filepath.Glob(filepath.Join(dir, "*.png"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}
