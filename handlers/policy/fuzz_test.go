package policy

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// FuzzParseDocument feeds ParseDocument any file under each supported extension (and an unsupported
// one): no panic; a refusal is ErrBadDoc with a reason for people; a document read has a title, a
// SHA-256 hash and at least one passage, all in valid UTF-8 without NUL (PostgreSQL stores none), and
// no passage is empty.
func FuzzParseDocument(f *testing.F) {
	gbk, _ := simplifiedchinese.GB18030.NewEncoder().String("关于村干部培训的通知\n各乡镇：村书记每年培训要达到56学时，不合格的要回炉补课。\n")
	for _, seed := range []struct {
		ext  uint8
		text string
	}{
		{0, "群雁奋飞头雁领 黄陂区大力培育\"红色头雁\"\n\n2017-11-28 09:41 来源: 黄陂区\n分享到: 0\n调整字体\n  一、“精准化”培训,提升治村能力\n  突出街乡直接抓,一个都不少,经常性开展村书记集中培训,确保村书记每年培训达到56学时。\n"},
		{0, "優中選優!洪雅縣給村里配上了「黨建專干」\n不少地方村(社區)“兩委”幹部年齡偏大,\n基層黨組織難免“力不從心”。\n"},
		{1, "# 党建专干管理办法\n\n发布日期：2024年3月1日\n来源：县委组织部\n\n## 第一章 总则\n\n- **第一条** 党建专干每年培训不少于56学时，由乡镇党委统一组织，[详见附件](http://x/y)。\n"},
		{0, "内容摘要:\n关键词:基层党组织;基层治理\n在职党员积分管理\n探索推行在职党员“十二分制”管理制度,6分以下提醒谈话,扣满12分确定为不合格党员。\n"},
		{0, gbk},
		{0, "标题：长段落\n" + strings.Repeat("这是一个很长的句子，没有句号", 40) + "\n短尾。\n"},
		{2, "PK\x03\x04garbage"},
		{0, ""}, {0, "\ufeff\n\n"}, {0, "a\x00b"}, {3, "x"}, {1, "#\n##\n- \n[]()\n"},
	} {
		f.Add(seed.ext, []byte(seed.text))
	}
	exts := []string{".txt", ".md", ".docx", ".pdf"}
	f.Fuzz(func(t *testing.T, ext uint8, data []byte) {
		name := "文件" + exts[int(ext)%len(exts)]
		d, err := ParseDocument(name, data)
		if err != nil {
			if !errors.Is(err, ErrBadDoc) {
				t.Fatalf("%s: not a document refusal: %v", name, err)
			}
			if r := Reason(err); r == "" || !utf8.ValidString(r) {
				t.Fatalf("%s: reason %q", name, r)
			}
			return
		}
		if len(d.Passages) == 0 {
			t.Fatalf("%s: no passages and no error", name)
		}
		if b, err := hex.DecodeString(d.Hash); err != nil || len(b) != 32 {
			t.Fatalf("%s: hash %q", name, d.Hash)
		}
		for _, s := range append([]string{d.Name, d.Title, d.Source, d.Date}, d.Passages...) {
			if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
				t.Fatalf("%s: text %q cannot be stored", name, s)
			}
		}
		for i, p := range d.Passages {
			if strings.TrimSpace(p) == "" {
				t.Fatalf("%s: passage %d is empty", name, i)
			}
		}
	})
}
