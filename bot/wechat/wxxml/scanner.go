package wxxml

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf8"
	"unsafe"
)

// ErrMalformed is returned (wrapped, with the offset) for anything that is not well-formed WeChat XML
// or JSON: bad syntax, truncation, a root other than <xml>, a number field that is not a number.
var ErrMalformed = errors.New("wxxml: malformed message")

func malformed(off int, what string) error {
	return fmt.Errorf("%w: %s at byte %d", ErrMalformed, what, off)
}

var (
	xmlName  = []byte("xml")
	cdataEnd = []byte("]]>")
	dashDash = []byte("--")
	piEnd    = []byte("?>")
	utf8BOM  = []byte("\xef\xbb\xbf")
)

// scanner walks a WeChat XML document one element at a time without building a tree. It checks
// well-formedness as it goes (names, nesting, attributes, entities, comments, CDATA, characters) but
// decodes character data only for the elements the caller asks for, and then without copying when the
// content is one clean run or one CDATA section (the usual case).
//
// Usage:
//
//	s := scanner{b: body}
//	for c := s.begin(); s.next(&c); {
//		switch string(s.name) { // each child must be consumed: str, int, float, skip, or enter+next
//		case "Content":
//			text = s.str()
//		default:
//			s.skip()
//		}
//	}
//	err := s.end()
//
// The first error sticks: every later call does nothing, and end returns it.
type scanner struct {
	b     []byte
	i     int
	err   error
	name  []byte // the element next just opened
	empty bool   // it was self-closing
	val   []byte // the value text is collecting: a slice of b, or buf
	own   bool   // val lives in buf
	buf   []byte // scratch for values that need decoding or joining
}

// cursor iterates over the children of one element.
type cursor struct {
	parent    []byte
	done      bool
	allowText bool // character data may appear between the children
}

func (s *scanner) setFail(what string) {
	if s.err == nil {
		s.err = malformed(s.i, what)
	}
}

// has reports whether the input continues with p.
func (s *scanner) has(p string) bool {
	return len(s.b)-s.i >= len(p) && string(s.b[s.i:s.i+len(p)]) == p
}

func (s *scanner) skipSpace() {
	for s.i < len(s.b) && class[s.b[s.i]]&cSpace != 0 {
		s.i++
	}
}

// begin checks the characters of the whole document, skips the prolog and opens the root element,
// which must be <xml>. Text between the root's children is an error.
func (s *scanner) begin() cursor {
	if k := validChars(s.b); k >= 0 {
		s.err = malformed(k, "invalid character")
		return cursor{done: true}
	}
	if bytes.HasPrefix(s.b, utf8BOM) {
		s.i = len(utf8BOM)
	}
	if s.misc(); s.err != nil {
		return cursor{done: true}
	}
	if !s.has("<") || s.has("<!") {
		s.setFail("expected <xml>")
		return cursor{done: true}
	}
	s.i++
	name, empty := s.startTag()
	if s.err == nil && !bytes.Equal(name, xmlName) {
		s.setFail("root element is not <xml>")
	}
	s.name, s.empty = name, empty
	return s.enter(false)
}

// enter starts iterating over the children of the element just opened.
func (s *scanner) enter(allowText bool) cursor {
	return cursor{parent: s.name, done: s.empty || s.err != nil, allowText: allowText}
}

// end checks that nothing but white space, comments and processing instructions follow the root, and
// returns the first error of the scan.
func (s *scanner) end() error {
	if s.err == nil {
		s.misc()
		if s.i != len(s.b) {
			s.setFail("content after the root element")
		}
	}
	return s.err
}

// misc skips white space, comments and processing instructions (the XML declaration among them).
func (s *scanner) misc() {
	for s.err == nil {
		s.skipSpace()
		switch {
		case s.has("<!--"):
			s.comment()
		case s.has("<?"):
			s.pi()
		default:
			return
		}
	}
}

// comment skips <!-- ... -->, in which "--" may only appear as part of the end.
func (s *scanner) comment() {
	k := bytes.Index(s.b[s.i+4:], dashDash)
	if k < 0 {
		s.i = len(s.b)
		s.setFail("unterminated comment")
		return
	}
	s.i += 4 + k + 2
	if !s.has(">") {
		s.setFail(`"--" inside a comment`)
		return
	}
	s.i++
}

