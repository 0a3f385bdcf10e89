// Package qrsvg renders QR codes (扫码签到, 入群, 问卷 links) for the console: as inline SVG for
// pages, which stays sharp at any zoom and needs no extra request, and as PNG where an image file
// is needed (downloads, WeChat media uploads).
//
// Codes use recovery level Medium (about 15% of the symbol may be damaged or covered) and include
// the 4-module quiet zone that scanners need.
package qrsvg

import (
	"fmt"
	"html/template"
	"strconv"
	"strings"

	qrcode "github.com/skip2/go-qrcode"
)

// label is the accessible name of the SVG. The content itself is not read out: it is usually a
// long URL, often with a token in it.
const label = "二维码"

// SVG renders content as an inline <svg> element sizePx wide and high. The dark modules are one
// <path> on a white square (so the quiet zone stays light on dark backgrounds), in a viewBox of
// one unit per module. It fails when content is empty or too long for a QR code (about 2,300
// bytes at this recovery level).
func SVG(content string, sizePx int) (template.HTML, error) {
	if sizePx <= 0 {
		return "", fmt.Errorf("qrsvg: size %d px: must be positive", sizePx)
	}
	q, err := qrcode.New(content, qrcode.Medium)
	if err != nil {
		return "", fmt.Errorf("qrsvg: encode %d bytes: %w", len(content), err)
	}
	bitmap := q.Bitmap()
	n := strconv.Itoa(len(bitmap))
	size := strconv.Itoa(sizePx)

	var b strings.Builder
	b.Grow(256 + 4*len(bitmap)*len(bitmap)) // about what a typical code's path takes
	b.WriteString(`<svg xmlns="http://www.w3.org/2000/svg" width="` + size + `" height="` + size +
		`" viewBox="0 0 ` + n + ` ` + n + `" shape-rendering="crispEdges" role="img" aria-label="` + label + `">`)
	b.WriteString(`<rect width="` + n + `" height="` + n + `" fill="#fff"/>`)
	b.WriteString(`<path fill="#000" d="`)
	writePath(&b, bitmap)
	b.WriteString(`"/></svg>`)
	// Safe: every attribute value above is a number or a constant.
	return template.HTML(b.String()), nil
}

// writePath draws each horizontal run of dark modules as one closed rectangle, "M x y h w v1 h-w z",
// which is several times smaller than a rectangle per module.
func writePath(b *strings.Builder, bitmap [][]bool) {
	for y, row := range bitmap {
		for x := 0; x < len(row); {
			if !row[x] {
				x++
				continue
			}
			start := x
			for x < len(row) && row[x] {
				x++
			}
			w := strconv.Itoa(x - start)
			b.WriteString("M" + strconv.Itoa(start) + " " + strconv.Itoa(y) + "h" + w + "v1h-" + w + "z")
		}
	}
}

// PNG renders content as a black-on-white PNG of sizePx × sizePx pixels (at least one pixel per
// module: a smaller size is raised to that). Module edges are sharpest when sizePx is a multiple
// of the module count. It fails like SVG.
func PNG(content string, sizePx int) ([]byte, error) {
	if sizePx <= 0 {
		return nil, fmt.Errorf("qrsvg: size %d px: must be positive", sizePx)
	}
	q, err := qrcode.New(content, qrcode.Medium)
	if err != nil {
		return nil, fmt.Errorf("qrsvg: encode %d bytes: %w", len(content), err)
	}
	img, err := q.PNG(sizePx)
	if err != nil {
		return nil, fmt.Errorf("qrsvg: png: %w", err)
	}
	return img, nil
}
