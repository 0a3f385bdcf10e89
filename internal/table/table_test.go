package table

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
)

func TestReadCSVInTheEncodingsExcelWrites(t *testing.T) {
	body := "题型,题干\r\n单选,\"第一行\n第二行\"\r\n,,\r\n判断,对吗\r\n"
	want := []Record{
		{Line: 1, Fields: []string{"题型", "题干"}},
		{Line: 2, Fields: []string{"单选", "第一行\n第二行"}},
		{Line: 4, Fields: []string{"", "", ""}},
		{Line: 5, Fields: []string{"判断", "对吗"}},
	}
	utf16, _ := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().String(body)
	gbk, _ := simplifiedchinese.GBK.NewEncoder().String(body)
	for name, data := range map[string]string{
		"utf-8":     body,
		"utf-8 bom": "\ufeff" + body,
		"utf-16":    utf16,
		"gbk":       gbk,
		"tabs":      strings.ReplaceAll(body, ",", "\t"),
	} {
		got, err := Read(strings.NewReader(data), "f.csv")
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %+v\nwant %+v", name, got, want)
		}
	}
}

func TestReadXLSXFirstSheetWithRowNumbers(t *testing.T) {
	f := excelize.NewFile()
	sheet := f.GetSheetName(0)
	f.SetSheetRow(sheet, "A1", &[]any{"姓名", "手机号"})
	f.SetSheetRow(sheet, "A2", &[]any{"张三", int64(13800001001)})
	f.SetSheetRow(sheet, "A4", &[]any{"李四", 13800001004.0})
	f.NewSheet("其他")
	f.SetSheetRow("其他", "A1", &[]any{"不读"})
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	got, err := Read(&buf, "upload") // no extension: the content says XLSX
	if err != nil {
		t.Fatal(err)
	}
	want := []Record{
		{Line: 1, Fields: []string{"姓名", "手机号"}},
		{Line: 2, Fields: []string{"张三", "13800001001"}},
		{Line: 3, Fields: nil},
		{Line: 4, Fields: []string{"李四", "13800001004"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
}

func TestReadRefusesBadFiles(t *testing.T) {
	for name, c := range map[string]struct{ body, file, reason string }{
		"old xls":        {"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1rest", "f.xls", "旧版 .xls"},
		"text as xlsx":   {"a,b\n", "名单.xlsx", "名单.xlsx 不是有效的 xlsx 文件"},
		"broken zip":     {"PK\x03\x04garbage", "f.xlsx", "无法打开 xlsx"},
		"bad quotes":     {"a,b\nc,\"d\"x\"\n", "f.csv", ""},
		"too big":        {strings.Repeat("a", MaxSize+1), "f.csv", "文件太大"},
		"unclosed quote": {"a,b\n\"c,d\n", "f.csv", ""},
	} {
		_, err := Read(strings.NewReader(c.body), c.file)
		if c.reason == "" {
			// LazyQuotes accepts these; they must not be a crash nor a non-file error.
			if err != nil && !errors.Is(err, ErrBadFile) {
				t.Errorf("%s: %v", name, err)
			}
			continue
		}
		if !errors.Is(err, ErrBadFile) || !strings.Contains(Reason(err), c.reason) {
			t.Errorf("%s: err = %v, want ErrBadFile saying %q", name, err, c.reason)
		}
		if err != nil && strings.HasPrefix(Reason(err), "table:") {
			t.Errorf("%s: Reason kept the prefix: %q", name, Reason(err))
		}
	}
}

func TestBlankAndClean(t *testing.T) {
	if !Blank([]string{"", " ", "\u3000", "\ufeff"}) || Blank([]string{"", "x"}) || !Blank(nil) {
		t.Fatal("Blank")
	}
	if got := Clean("\ufeff\u3000 题型 \t"); got != "题型" {
		t.Fatalf("Clean = %q", got)
	}
}
