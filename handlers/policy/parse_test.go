package policy

import (
	"archive/zip"
	"bytes"
	"errors"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
)

func TestParseDocument(t *testing.T) {
	gbk, _ := simplifiedchinese.GB18030.NewEncoder().String("关于村干部培训的通知\n各乡镇：村书记每年培训要达到56学时，不合格的要回炉补课。\n")
	for _, c := range []struct {
		name, text          string
		title, date, source string
		passages            []string // each must appear in some passage, in order
		notIn               []string // must appear in no passage
	}{{
		name: "a.txt",
		text: "群雁奋飞头雁领 黄陂区大力培育\"红色头雁\"\n\n2017-11-28 09:41 来源: 黄陂区\n分享到: 0\n调整字体\n" +
			"  一、“精准化”培训,提升治村能力\n  突出街乡直接抓,一个都不少,经常性开展村书记集中培训,确保村书记每年培训达到56学时。同时充分利用业余党校平台。\n",
		title: "群雁奋飞头雁领 黄陂区大力培育\"红色头雁\"", date: "2017-11-28", source: "黄陂区",
		passages: []string{"一、“精准化”培训,提升治村能力\n突出街乡直接抓"},
		notIn:    []string{"分享到", "调整字体", "来源"},
	}, {
		// lines cut in the middle of a sentence are joined; the headline repeated in the body goes
		name:     "b.txt",
		text:     "優中選優!洪雅縣給村里配上了「黨建專干」\n不少地方村(社區)“兩委”幹部年齡偏大,\n基層黨組織難免“力不從心”。這不,今年初,洪雅縣為全縣159個村(社區)分別配備1名“黨建專幹”。\n優中選優!洪雅縣給村裡配上了“黨建專幹”\n據瞭解,洪雅縣最終從417名備選人中,擇優選拔了159名“黨建專幹”作為支部書記的助手。\n",
		title:    "優中選優!洪雅縣給村里配上了「黨建專干」",
		passages: []string{"不少地方村(社區)“兩委”幹部年齡偏大,基層黨組織難免", "據瞭解,洪雅縣最終從417名備選人中"},
		notIn:    []string{"配上了"},
	}, {
		// Markdown: the heading is the title, markup goes, labels give date and source
		name:  "c.md",
		text:  "# 党建专干管理办法\n\n发布日期：2024年3月1日\n来源：县委组织部\n\n## 第一章 总则\n\n- **第一条** 党建专干每年培训不少于56学时，由乡镇党委统一组织，[详见附件](http://x/y)。\n",
		title: "党建专干管理办法", date: "2024年3月1日", source: "县委组织部",
		passages: []string{"第一章 总则\n第一条 党建专干每年培训不少于56学时，由乡镇党委统一组织，详见附件。"},
		notIn:    []string{"**", "http", "#"},
	}, {
		// a label line with nothing after it is no title; the next short line is
		name:     "d.txt",
		text:     "内容摘要:\n关键词:基层党组织;基层治理\n在职党员积分管理\n探索推行在职党员“十二分制”管理制度,6分以下提醒谈话,扣满12分确定为不合格党员。\n",
		title:    "在职党员积分管理",
		passages: []string{"探索推行在职党员“十二分制”管理制度"},
		notIn:    []string{"内容摘要", "关键词"},
	}, {
		// Windows Notepad's "ANSI" (GB18030)
		name: "e.txt", text: gbk, title: "关于村干部培训的通知",
		passages: []string{"各乡镇：村书记每年培训要达到56学时"},
	}, {
		name: "f.docx", text: string(docx(t, "村级组织换届工作方案", "", "这一轮村社换届涉及13个镇街，共190个村社，全面实行“一肩挑”。")),
		title: "村级组织换届工作方案", passages: []string{"共190个村社"},
	}} {
		d, err := ParseDocument(c.name, []byte(c.text))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if d.Title != c.title || d.Date != c.date || d.Source != c.source {
			t.Errorf("%s: title %q date %q source %q, want %q %q %q", c.name, d.Title, d.Date, d.Source, c.title, c.date, c.source)
		}
		all := strings.Join(d.Passages, "\x00")
		at := 0
		for _, p := range c.passages {
			i := strings.Index(all[at:], p)
			if i < 0 {
				t.Errorf("%s: no passage holds %q; passages: %q", c.name, p, d.Passages)
				break
			}
			at += i + len(p)
		}
		for _, s := range c.notIn {
			if strings.Contains(all, s) {
				t.Errorf("%s: passages hold %q: %q", c.name, s, d.Passages)
			}
		}
		if len(d.Hash) != 64 {
			t.Errorf("%s: hash %q", c.name, d.Hash)
		}
	}
}

func TestParseDocumentSplitsLongParagraphs(t *testing.T) {
	long := strings.Repeat("全面推进“双向服务、全域融合”的社区“大党委”共治模式,组织97个机关企事业单位召开联席会议18次。", 20)
	d, err := ParseDocument("long.txt", []byte("标题：长段落\n"+long+"\n短尾。\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Passages) < 5 {
		t.Fatalf("%d passages", len(d.Passages))
	}
	for _, p := range d.Passages {
		if n := len([]rune(p)); n > maxPassage+minParagraph {
			t.Errorf("passage of %d characters", n)
		}
		if !strings.HasSuffix(p, "。") {
			t.Errorf("passage not cut after a sentence: %q", p)
		}
	}
}

// Unchanged text has the same hash however it is written (Traditional, full-width, line endings).
func TestParseDocumentHash(t *testing.T) {
	a, _ := ParseDocument("x.txt", []byte("标题：通知\n黨建專幹每年培訓５６學時。\n"))
	b, _ := ParseDocument("x.txt", []byte("标题：通知\r\n党建专干每年培训56学时。\r\n"))
	c, _ := ParseDocument("x.txt", []byte("标题：通知\n党建专干每年培训60学时。\n"))
	if a.Hash != b.Hash || a.Hash == c.Hash {
		t.Fatalf("hashes %s %s %s", a.Hash, b.Hash, c.Hash)
	}
}

func TestParseDocumentRefuses(t *testing.T) {
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"a.pdf", []byte("%PDF-1.4"), "不是支持的文件类型"},
		{"a.txt", []byte("  \n\n "), "是空的"},
		{"a.txt", []byte("分享到\n调整字体\n"), "没有成段的文字"},
		{"a.txt", []byte("abc\x00\x01def"), "不是纯文本文件"},
		{"a.txt", []byte{0xff, 0xfe, 0xfd, 0x80, 0x81}, "文字编码"},
		{"a.docx", []byte("PK not really"), "不是有效的 Word"},
		{"a.txt", bytes.Repeat([]byte("党"), MaxDocBytes), "太大"},
	} {
		_, err := ParseDocument(c.name, c.data)
		if !errors.Is(err, ErrBadDoc) || !strings.Contains(Reason(err), c.want) {
			t.Errorf("%s: %v, want a bad document: %s", c.name, err, c.want)
		}
	}
}

// docx makes a minimal Word document with one paragraph per argument.
func docx(t *testing.T, paras ...string) []byte {
	t.Helper()
	var body strings.Builder
	for _, p := range paras {
		body.WriteString(`<w:p><w:r><w:t>` + p + `</w:t></w:r></w:p>`)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("word/document.xml")
	w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>` +
		body.String() + `</w:body></w:document>`))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
