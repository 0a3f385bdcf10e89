package policy

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/yanzhen/yanzhen/handlers/policy/index"
)

// Passage sizes, in characters. A passage is a paragraph; a short one (a heading, a one-line lead) is
// put in front of the paragraph after it, a long one is cut between sentences. About 200 characters
// is a phone screen and keeps BM25's length normalization meaningful.
const (
	minParagraph = 40
	maxPassage   = 200
	maxSentence  = 300 // a longer sentence is cut between clauses
	// MaxDocBytes bounds one document (a long policy text is a few hundred KB).
	MaxDocBytes = 8 << 20
)

// ErrBadDoc wraps every reason a document is refused; the text after "policy: bad document: " is for
// people, in Chinese.
var ErrBadDoc = errors.New("policy: bad document")

func badDoc(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadDoc, fmt.Sprintf(format, args...))
}

// Reason is what an import error says to people.
func Reason(err error) string {
	if errors.Is(err, ErrBadDoc) {
		return strings.TrimPrefix(err.Error(), ErrBadDoc.Error()+": ")
	}
	return "导入失败，请稍后再试"
}

// Document is a policy document read from a file, ready to store.
type Document struct {
	Name     string // the file name: the natural key of re-imports
	Title    string
	Source   string
	Date     string
	Hash     string // SHA-256 of the folded text
	Passages []string
}

// Supported reports whether a file name has an extension the knowledge base reads.
func Supported(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".txt", ".md", ".markdown", ".docx":
		return true
	}
	return false
}

// ParseDocument reads a document: .txt and .md as UTF-8 (or GB18030, as Windows Notepad saves "ANSI"),
// .docx through its paragraphs. It finds the title (a Markdown heading, a "标题：" line or the first
// line), the date and the issuing source near the top, and splits the text into passages.
func ParseDocument(name string, data []byte) (*Document, error) {
	name = strings.TrimSpace(path.Base(strings.ReplaceAll(name, `\`, "/")))
	if !Supported(name) {
		return nil, badDoc("「%s」不是支持的文件类型（.txt、.md、.docx）", clip(name, 40))
	}
	if len(data) > MaxDocBytes {
		return nil, badDoc("「%s」太大（最大 %d MB）", clip(name, 40), MaxDocBytes>>20)
	}
	ext := strings.ToLower(path.Ext(name))
	var text string
	if ext == ".docx" {
		t, err := docxText(data)
		if err != nil {
			return nil, badDoc("「%s」不是有效的 Word（.docx）文件", clip(name, 40))
		}
		text = t
	} else {
		data = bytes.TrimPrefix(data, []byte("\ufeff"))
		if bytes.IndexByte(data, 0) >= 0 {
			return nil, badDoc("「%s」不是纯文本文件", clip(name, 40))
		}
		if !utf8.Valid(data) {
			gb, err := simplifiedchinese.GB18030.NewDecoder().Bytes(data)
			if err != nil || !utf8.Valid(gb) || bytes.ContainsRune(gb, utf8.RuneError) {
				return nil, badDoc("读不懂「%s」的文字编码，请另存为 UTF-8", clip(name, 40))
			}
			data = gb
		}
		text = string(data)
	}
	lines := cleanLines(text, ext == ".md" || ext == ".markdown")
	if len(lines) == 0 {
		return nil, badDoc("「%s」是空的，没有可导入的文字", clip(name, 40))
	}
	d := &Document{Name: name}
	body := d.header(lines)
	d.Passages = splitPassages(body)
	if len(d.Passages) == 0 {
		return nil, badDoc("「%s」里没有成段的文字", clip(name, 40))
	}
	h := sha256.New()
	for _, l := range lines {
		io.WriteString(h, index.Fold(l.text))
		h.Write([]byte{'\n'})
	}
	sum := h.Sum(nil)
	d.Hash = hex.EncodeToString(sum[:])
	return d, nil
}

// line is one non-empty line of a document; heading marks a Markdown heading.
type line struct {
	text    string
	heading bool
}

var (
	mdLink     = regexp.MustCompile(`!?\[([^\]]*)\]\([^)]*\)`)
	mdListMark = regexp.MustCompile(`^(?:[-*+]|\d+[.)])\s+`)
)

// cleanLines splits text into trimmed non-empty lines; for Markdown it drops the markup.
func cleanLines(text string, markdown bool) []line {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	var out []line
	fence := false
	for _, raw := range strings.Split(text, "\n") {
		s := strings.TrimFunc(raw, func(r rune) bool { return unicode.IsSpace(r) || r == '\u200b' })
		h := false
		if markdown {
			if strings.HasPrefix(s, "```") {
				fence = !fence
				continue
			}
			if t := strings.TrimLeft(s, "#"); t != s && (t == "" || t[0] == ' ') {
				s, h = strings.TrimSpace(t), true
			}
			s = strings.TrimSpace(strings.TrimLeft(s, ">"))
			s = mdListMark.ReplaceAllString(s, "")
			s = mdLink.ReplaceAllString(s, "$1")
			s = strings.NewReplacer("**", "", "__", "", "`", "").Replace(s)
			if strings.Trim(s, "-=*_| ") == "" {
				continue // rules, table separators
			}
		}
		if s != "" && !fence {
			out = append(out, line{s, h})
		}
	}
	return out
}

