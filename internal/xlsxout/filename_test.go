package xlsxout

import (
	"mime"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestFileName(t *testing.T) {
	at := time.Date(2026, 11, 21, 12, 15, 59, 0, time.UTC) // 20:15 in China
	tests := []struct{ base, want string }{
		{"花名册", "花名册_20261121-2015.xlsx"},
		{"  签到记录.xlsx ", "签到记录_20261121-2015.xlsx"},
		{"洪雅县/花溪镇: 名单?", "洪雅县_花溪镇_ 名单__20261121-2015.xlsx"},
		{"", "export_20261121-2015.xlsx"},
		{"...", "export_20261121-2015.xlsx"},
		{strings.Repeat("长", 100), strings.Repeat("长", 60) + "_20261121-2015.xlsx"},
	}
	for _, tt := range tests {
		if got := FileName(tt.base, at.In(cst)); got != tt.want {
			t.Errorf("FileName(%q) = %q, want %q", tt.base, got, tt.want)
		}
	}
	if got := FileName("x", at); got != "x_20261121-1215.xlsx" {
		t.Errorf("FileName in UTC = %q, want the UTC clock time", got)
	}
}

func TestContentDisposition(t *testing.T) {
	tests := []struct {
		name, fallback string
	}{
		{"花名册_20261121-2015.xlsx", "export_20261121-2015.xlsx"},
		{"党员花名册.xlsx", "export.xlsx"},
		{"report 花名册 2026.xlsx", "report_2026.xlsx"},
		{"plain-name.xlsx", "plain-name.xlsx"},
		{`a"b\c;d=e.xlsx`, "a_b_c;d=e.xlsx"},
		{"100% 完成 & more,(1).xlsx", "100%_& more,(1).xlsx"},
		{"2026年 第3季度_积分.xlsx", "export_2026_3.xlsx"},
		{"", "export"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := ContentDisposition(tt.name)
			disp, params, err := mime.ParseMediaType(h)
			if err != nil {
				t.Fatalf("ParseMediaType(%q): %v", h, err)
			}
			if disp != "attachment" {
				t.Errorf("disposition = %q", disp)
			}
			// filename* wins over filename in Go's parser, as in browsers.
			if params["filename"] != tt.name {
				t.Errorf("filename from %q = %q, want %q", h, params["filename"], tt.name)
			}

			plain, ext, ok := strings.Cut(h, "; filename*=UTF-8''")
			if !ok {
				t.Fatalf("no filename* in %q", h)
			}
			if got, err := url.PathUnescape(ext); err != nil || got != tt.name {
				t.Errorf("filename* unescapes to %q (%v), want %q", got, err, tt.name)
			}
			for i := 0; i < len(ext); i++ {
				if c := ext[i]; c != '%' && !strings.ContainsRune(attrChars, rune(c)) {
					t.Errorf("filename* %q has %q unencoded; RFC 5987 allows only attr-chars", ext, c)
				}
			}

			_, params, err = mime.ParseMediaType(plain)
			if err != nil {
				t.Fatalf("ParseMediaType(%q): %v", plain, err)
			}
			if params["filename"] != tt.fallback {
				t.Errorf("fallback = %q, want %q", params["filename"], tt.fallback)
			}
			for _, r := range params["filename"] {
				if r < 0x20 || r > 0x7e {
					t.Errorf("fallback %q has non-ASCII %q", params["filename"], r)
				}
			}
		})
	}
}

// attrChars is RFC 5987's attr-char, written out independently of isAttrChar.
const attrChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$&+-.^_`|~"

func TestContentDispositionExample(t *testing.T) {
	got := ContentDisposition("花名册_20261121-2015.xlsx")
	want := `attachment; filename="export_20261121-2015.xlsx"; filename*=UTF-8''%E8%8A%B1%E5%90%8D%E5%86%8C_20261121-2015.xlsx`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
