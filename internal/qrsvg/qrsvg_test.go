package qrsvg

import (
	"bytes"
	"encoding/xml"
	"image/png"
	"regexp"
	"strconv"
	"strings"
	"testing"

	qrcode "github.com/skip2/go-qrcode"
)

type svgDoc struct {
	XMLName        xml.Name `xml:"http://www.w3.org/2000/svg svg"`
	Width          string   `xml:"width,attr"`
	Height         string   `xml:"height,attr"`
	ViewBox        string   `xml:"viewBox,attr"`
	ShapeRendering string   `xml:"shape-rendering,attr"`
	Role           string   `xml:"role,attr"`
	AriaLabel      string   `xml:"aria-label,attr"`
	Rects          []struct {
		Fill string `xml:"fill,attr"`
	} `xml:"rect"`
	Paths []struct {
		Fill string `xml:"fill,attr"`
		D    string `xml:"d,attr"`
	} `xml:"path"`
}

func parseSVG(t *testing.T, content string, size int) svgDoc {
	t.Helper()
	out, err := SVG(content, size)
	if err != nil {
		t.Fatalf("SVG(%q): %v", content, err)
	}
	var doc svgDoc
	dec := xml.NewDecoder(strings.NewReader(string(out)))
	dec.Strict = true
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("SVG is not well-formed XML: %v\n%s", err, out)
	}
	return doc
}

func TestSVG(t *testing.T) {
	tests := []struct {
		content string
		size    int
		viewBox string // modules + 2×4 quiet zone
	}{
		{"hello", 200, "0 0 29 29"}, // version 1: 21 modules
		{"https://example.com/checkin?t=0123456789abcdef", 256, "0 0 41 41"}, // version 4: 33 modules
		{"扫码签到：花溪镇第一支部 " + strings.Repeat("x", 100), 320, "0 0 57 57"},       // version 8: 49 modules
	}
	for _, tt := range tests {
		t.Run(tt.content, func(t *testing.T) {
			doc := parseSVG(t, tt.content, tt.size)
			if doc.ViewBox != tt.viewBox {
				t.Errorf("viewBox = %q, want %q", doc.ViewBox, tt.viewBox)
			}
			if want := strconv.Itoa(tt.size); doc.Width != want || doc.Height != want {
				t.Errorf("width × height = %s × %s, want %s", doc.Width, doc.Height, want)
			}
			if doc.ShapeRendering != "crispEdges" || doc.Role != "img" || doc.AriaLabel == "" {
				t.Errorf("attributes = %+v", doc)
			}
			if len(doc.Paths) != 1 || doc.Paths[0].Fill != "#000" {
				t.Fatalf("want one black path, got %+v", doc.Paths)
			}
			if len(doc.Rects) != 1 || doc.Rects[0].Fill != "#fff" {
				t.Errorf("want one white background rect, got %+v", doc.Rects)
			}

			// The path covers exactly the dark modules of the code.
			q, err := qrcode.New(tt.content, qrcode.Medium)
			if err != nil {
				t.Fatal(err)
			}
			want := q.Bitmap()
			got := pathModules(t, doc.Paths[0].D, len(want))
			for y := range want {
				for x := range want[y] {
					if got[y][x] != want[y][x] {
						t.Fatalf("module (%d,%d): path %v, bitmap %v", x, y, got[y][x], want[y][x])
					}
				}
			}
			// The 4-module quiet zone is light.
			for i := range want {
				for j := range 4 {
					if got[i][j] || got[j][i] || got[i][len(want)-1-j] || got[len(want)-1-j][i] {
						t.Fatalf("dark module in the quiet zone near (%d,%d)", i, j)
					}
				}
			}
		})
	}
}

// pathModules rasterises the "M x y h w v1 h-w z" runs written by writePath.
func pathModules(t *testing.T, d string, n int) [][]bool {
	t.Helper()
	grid := make([][]bool, n)
	for i := range grid {
		grid[i] = make([]bool, n)
	}
	run := regexp.MustCompile(`M(\d+) (\d+)h(\d+)v1h-(\d+)z`)
	if rest := run.ReplaceAllString(d, ""); rest != "" {
		t.Fatalf("unexpected path commands %q", rest)
	}
	for _, m := range run.FindAllStringSubmatch(d, -1) {
		x, _ := strconv.Atoi(m[1])
		y, _ := strconv.Atoi(m[2])
		w, _ := strconv.Atoi(m[3])
		if m[3] != m[4] {
			t.Fatalf("run %q does not close", m[0])
		}
		for i := x; i < x+w; i++ {
			if grid[y][i] {
				t.Fatalf("module (%d,%d) drawn twice", i, y)
			}
			grid[y][i] = true
		}
	}
	return grid
}

func TestSVGErrors(t *testing.T) {
	tests := []struct {
		name    string
		content string
		size    int
	}{
		{"too long", strings.Repeat("签", 1000), 200}, // 3,000 bytes
		{"empty", "", 200},
		{"zero size", "hello", 0},
		{"negative size", "hello", -4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if out, err := SVG(tt.content, tt.size); err == nil {
				t.Errorf("SVG = %.40q…, want an error", out)
			}
			if _, err := PNG(tt.content, tt.size); err == nil {
				t.Error("PNG: want an error")
			}
		})
	}
}

func TestPNG(t *testing.T) {
	data, err := PNG("hello", 290)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 290 || b.Dy() != 290 {
		t.Fatalf("size = %v, want 290×290", b)
	}
	// 10 px per module: the corner is quiet zone (white); module (4,4) is the finder pattern's
	// dark corner.
	if r, _, _, _ := img.At(5, 5).RGBA(); r != 0xffff {
		t.Errorf("quiet zone pixel is not white: r=%#x", r)
	}
	if r, _, _, _ := img.At(45, 45).RGBA(); r != 0 {
		t.Errorf("finder pattern pixel is not black: r=%#x", r)
	}
}

func BenchmarkSVG(b *testing.B) {
	for b.Loop() {
		if _, err := SVG("https://example.com/checkin?t=0123456789abcdef", 256); err != nil {
			b.Fatal(err)
		}
	}
}
