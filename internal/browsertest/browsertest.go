// Package browsertest runs tests in a real headless Chromium, driven by chromedp: the console's
// pages, forms and downloads as a user's browser sees them, on a desktop and on a phone viewport.
//
// A test gets its own browser:
//
//	b := browsertest.New(t)
//	ctx := b.Ctx()
//	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL)); err != nil {
//		t.Fatal(err)
//	}
//
// The browser is found via YANZHEN_CHROMIUM, then chromium, chromium-browser or google-chrome on
// PATH, then /usr/bin/chromium. Without one the test is skipped, unless YANZHEN_REQUIRE_BROWSER=1
// (set it in CI so a missing browser fails loudly). Debian's chromium and fonts-noto-cjk packages
// are what CI installs (.ci/browser.sh).
//
// Screenshots go to YANZHEN_TEST_ARTIFACTS (an absolute path) or to yanzhen-artifacts in the
// system temporary directory, never into the repository.
package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/device"
)

// Environment variables the harness reads.
const (
	EnvChromium       = "YANZHEN_CHROMIUM"        // path or name of the browser to use
	EnvRequireBrowser = "YANZHEN_REQUIRE_BROWSER" // "1": a missing browser fails the test instead of skipping it
	EnvArtifacts      = "YANZHEN_TEST_ARTIFACTS"  // absolute directory for screenshots
)

// DefaultTimeout bounds everything one test does in its browser; the browser is stopped when it
// runs out (or earlier, shortly before the test binary's -timeout).
const DefaultTimeout = 60 * time.Second

// Desktop and phone viewports, in CSS pixels.
const (
	desktopWidth, desktopHeight = 1280, 900
	phoneWidth, phoneHeight     = 390, 844
	phoneScale                  = 2
	phoneUserAgent              = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148"
)

// Browser is one headless Chromium for one test. Its methods report failures on that test, so
// call them from its goroutine; in a subtest, use b.For(t).
type Browser struct {
	t   testing.TB
	ctx context.Context // the first tab
	log *testLog
}

// New starts a headless browser for t and closes it when t ends. It skips t when no browser is
// installed (fails it when YANZHEN_REQUIRE_BROWSER=1).
func New(t testing.TB) *Browser {
	t.Helper()
	path, err := findBrowser(os.Getenv, exec.LookPath)
	if err != nil {
		noBrowser(t, err, os.Getenv(EnvRequireBrowser) == "1")
		return nil // not reached: noBrowser ends the test
	}

	// Logs from chromedp's goroutines must stop before t completes: t.Logf panics after that.
	tl := &testLog{t: t}
	t.Cleanup(tl.stop)

	timeout := DefaultTimeout
	if d, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if deadline, ok := d.Deadline(); ok {
			// Leave a little time for the cleanup and for the test binary's own report.
			timeout = min(timeout, time.Until(deadline)-5*time.Second)
		}
	}
	budget, cancelBudget := context.WithTimeout(context.Background(), timeout)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(desktopWidth, desktopHeight),
		chromedp.Flag("lang", "zh-CN"),
	)
	if os.Geteuid() == 0 {
		// Chromium's sandbox refuses to run as root (CI containers).
		opts = append(opts, chromedp.NoSandbox)
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(budget, opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx,
		chromedp.WithErrorf(tl.prefixed("chromedp error: ")),
		chromedp.WithListener(tl.pageEvent),
	)
	t.Cleanup(func() {
		// A graceful close first; it fails harmlessly when the budget already ran out.
		if err := chromedp.Cancel(ctx); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			t.Logf("browsertest: close browser: %v", err)
		}
		cancelTab()
		cancelAlloc()
		cancelBudget()
	})

	// The first Run starts the browser, so start-up problems show here with a clear message.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("browsertest: start %s: %v", path, err)
	}
	return &Browser{t: t, ctx: ctx, log: tl}
}

// noBrowser skips t, or fails it when a browser is required or YANZHEN_CHROMIUM is wrong.
func noBrowser(t testing.TB, err error, required bool) {
	t.Helper()
	switch {
	case errors.Is(err, errBadEnvBrowser):
		t.Fatalf("browsertest: %v", err)
	case required:
		t.Fatalf("browsertest: %v, and %s=1 requires one: install Debian's chromium and fonts-noto-cjk packages (.ci/browser.sh)", err, EnvRequireBrowser)
	default:
		t.Skip("no chromium: install Debian's chromium package")
	}
}

