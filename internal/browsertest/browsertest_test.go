package browsertest

import (
	"bytes"
	"errors"
	"fmt"
	"html"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// rosterCSV is the file the test page offers for download.
var rosterCSV = []byte("姓名,手机号\r\n张三,13800001111\r\n")

const checkInPage = `<!doctype html>
<html lang="zh-CN">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>党员签到</title>
<style>body{font-family:sans-serif;margin:16px} input,button{font-size:18px;padding:6px}</style></head>
<body>
<h1>花溪镇第一支部 · 党员签到</h1>
<form method="post" action="/checkin">
  <label>姓名 <input id="name" name="name" autocomplete="off"></label>
  <button id="submit" type="submit">签到</button>
</form>
<p><a id="roster" href="/roster.csv">下载花名册</a></p>
</body></html>`

func newSite(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, checkInPage)
	})
	mux.HandleFunc("POST /checkin", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><meta charset="utf-8"><p id="result">签到成功：%s</p>`, html.EscapeString(r.FormValue("name")))
	})
	mux.HandleFunc("GET /roster.csv", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		// 花名册.csv, with an ASCII fallback for old clients.
		w.Header().Set("Content-Disposition", `attachment; filename="roster.csv"; filename*=UTF-8''%E8%8A%B1%E5%90%8D%E5%86%8C.csv`)
		w.Write(rosterCSV)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestBrowser(t *testing.T) {
	b := New(t)
	srv := newSite(t)
	ctx := b.Ctx()

	t.Run("form", func(t *testing.T) {
		if err := chromedp.Do(ctx,
			chromedp.Navigate(srv.URL),
			chromedp.SendKeys(chromedp.ID("name"), "张三"),
			chromedp.Click(chromedp.ID("submit")),
			chromedp.WaitVisible(chromedp.ID("result")),
		); err != nil {
			t.Fatal(err)
		}
		got, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("result")))
		if err != nil {
			t.Fatal(err)
		}
		if got != "签到成功：张三" {
			t.Errorf("result = %q, want 签到成功：张三", got)
		}
	})

	t.Run("download", func(t *testing.T) {
		b := b.For(t)
		dir := b.DownloadDir(ctx)
		if err := chromedp.Do(ctx,
			chromedp.Navigate(srv.URL),
			chromedp.Click(chromedp.ID("roster")),
		); err != nil {
			t.Fatal(err)
		}
		path, err := b.WaitDownload(ctx, dir, 15*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if got := filepath.Base(path); got != "花名册.csv" {
			t.Errorf("saved as %q, want 花名册.csv (from filename*)", got)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(data, rosterCSV) {
			t.Errorf("downloaded %q, want %q", data, rosterCSV)
		}
	})

	t.Run("second tab", func(t *testing.T) {
		b := b.For(t)
		tab := b.NewTab()
		if err := chromedp.Do(tab, chromedp.Navigate(srv.URL)); err != nil {
			t.Fatal(err)
		}
		title, err := chromedp.Run(tab, chromedp.Title())
		if err != nil {
			t.Fatal(err)
		}
		if title != "党员签到" {
			t.Errorf("title = %q", title)
		}
	})

	t.Run("phone", func(t *testing.T) {
		b := b.For(t)
		phone := b.Phone()
		if err := chromedp.Do(phone, chromedp.Navigate(srv.URL)); err != nil {
			t.Fatal(err)
		}
		viewport, err := chromedp.Run(phone, chromedp.Evaluate[string](
			`innerWidth + "x" + innerHeight + "@" + devicePixelRatio + (("ontouchstart" in window) ? " touch" : "")`))
		if err != nil {
			t.Fatal(err)
		}
		if viewport != "390x844@2 touch" {
			t.Errorf("viewport = %q, want 390x844@2 touch", viewport)
		}

		path := b.Screenshot(phone, "签到页")
		if !strings.HasSuffix(path, "TestBrowser_phone_签到页.png") {
			t.Errorf("screenshot path %q, want it named after the test and the shot", path)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		img, err := png.Decode(f)
		if err != nil {
			t.Fatalf("screenshot is not a PNG: %v", err)
		}
		// Device scale 2: twice the CSS width; full page: at least the viewport's height.
		if bounds := img.Bounds(); bounds.Dx() != 780 || bounds.Dy() < 1688 {
			t.Errorf("screenshot is %v, want 780 px wide and at least 1688 px high", bounds.Size())
		}
	})
}

// fakeTB records how noBrowser ends a test; the embedded TB is nil and must not be reached.
type fakeTB struct {
	testing.TB
	skipped, failed string
}

func (f *fakeTB) Helper()                           {}
func (f *fakeTB) Skip(args ...any)                  { f.skipped = fmt.Sprint(args...) }
func (f *fakeTB) Fatalf(format string, args ...any) { f.failed = fmt.Sprintf(format, args...) }

func TestNoBrowser(t *testing.T) {
	missing := errors.New("no chromium")
	tests := []struct {
		name     string
		err      error
		required bool
		skip     bool
		message  string
	}{
		{"skips", missing, false, true, "install Debian's chromium package"},
		{"required", missing, true, false, "YANZHEN_REQUIRE_BROWSER=1 requires one"},
		{"bad env", fmt.Errorf("%w: not found", errBadEnvBrowser), false, false, "YANZHEN_CHROMIUM is set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f fakeTB
			noBrowser(&f, tt.err, tt.required)
			got := f.failed
			if tt.skip {
				got = f.skipped
			}
			if (f.skipped != "") != tt.skip || !strings.Contains(got, tt.message) {
				t.Errorf("skipped %q, failed %q; want skip=%v with %q", f.skipped, f.failed, tt.skip, tt.message)
			}
		})
	}
}

func TestFindBrowser(t *testing.T) {
	installed := func(paths ...string) func(string) (string, error) {
		return func(name string) (string, error) {
			for _, p := range paths {
				if filepath.Base(p) == filepath.Base(name) {
					return p, nil
				}
			}
			return "", errors.New("not found")
		}
	}
	tests := []struct {
		name      string
		env       string
		installed []string
		want      string
		wantErr   error
	}{
		{"env wins", "/opt/chrome/chrome", []string{"/opt/chrome/chrome", "/usr/bin/chromium"}, "/opt/chrome/chrome", nil},
		{"env not executable", "/nowhere/chrome", []string{"/usr/bin/chromium"}, "", errBadEnvBrowser},
		{"chromium first", "", []string{"/usr/bin/google-chrome", "/usr/local/bin/chromium"}, "/usr/local/bin/chromium", nil},
		{"chromium-browser", "", []string{"/usr/bin/google-chrome", "/snap/bin/chromium-browser"}, "/snap/bin/chromium-browser", nil},
		{"google-chrome", "", []string{"/usr/bin/google-chrome"}, "/usr/bin/google-chrome", nil},
		{"none", "", nil, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := func(key string) string {
				if key == EnvChromium {
					return tt.env
				}
				return ""
			}
			got, err := findBrowser(getenv, installed(tt.installed...))
			if got != tt.want {
				t.Errorf("path = %q, want %q", got, tt.want)
			}
			if tt.want == "" && err == nil {
				t.Error("want an error")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestArtifactsDir(t *testing.T) {
	abs := filepath.Join(t.TempDir(), "shots", "run1")
	got, err := artifactsDir(abs)
	if err != nil || got != abs {
		t.Fatalf("artifactsDir(%q) = %q, %v", abs, got, err)
	}
	if fi, err := os.Stat(abs); err != nil || !fi.IsDir() {
		t.Errorf("not created: %v", err)
	}

	if _, err := artifactsDir("artifacts"); err == nil {
		t.Error("a relative directory (inside the repository) was accepted")
	}

	got, err = artifactsDir("")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(os.TempDir(), "yanzhen-artifacts"); got != want {
		t.Errorf("default = %q, want %q", got, want)
	}
}

func TestSanitize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"TestBrowser/phone", "TestBrowser_phone"},
		{"签到页", "签到页"},
		{"a b:c*d?.png", "a_b_c_d_.png"},
		{"../../etc", "_.._etc"},
		{"", "_"},
	}
	for _, tt := range tests {
		if got := sanitize(tt.in); got != tt.want {
			t.Errorf("sanitize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestWaitDownload(t *testing.T) {
	var b Browser // WaitDownload only looks at the directory
	dir := t.TempDir()

	if _, err := b.WaitDownload(t.Context(), dir, 60*time.Millisecond); err == nil {
		t.Fatal("empty directory: want a timeout")
	}

	// Chromium's state while downloading: the reserved name and the partial file.
	final := filepath.Join(dir, "花名册.xlsx")
	partial := final + ".crdownload"
	for _, p := range []string{final, partial} {
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.WaitDownload(t.Context(), dir, 60*time.Millisecond); err == nil || !strings.Contains(err.Error(), ".crdownload") {
		t.Fatalf("in progress: err = %v, want a timeout naming the partial file", err)
	}

	if err := os.Rename(partial, final); err != nil {
		t.Fatal(err)
	}
	got, err := b.WaitDownload(t.Context(), dir, time.Second)
	if err != nil || got != final {
		t.Fatalf("WaitDownload = %q, %v; want %q", got, err, final)
	}
}