// pi skips <?target ...?>.
func (s *scanner) pi() {
	s.i += 2
	if s.readName() == nil {
		s.setFail("bad processing instruction")
		return
	}
	k := bytes.Index(s.b[s.i:], piEnd)
	if k < 0 {
		s.i = len(s.b)
		s.setFail("unterminated processing instruction")
		return
	}
	s.i += k + 2
}

func (s *scanner) readName() []byte {
	start := s.i
	if s.i >= len(s.b) || class[s.b[s.i]]&cNameStart == 0 {
		return nil
	}
	s.i++
	for s.i < len(s.b) && class[s.b[s.i]]&cName != 0 {
		s.i++
	}
	return s.b[start:s.i]
}

// startTag reads a start tag after its '<': the name, the attributes (checked, then ignored) and the
// closing '>' or '/>'.
func (s *scanner) startTag() (name []byte, empty bool) {
	if name = s.readName(); name == nil {
		s.setFail("bad element name")
		return nil, false
	}
	for {
		s.skipSpace()
		switch {
		case s.has(">"):
			s.i++
			return name, false
		case s.has("/>"):
			s.i += 2
			return name, true
		}
		if s.readName() == nil {
			s.setFail("bad attribute")
			return nil, false
		}
		s.skipSpace()
		if !s.has("=") {
			s.setFail("attribute without value")
			return nil, false
		}
		s.i++
		s.skipSpace()
		if !s.has(`"`) && !s.has("'") {
			s.setFail("unquoted attribute value")
			return nil, false
		}
		q := s.b[s.i]
		s.i++
		k := bytes.IndexByte(s.b[s.i:], q)
		if k < 0 {
			s.i = len(s.b)
			s.setFail("unterminated attribute value")
			return nil, false
		}
		v := s.b[s.i : s.i+k]
		if off := bytes.IndexByte(v, '<'); off >= 0 {
			s.i += off
			s.setFail("< in attribute value")
			return nil, false
		}
		if off := checkEntities(v); off >= 0 {
			s.i += off
			s.setFail("bad entity")
			return nil, false
		}
		s.i += k + 1
	}
}

// endTag reads </name> (white space allowed before '>') and checks that it closes want.
func (s *scanner) endTag(want []byte) {
	if e := s.i + 2 + len(want); e < len(s.b) && s.b[e] == '>' && string(s.b[s.i+2:e]) == string(want) {
		s.i = e + 1
		return
	}
	s.i += 2
	if name := s.readName(); !bytes.Equal(name, want) {
		s.setFail("mismatched end tag")
		return
	}
	s.skipSpace()
	if !s.has(">") {
		s.setFail("bad end tag")
		return
	}
	s.i++
}

// next opens the next child element of c's parent, setting s.name and s.empty, and reports whether
// there is one; at the parent's end tag, or after an error, it returns false. The caller must consume
// the child before calling next again.
func (s *scanner) next(c *cursor) bool {
	for !c.done && s.err == nil {
		if c.allowText {
			k := bytes.IndexByte(s.b[s.i:], '<')
			if k < 0 {
				s.i = len(s.b)
				s.setFail("unexpected end")
				break
			}
			s.charData(s.b[s.i:s.i+k], false)
			s.i += k
		} else {
			s.skipSpace()
		}
		switch {
		case s.i >= len(s.b):
			s.setFail("unexpected end")
		case s.b[s.i] != '<':
			s.setFail("text outside elements")
		case s.has("</"):
			s.endTag(c.parent)
			c.done = true
		case s.has("<!--"):
			s.comment()
		case s.has("<?"):
			s.pi()
		case c.allowText && s.has("<![CDATA["):
			s.cdata(false)
		case s.has("<!"):
			s.setFail("unexpected <!")
		default:
			s.i++
			s.name, s.empty = s.startTag()
			return s.err == nil
		}
	}
	c.done = true
	return false
}

// text consumes the current element and returns its character data: the text runs and CDATA sections
// directly inside it, decoded and joined; child elements, comments and processing instructions are
// checked and skipped (as encoding/xml does for a string field). The result is valid until the next
// call.
func (s *scanner) text() []byte { return s.content(true) }

// skip consumes the current element, checking it.
func (s *scanner) skip() { s.content(false) }

