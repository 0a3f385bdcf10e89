// Package web holds the console's HTML templates and static assets, embedded in the binary so the
// console works on machines with no internet: no CDN.
package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
	"unicode/utf8"
)

//go:embed templates/*.html templates/partials/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Renderer executes the console's pages. Each page template (templates/NAME.html, defining "content"
// and optionally "head") is parsed together with layout.html into its own set, once, at start-up.
type Renderer struct {
	pages map[string]*template.Template
	loc   *time.Location
}

// NewRenderer parses every template; times are shown in loc.
func NewRenderer(loc *time.Location, static *Static) (*Renderer, error) {
	if loc == nil {
		loc = time.Local
	}
	r := &Renderer{pages: map[string]*template.Template{}, loc: loc}
	funcs := r.funcs(static)
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", "templates/partials/*.html")
	if err != nil {
		return nil, fmt.Errorf("web: layout: %w", err)
	}
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		base := path.Base(n)
		if base == "layout.html" {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(templateFiles, n)
		if err != nil {
			return nil, fmt.Errorf("web: %s: %w", base, err)
		}
		r.pages[strings.TrimSuffix(base, ".html")] = t
	}
	return r, nil
}

// Page writes page name inside the layout.
func (r *Renderer) Page(w io.Writer, name string, data any) error {
	return r.Block(w, name, "layout", data)
}

// Block writes one named template of page name: the whole page ("layout"), or a fragment that htmx
// swaps in (e.g. "table").
func (r *Renderer) Block(w io.Writer, name, block string, data any) error {
	t := r.pages[name]
	if t == nil {
		return fmt.Errorf("web: no page %q", name)
	}
	var buf bytes.Buffer // a template error must not leave half a page on the wire
	if err := t.ExecuteTemplate(&buf, block, data); err != nil {
		return fmt.Errorf("web: render %s/%s: %w", name, block, err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// Has reports whether a page exists (for tests).
func (r *Renderer) Has(name string) bool { return r.pages[name] != nil }

func (r *Renderer) funcs(static *Static) template.FuncMap {
	return template.FuncMap{
		"asset": func(name string) string {
			if static == nil {
				return "/console/static/" + name
			}
			return static.URL(name)
		},
		"time": func(t any) string {
			switch v := t.(type) {
			case time.Time:
				if v.IsZero() {
					return ""
				}
				return v.In(r.loc).Format("2006-01-02 15:04")
			case *time.Time:
				if v == nil || v.IsZero() {
					return ""
				}
				return v.In(r.loc).Format("2006-01-02 15:04")
			}
			return ""
		},
		"date":      func(t time.Time) string { return t.In(r.loc).Format("2006-01-02") },
		"maskPhone": MaskPhone,
		"pct": func(part, total int64) string {
			if total == 0 {
				return "0%"
			}
			return fmt.Sprintf("%.0f%%", float64(part)*100/float64(total))
		},
		"pctNum": func(part, total int64) float64 {
			if total == 0 {
				return 0
			}
			return float64(part) * 100 / float64(total)
		},
		"add":  func(a, b int) int { return a + b },
		"sub":  func(a, b int) int { return a - b },
		"last": func(path string) string { return path[strings.LastIndexByte(path, '/')+1:] },
		"json": func(v any) (template.JS, error) { return marshalJS(v) },
		"dict": func(kv ...any) (map[string]any, error) {
			if len(kv)%2 != 0 {
				return nil, fmt.Errorf("dict: odd arguments")
			}
			m := make(map[string]any, len(kv)/2)
			for i := 0; i < len(kv); i += 2 {
				k, ok := kv[i].(string)
				if !ok {
					return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
				}
				m[k] = kv[i+1]
			}
			return m, nil
		},
	}
}

// MaskPhone shows a phone number as 138****1234 (personal data in lists).
func MaskPhone(p string) string {
	if utf8.RuneCountInString(p) < 7 {
		return p
	}
	return p[:3] + strings.Repeat("*", len(p)-7) + p[len(p)-4:]
}

// Static serves the embedded assets under /console/static/, with content-hashed URLs (cached for a
// year) and gzip for clients that accept it (ECharts is 1 MB, 340 KB gzipped).
type Static struct {
	files map[string]*asset // by name, e.g. "app.css", "vendor/htmx.min.js"
}

type asset struct {
	body, gz []byte
	ctype    string
	hash     string
}

// NewStatic loads and compresses the assets once.
func NewStatic() (*Static, error) {
	s := &Static{files: map[string]*asset{}}
	err := fs.WalkDir(staticFiles, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := staticFiles.ReadFile(p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "static/")
		sum := sha256.Sum256(body)
		a := &asset{body: body, ctype: mime.TypeByExtension(path.Ext(name)), hash: hex.EncodeToString(sum[:6])}
		if a.ctype == "" {
			a.ctype = "application/octet-stream"
		}
		if len(body) > 1024 {
			var buf bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
			zw.Write(body)
			zw.Close()
			a.gz = buf.Bytes()
		}
		s.files[name] = a
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web: static: %w", err)
	}
	return s, nil
}

// URL is the cache-busting address of an asset.
func (s *Static) URL(name string) string {
	if a := s.files[name]; a != nil {
		return "/console/static/" + name + "?v=" + a.hash
	}
	return "/console/static/" + name
}

// ServeHTTP serves /console/static/NAME.
func (s *Static) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/console/static/")
	a := s.files[name]
	if a == nil {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.ctype)
	h.Set("X-Content-Type-Options", "nosniff")
	if r.URL.Query().Get("v") == a.hash {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "public, max-age=300")
	}
	h.Set("ETag", `"`+a.hash+`"`)
	if r.Header.Get("If-None-Match") == `"`+a.hash+`"` {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := a.body
	if a.gz != nil {
		h.Add("Vary", "Accept-Encoding")
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			h.Set("Content-Encoding", "gzip")
			body = a.gz
		}
	}
	h.Set("Content-Length", fmt.Sprint(len(body)))
	if r.Method == http.MethodHead {
		return
	}
	w.Write(body)
}