// For returns b bound to t, typically a subtest: tabs it opens close when t ends, screenshots
// are named after t, and failures are reported on t. The browser itself still belongs to the
// test that called New.
//
//	t.Run("phone", func(t *testing.T) {
//		b := b.For(t)
//		ctx := b.Phone()
//		…
//	})
func (b *Browser) For(t testing.TB) *Browser {
	return &Browser{t: t, ctx: b.ctx, log: b.log}
}

// Ctx returns the browser's first tab, for use with chromedp.Run and chromedp.Do. Its deadline
// is the test's browser budget.
func (b *Browser) Ctx() context.Context { return b.ctx }

// NewTab opens another tab in the same browser (sharing cookies and storage with the others).
// It is closed when the test ends.
func (b *Browser) NewTab() context.Context {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithListener(b.log.pageEvent))
	b.t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		b.t.Fatalf("browsertest: open tab: %v", err)
	}
	return ctx
}

// Phone opens a tab that emulates a phone: a 390×844 CSS-pixel viewport at device scale 2, mobile
// layout, touch events and a phone user agent.
func (b *Browser) Phone() context.Context {
	b.t.Helper()
	ctx := b.NewTab()
	if err := chromedp.Do(ctx, chromedp.Emulate(phone{})); err != nil {
		b.t.Fatalf("browsertest: emulate phone: %v", err)
	}
	return ctx
}

// phone is the emulated device of Phone.
type phone struct{}

func (phone) Device() device.Info {
	return device.Info{
		Name:      "yanzhen phone",
		UserAgent: phoneUserAgent,
		Width:     phoneWidth,
		Height:    phoneHeight,
		Scale:     phoneScale,
		Mobile:    true,
		Touch:     true,
	}
}

// Screenshot saves a full-page PNG of the tab ctx as <test name>_<name>.png in the artifacts
// directory, logs its path and returns it.
func (b *Browser) Screenshot(ctx context.Context, name string) string {
	b.t.Helper()
	dir, err := artifactsDir(os.Getenv(EnvArtifacts))
	if err != nil {
		b.t.Fatalf("browsertest: screenshot %q: %v", name, err)
	}
	img, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100 means PNG
	if err != nil {
		b.t.Fatalf("browsertest: screenshot %q: %v", name, err)
	}
	path := filepath.Join(dir, sanitize(b.t.Name())+"_"+sanitize(name)+".png")
	if err := os.WriteFile(path, img, 0o644); err != nil {
		b.t.Fatalf("browsertest: screenshot %q: %v", name, err)
	}
	b.t.Logf("screenshot: %s", path)
	return path
}

// DownloadDir makes downloads started from now on go to a fresh temporary directory, removed
// when the test ends, and returns it. The setting is browser-wide: it applies to every tab of
// ctx's browser context, and the last call wins.
func (b *Browser) DownloadDir(ctx context.Context) string {
	b.t.Helper()
	dir := b.t.TempDir()
	events := true
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior:         browser.SetDownloadBehaviorBehaviorAllow,
		BrowserContextID: chromedp.FromContext(ctx).BrowserContextID,
		DownloadPath:     dir,
		EventsEnabled:    &events,
	}); err != nil {
		b.t.Fatalf("browsertest: set download directory: %v", err)
	}
	return dir
}

// pollInterval is how often WaitDownload looks at the download directory.
const pollInterval = 25 * time.Millisecond

// WaitDownload waits until dir (from DownloadDir) holds a finished download, and returns its
// path. A download is finished when a file other than a *.crdownload exists and no *.crdownload
// is left: Chromium writes into name.crdownload and renames it when done. It gives up after
// timeout or when ctx ends.
func (b *Browser) WaitDownload(ctx context.Context, dir string, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		path, partial, err := finishedDownload(dir)
		if err != nil {
			return "", fmt.Errorf("browsertest: wait for download: %w", err)
		}
		if path != "" {
			return path, nil
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("browsertest: no finished download in %s after %v (in progress: %q): %w", dir, timeout, partial, ctx.Err())
		case <-tick.C:
		}
	}
}