func (s *scanner) content(collect bool) []byte {
	s.val, s.own = nil, false
	if s.empty || s.err != nil {
		return nil
	}
	open := s.name
	var stackArr [8][]byte
	stack := stackArr[:0] // open descendants
	for s.err == nil {
		k := 0
		if s.i >= len(s.b) || s.b[s.i] != '<' {
			k = bytes.IndexByte(s.b[s.i:], '<')
		}
		if k < 0 {
			s.i = len(s.b)
			s.setFail("unexpected end")
			break
		}
		if k > 0 {
			s.charData(s.b[s.i:s.i+k], collect && len(stack) == 0)
			s.i += k
		}
		switch {
		case s.has("</"):
			if len(stack) == 0 {
				s.endTag(open)
				return s.val
			}
			s.endTag(stack[len(stack)-1])
			stack = stack[:len(stack)-1]
		case s.has("<![CDATA["):
			s.cdata(collect && len(stack) == 0)
		case s.has("<!--"):
			s.comment()
		case s.has("<?"):
			s.pi()
		case s.has("<!"):
			s.setFail("unexpected <!")
		default:
			s.i++
			if name, empty := s.startTag(); !empty {
				stack = append(stack, name)
			}
		}
	}
	return nil
}

// cdata consumes <![CDATA[...]]>, collecting its content if asked.
func (s *scanner) cdata(collect bool) {
	start := s.i + len("<![CDATA[")
	k := bytes.Index(s.b[start:], cdataEnd)
	if k < 0 {
		s.i = len(s.b)
		s.setFail("unterminated CDATA section")
		return
	}
	s.i = start + k + len(cdataEnd)
	if !collect || k == 0 {
		return
	}
	data := s.b[start : start+k]
	if bytes.IndexByte(data, '\r') < 0 {
		s.add(data)
		return
	}
	s.grab()
	s.buf = appendNewlines(s.buf, data)
	s.val = s.buf
}

// charData checks a run of character data (between two pieces of markup) and collects it if asked.
func (s *scanner) charData(run []byte, collect bool) {
	plain := true
	for _, c := range run {
		if c == '&' || c == '\r' || c == ']' {
			plain = false
			break
		}
	}
	if plain {
		if collect {
			s.add(run)
		}
		return
	}
	if k := bytes.Index(run, cdataEnd); k >= 0 {
		s.i += k
		s.setFail("]]> outside CDATA")
		return
	}
	if off := checkEntities(run); off >= 0 {
		s.i += off
		s.setFail("bad entity")
		return
	}
	if !collect {
		return
	}
	if bytes.IndexByte(run, '&') < 0 && bytes.IndexByte(run, '\r') < 0 {
		s.add(run)
		return
	}
	s.grab()
	s.buf = appendDecoded(s.buf, run)
	s.val = s.buf
}

// add appends p to the value, without copying if it is the first piece.
func (s *scanner) add(p []byte) {
	if len(p) == 0 {
		return
	}
	if s.val == nil {
		s.val = p
		return
	}
	s.grab()
	s.buf = append(s.buf, p...)
	s.val = s.buf
}

// grab moves the value into buf so that more can be appended to it.
func (s *scanner) grab() {
	if !s.own {
		s.buf = append(s.buf[:0], s.val...)
		s.own = true
	}
}

// appendNewlines appends p with its line ends normalized as XML requires: \r\n and \r become \n.
func appendNewlines(dst, p []byte) []byte {
	for len(p) > 0 {
		k := bytes.IndexByte(p, '\r')
		if k < 0 {
			return append(dst, p...)
		}
		dst = append(dst, p[:k]...)
		dst = append(dst, '\n')
		p = p[k+1:]
		if len(p) > 0 && p[0] == '\n' {
			p = p[1:]
		}
	}
	return dst
}

// appendDecoded appends a checked run of character data with its entities replaced and its line ends
// normalized. A \r that comes from a character reference is kept, as in encoding/xml.
func appendDecoded(dst, run []byte) []byte {
	for len(run) > 0 {
		k := bytes.IndexByte(run, '&')
		if k < 0 {
			return appendNewlines(dst, run)
		}
		dst = appendNewlines(dst, run[:k])
		r, n := parseEntity(run[k:])
		dst = utf8.AppendRune(dst, r)
		run = run[k+n:]
	}
	return dst
}

// checkEntities returns the offset of the first bad entity reference in p, or -1.
func checkEntities(p []byte) int {
	off := 0
	for {
		k := bytes.IndexByte(p[off:], '&')
		if k < 0 {
			return -1
		}
		off += k
		_, n := parseEntity(p[off:])
		if n == 0 {
			return off
		}
		off += n
	}
}

