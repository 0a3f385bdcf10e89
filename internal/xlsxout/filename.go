package xlsxout

import (
	"bytes"
	"strings"
	"time"
	"unicode"
)

// FileName names an export: base, an underscore, the time in at's location and ".xlsx", e.g.
// "花名册_20261121-2015.xlsx". Characters that are not allowed in file names on Windows or
// Unix become "_"; an empty base becomes "export".
func FileName(base string, at time.Time) string {
	base = strings.TrimSuffix(strings.TrimSpace(base), ".xlsx")
	var b strings.Builder
	n := 0
	for _, r := range base {
		if n == maxBaseRunes {
			break
		}
		if strings.ContainsRune(`/\:*?"<>|`, r) || unicode.IsControl(r) || r == unicode.ReplacementChar {
			r = '_'
		}
		b.WriteRune(r)
		n++
	}
	name := strings.Trim(b.String(), " .")
	if name == "" {
		name = "export"
	}
	return name + "_" + at.Format("20060102-1504") + ".xlsx"
}

// maxBaseRunes keeps file names well under the 255-byte limit of common file systems, even when
// every character takes 3 bytes in UTF-8.
const maxBaseRunes = 60

// ContentDisposition returns a Content-Disposition header value that offers filename as a
// download: an ASCII-only filename="…" for old clients (each run of non-ASCII characters, with
// the spaces around it, becomes one "_", and a name left with no letters is prefixed with
// "export"), and the exact name UTF-8 and percent-encoded in filename* per RFC 5987 and
// RFC 6266, which current browsers prefer. For example "花名册_20261121-2015.xlsx" gives
//
//	attachment; filename="export_20261121-2015.xlsx"; filename*=UTF-8''%E8%8A%B1%E5%90%8D%E5%86%8C_20261121-2015.xlsx
func ContentDisposition(filename string) string {
	return `attachment; filename="` + asciiFallback(filename) + `"; filename*=UTF-8''` + encodeRFC5987(filename)
}

// asciiFallback returns a printable-ASCII version of name that is safe in a quoted string.
func asciiFallback(name string) string {
	b := make([]byte, 0, len(name))
	afterGap := false // the last byte stands for replaced characters; spaces after it are dropped
	for _, r := range name {
		switch {
		case r == '"' || r == '\\' || r < 0x20 || r > 0x7e:
			b = bytes.TrimRight(b, " _")
			b = append(b, '_')
			afterGap = true
		case r == ' ' && afterGap:
		case r == '_' && afterGap:
		default:
			b = append(b, byte(r))
			afterGap = false
		}
	}
	s := string(b)
	stem, ext := s, ""
	if i := strings.LastIndexByte(s, '.'); i > 0 {
		stem, ext = s[:i], s[i:]
	}
	stem = strings.Trim(stem, "_-. ")
	hasLetter := strings.IndexFunc(stem, func(r rune) bool { return r < unicode.MaxASCII && unicode.IsLetter(r) }) >= 0
	switch {
	case stem == "":
		stem = "export"
	case !hasLetter:
		stem = "export_" + stem
	}
	return stem + ext
}

// encodeRFC5987 percent-encodes every byte of s that is not an attr-char of RFC 5987.
func encodeRFC5987(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isAttrChar(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&0x0f])
	}
	return b.String()
}

// isAttrChar reports whether c may appear unencoded in an RFC 5987 ext-value.
func isAttrChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$&+-.^_`|~", c) >= 0
}