var (
	dateRe   = regexp.MustCompile(`(\d{4})\s*[-年/.]\s*(\d{1,2})\s*[-月/.]\s*(\d{1,2})\s*日?`)
	labelRe  = regexp.MustCompile(`^(标题|题目|来源|发布单位|发文单位|日期|发布日期|发布时间|时间|成文日期)\s*[:：]\s*(.*)$`)
	sourceRe = regexp.MustCompile(`来源\s*[:：]\s*([^\s|｜]+)`)
	// metaRe: a short line anywhere that is about the text, not the text: a byline, a "转自" note, an
	// empty label ("内容摘要:") or a label with keywords.
	metaRe = regexp.MustCompile(`^(?:本文)?(?:来源|转自|转载自|责任编辑|编辑|记者|作者|通讯员|关键词|关键字|内容摘要|摘要|作者简介|原标题)\s*[:：]?`)
)

// metaLine reports whether a line is a note about the document (see metaRe) rather than its text.
func metaLine(s string) bool {
	n := utf8.RuneCountInString(s)
	if n <= 12 && (strings.HasSuffix(s, ":") || strings.HasSuffix(s, "：")) {
		return true
	}
	return n <= 60 && metaRe.MatchString(s)
}

// headerLines is how far from the top the title, date and source are looked for.
const headerLines = 8

// header takes the title, date and source from the top of the document and returns the body lines.
func (d *Document) header(lines []line) []line {
	titleAt := -1
	for i, l := range lines {
		if l.heading {
			d.Title, titleAt = l.text, i
			break
		}
		if i >= headerLines {
			break
		}
	}
	var body []line
	for i, l := range lines {
		if i < headerLines {
			if m := labelRe.FindStringSubmatch(l.text); m != nil {
				switch v := strings.TrimSpace(m[2]); m[1] {
				case "标题", "题目":
					if d.Title == "" && v != "" {
						d.Title, titleAt = v, i
					}
				case "来源", "发布单位", "发文单位":
					d.Source = v
				default:
					d.Date = v
				}
				continue
			}
			if d.Date == "" {
				if m := dateRe.FindString(l.text); m != "" {
					d.Date = strings.Join(strings.Fields(m), "")
				}
			}
			if d.Source == "" {
				if m := sourceRe.FindStringSubmatch(l.text); m != nil {
					d.Source = m[1]
				}
			}
		}
		if i == titleAt {
			continue
		}
		if metaLine(l.text) {
			if m := sourceRe.FindStringSubmatch(l.text); m != nil && d.Source == "" {
				d.Source = m[1]
			}
			continue
		}
		body = append(body, l)
	}
	if d.Title == "" {
		// The first line that reads as a title: not a "label:" line, not too long.
		for i, l := range body {
			if i >= headerLines {
				break
			}
			n := utf8.RuneCountInString(l.text)
			if strings.HasSuffix(l.text, ":") || strings.HasSuffix(l.text, "：") || n > 60 || hanCount(l.text) < 2 {
				continue
			}
			d.Title = l.text
			body = append(body[:i:i], body[i+1:]...)
			break
		}
	}
	if d.Title == "" {
		d.Title = strings.TrimSuffix(d.Name, path.Ext(d.Name))
	}
	// Web pages repeat their headline between paragraphs; as a passage's lead it would make the
	// passage look like the answer to any question that reads like the title.
	key := sameText(d.Title)
	kept := body[:0]
	for _, l := range body {
		if sameText(l.text) != key {
			kept = append(kept, l)
		}
	}
	body = kept
	d.Title = clip(d.Title, 120)
	d.Source = clip(d.Source, 120)
	d.Date = clip(d.Date, 30)
	return body
}