// parseEntity decodes the reference at the start of p (which starts with '&'): one of the five
// predefined entities or a character reference &#NN; / &#xNN; to a character XML allows. It returns
// the length of the reference, 0 if it is not valid. As in encoding/xml, a reference to a surrogate
// becomes U+FFFD.
func parseEntity(p []byte) (r rune, n int) {
	if len(p) < 3 {
		return 0, 0
	}
	if p[1] != '#' {
		for _, e := range predefined {
			if len(p) > len(e.name) && string(p[1:1+len(e.name)]) == e.name {
				return e.r, 1 + len(e.name)
			}
		}
		return 0, 0
	}
	i, base := 2, rune(10)
	if p[i] == 'x' {
		i, base = 3, 16
	}
	start := i
	var v rune
	for ; i < len(p); i++ {
		d := rune(digitVal[p[i]])
		if d >= base {
			break
		}
		if v <= utf8.MaxRune {
			v = v*base + d
		}
	}
	if i == start || i >= len(p) || p[i] != ';' || v > utf8.MaxRune {
		return 0, 0
	}
	if 0xD800 <= v && v <= 0xDFFF {
		v = utf8.RuneError
	}
	if !isXMLChar(v) {
		return 0, 0
	}
	return v, i + 1
}

var predefined = [...]struct {
	name string // with the ';'
	r    rune
}{{"lt;", '<'}, {"gt;", '>'}, {"amp;", '&'}, {"quot;", '"'}, {"apos;", '\''}}

func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= utf8.MaxRune
}

// validChars returns the offset of the first byte that does not start a character XML allows (invalid
// UTF-8, a C0 control other than tab, CR and LF, U+FFFE, U+FFFF), or -1.
func validChars(b []byte) int {
	if !utf8.Valid(b) {
		return badChar(b)
	}
	return badControl(b)
}

// validString is validChars for a string.
func validString(s string) int {
	// badControl only reads its argument.
	return validChars(unsafe.Slice(unsafe.StringData(s), len(s)))
}

// badControl finds the first control character or U+FFFE/U+FFFF in valid UTF-8, eight bytes at a time.
func badControl(b []byte) int {
	const (
		ones = 0x0101010101010101
		low7 = 0x7f7f7f7f7f7f7f7f
		high = 0x8080808080808080
	)
	i := 0
	for ; i+8 <= len(b); i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		ef := w ^ ones*0xef
		// Some byte is below 0x20 (a borrow only ever starts at such a byte), or some byte is 0xEF.
		if (w-ones*0x20)&^w&high != 0 || w&high != 0 && ^((ef&low7+low7)|ef)&high != 0 {
			for j := i; j < i+8; j++ {
				if badByte(b, j) {
					return j
				}
			}
		}
	}
	for ; i < len(b); i++ {
		if badByte(b, i) {
			return i
		}
	}
	return -1
}

// badByte: b[j] is a forbidden control character or starts U+FFFE/U+FFFF.
func badByte(b []byte, j int) bool {
	c := b[j]
	return c < 0x20 && c != '\t' && c != '\n' && c != '\r' ||
		c == 0xef && j+2 < len(b) && b[j+1] == 0xbf && b[j+2] >= 0xbe
}

// badChar is the slow, exact check, rune by rune.
func badChar(b []byte) int {
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				return i
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 || r == 0xFFFE || r == 0xFFFF {
			return i
		}
		i += size
	}
	return -1
}

// Byte classes.
const (
	cSpace = 1 << iota
	cNameStart
	cName
)

var class = func() (t [256]uint8) {
	for _, c := range []byte(" \t\r\n") {
		t[c] = cSpace
	}
	for c := 0; c < 256; c++ {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_', c == ':', c >= utf8.RuneSelf:
			t[c] |= cNameStart | cName
		case c >= '0' && c <= '9', c == '.', c == '-':
			t[c] |= cName
		}
	}
	return t
}()

// digitVal is the value of a hexadecimal digit, 255 for other bytes.
var digitVal = func() (t [256]uint8) {
	for c := range t {
		switch {
		case c >= '0' && c <= '9':
			t[c] = uint8(c - '0')
		case c >= 'a' && c <= 'f':
			t[c] = uint8(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			t[c] = uint8(c - 'A' + 10)
		default:
			t[c] = 255
		}
	}
	return t
}()
