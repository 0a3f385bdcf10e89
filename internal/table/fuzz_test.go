package table

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
)

// FuzzRead feeds Read arbitrary uploads, as CSV and as XLSX names: it must never panic, refuse a whole
// file only with ErrBadFile (a reason people can read, not a Go error), and return rows whose line
// numbers go up, so that every import's row errors point at the right line.
func FuzzRead(f *testing.F) {
	body := "题型,题干\r\n单选,\"第一行\n第二行\"\r\n,,\r\n判断,对吗\r\n"
	utf16, _ := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().String(body)
	gbk, _ := simplifiedchinese.GBK.NewEncoder().String(body)
	for _, seed := range []string{
		body, "\ufeff" + body, utf16, gbk, strings.ReplaceAll(body, ",", "\t"),
		"姓名,手机号,角色,组织\n张三,13800001001,书记,洪雅县/花溪镇/郭沟村\n",
		"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1rest", "PK\x03\x04garbage", "a,b\nc,\"d\"x\"\n", "a,b\n\"c,d\n",
		"", "\n\n", "\xFF\xFE", "\xFE\xFF\x00a", "\x81\x30", "a\tb,c\n", "\"\"\"\n\r\r\n",
	} {
		f.Add([]byte(seed), false)
	}
	x := excelize.NewFile()
	sheet := x.GetSheetName(0)
	x.SetSheetRow(sheet, "A1", &[]any{"姓名", "手机号"})
	x.SetSheetRow(sheet, "A2", &[]any{"张三", int64(13800001001)})
	x.SetSheetRow(sheet, "A4", &[]any{"李四", 13800001004.0})
	var buf bytes.Buffer
	if err := x.Write(&buf); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes(), true)
	f.Add(buf.Bytes()[:buf.Len()/2], true)

	f.Fuzz(func(t *testing.T, data []byte, xlsx bool) {
		name := "f.csv"
		if xlsx {
			name = "名单.xlsx"
		}
		recs, err := Read(bytes.NewReader(data), name)
		if err != nil {
			if !errors.Is(err, ErrBadFile) {
				t.Fatalf("%q: not a file-level refusal: %v", data, err)
			}
			if r := Reason(err); r == "" || strings.HasPrefix(r, "table:") || !utf8.ValidString(r) {
				t.Fatalf("%q: reason %q", data, r)
			}
			return
		}
		prev := 0
		for _, r := range recs {
			if r.Line <= prev {
				t.Fatalf("%q: line %d after line %d", data, r.Line, prev)
			}
			prev = r.Line
			for _, c := range r.Fields {
				if !utf8.ValidString(c) && !xlsx && !bytes.HasPrefix(data, []byte("PK\x03\x04")) {
					t.Fatalf("%q: cell %q of line %d is not UTF-8", data, c, r.Line)
				}
			}
		}
	})
}