// finishedDownload returns the finished download in dir, if any, and the partial files seen.
func finishedDownload(dir string) (path string, partial []string, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", nil, err
	}
	var done string
	for _, e := range entries {
		switch {
		case !e.Type().IsRegular():
		case strings.HasSuffix(e.Name(), ".crdownload"):
			partial = append(partial, e.Name())
		case done == "":
			done = filepath.Join(dir, e.Name())
		}
	}
	if len(partial) > 0 {
		return "", partial, nil
	}
	return done, nil, nil
}

// errBadEnvBrowser means YANZHEN_CHROMIUM names no executable: a configuration mistake that
// fails the test rather than skipping it.
var errBadEnvBrowser = errors.New(EnvChromium + " is set but is not an executable")

// findBrowser returns the browser to run. lookPath is exec.LookPath outside tests.
func findBrowser(getenv func(string) string, lookPath func(string) (string, error)) (string, error) {
	if name := getenv(EnvChromium); name != "" {
		path, err := lookPath(name)
		if err != nil {
			return "", fmt.Errorf("%w: %v", errBadEnvBrowser, err)
		}
		return path, nil
	}
	// Names tried on PATH, in order, then the path of Debian's package.
	candidates := []string{"chromium", "chromium-browser", "google-chrome", "/usr/bin/chromium"}
	for _, name := range candidates {
		if path, err := lookPath(name); err == nil {
			return path, nil
		}
	}
	return "", fmt.Errorf("no chromium: %s is not set and none of %s is installed", EnvChromium, strings.Join(candidates, ", "))
}

// artifactsDir returns (and creates) the directory screenshots go to: env if set, which must be
// absolute (go test runs in the package directory, so a relative one would land in the
// repository), else yanzhen-artifacts in the system temporary directory.
func artifactsDir(env string) (string, error) {
	dir := env
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "yanzhen-artifacts")
	} else if !filepath.IsAbs(dir) {
		return "", fmt.Errorf("%s=%q must be an absolute path", EnvArtifacts, env)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("artifacts directory: %w", err)
	}
	return dir, nil
}

// sanitize makes s safe as part of a file name: letters (any script), digits, '-' and '.' stay;
// everything else, such as the '/' of subtests, becomes '_'.
func sanitize(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '.' {
			return r
		}
		return '_'
	}, s)
	s = strings.Trim(s, ".")
	if s == "" {
		return "_"
	}
	return s
}

// testLog forwards chromedp's errors and the pages' uncaught exceptions and console errors to
// t.Logf, until the test is over.
type testLog struct {
	mu      sync.Mutex
	t       testing.TB
	stopped bool
}

func (l *testLog) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.stopped {
		l.t.Logf(format, args...)
	}
}

func (l *testLog) prefixed(prefix string) func(string, ...any) {
	return func(format string, args ...any) { l.logf(prefix+format, args...) }
}

func (l *testLog) stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stopped = true
}

// pageEvent runs in a tab's event loop, so it only formats and logs.
func (l *testLog) pageEvent(ev any) {
	switch ev := ev.(type) {
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		if d == nil {
			return
		}
		msg := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			msg = d.Exception.Description
		}
		l.logf("page exception at %s:%d: %s", d.URL, d.LineNumber+1, msg)
	case *runtime.EventConsoleAPICalled:
		if ev.Type != runtime.ConsoleAPICalledTypeError && ev.Type != runtime.ConsoleAPICalledTypeWarning {
			return
		}
		parts := make([]string, 0, len(ev.Args))
		for _, a := range ev.Args {
			switch {
			case a == nil:
			case len(a.Value) > 0:
				var str string
				if json.Unmarshal(a.Value, &str) == nil {
					parts = append(parts, str)
				} else {
					parts = append(parts, string(a.Value))
				}
			default:
				parts = append(parts, a.Description)
			}
		}
		l.logf("page console.%s: %s", ev.Type, strings.Join(parts, " "))
	}
}