// sameText is text reduced for comparing lines: folded, letters and digits only.
func sameText(s string) string {
	var b strings.Builder
	for _, r := range index.Fold(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// splitPassages makes passages of the body's lines: lines cut in the middle of a sentence (ending in
// a comma) are joined, lines with hardly any text (share buttons, "调整字体") dropped, short paragraphs
// put in front of the next, long ones cut between sentences.
func splitPassages(body []line) []string {
	var paras []line
	var cur strings.Builder
	for _, l := range body {
		cur.WriteString(l.text)
		if !continues(l.text) || l.heading {
			paras = append(paras, line{cur.String(), l.heading})
			cur.Reset()
		}
	}
	if cur.Len() > 0 {
		paras = append(paras, line{text: cur.String()})
	}
	var out []string
	pending := ""
	for _, p := range paras {
		if hanCount(p.text) < 6 && !p.heading {
			continue
		}
		text := p.text
		if pending != "" {
			text = pending + "\n" + text
			pending = ""
		}
		if utf8.RuneCountInString(text) < minParagraph {
			pending = text
			continue
		}
		out = append(out, chunk(text)...)
	}
	if pending != "" {
		if len(out) > 0 && utf8.RuneCountInString(out[len(out)-1])+utf8.RuneCountInString(pending) <= maxPassage {
			out[len(out)-1] += "\n" + pending
		} else {
			out = append(out, pending)
		}
	}
	return out
}

// continues reports whether a line stops in the middle of a sentence.
func continues(s string) bool {
	r, _ := utf8.DecodeLastRuneInString(s)
	return strings.ContainsRune("，,、；;：:“（(《", r)
}

// chunk cuts a paragraph longer than maxPassage between sentences.
func chunk(p string) []string {
	if utf8.RuneCountInString(p) <= maxPassage {
		return []string{p}
	}
	var out []string
	var cur strings.Builder
	n := 0
	for _, s := range sentences(p) {
		sn := utf8.RuneCountInString(s)
		if n > 0 && n+sn > maxPassage {
			out = append(out, cur.String())
			cur.Reset()
			n = 0
		}
		cur.WriteString(s)
		n += sn
	}
	if n > 0 {
		if n < minParagraph && len(out) > 0 {
			out[len(out)-1] += cur.String() // no stub of a passage at the end
		} else {
			out = append(out, cur.String())
		}
	}
	return out
}

// sentences splits text after 。！？；, a sentence over maxSentence also after its commas. Closing
// quotes and brackets stay with the sentence they close.
func sentences(p string) []string {
	var out []string
	rs := []rune(p)
	start := 0
	for i := 0; i < len(rs); i++ {
		if !strings.ContainsRune("。！？!?；;\n", rs[i]) {
			continue
		}
		j := i + 1
		for j < len(rs) && strings.ContainsRune("”’」』）)", rs[j]) {
			j++
		}
		out = append(out, string(rs[start:j]))
		start, i = j, j-1
	}
	if start < len(rs) {
		out = append(out, string(rs[start:]))
	}
	var cut []string
	for _, s := range out {
		if utf8.RuneCountInString(s) <= maxSentence {
			cut = append(cut, s)
			continue
		}
		rs := []rune(s)
		from := 0
		for i := range rs {
			if (rs[i] == '，' || rs[i] == ',') && i+1-from >= maxPassage/2 {
				cut = append(cut, string(rs[from:i+1]))
				from = i + 1
			}
		}
		if from < len(rs) {
			cut = append(cut, string(rs[from:]))
		}
	}
	return cut
}

// hanCount counts the Chinese characters of s.
func hanCount(s string) int {
	n := 0
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			n++
		}
	}
	return n
}

// clip shortens s to n characters, with "…" when it cut.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	rs := []rune(s)
	return string(rs[:n-1]) + "…"
}

// docxText is the text of a Word document, a paragraph a line: word/document.xml's w:t runs, with
// w:tab and w:br as white space.
func docxText(data []byte) (string, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return "", err
	}
	f, err := zr.Open("word/document.xml")
	if err != nil {
		return "", err
	}
	defer f.Close()
	dec := xml.NewDecoder(io.LimitReader(f, 64<<20))
	var b strings.Builder
	inText := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "t":
				inText = true
			case "tab":
				b.WriteByte(' ')
			case "br", "cr":
				b.WriteByte('\n')
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "t":
				inText = false
			case "p":
				b.WriteByte('\n')
			}
		case xml.CharData:
			if inText {
				b.Write(t)
			}
		}
	}
	return b.String(), nil
}
