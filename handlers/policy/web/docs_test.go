package web_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/yanzhen/yanzhen/handlers/policy/web"
	"github.com/yanzhen/yanzhen/internal/consoletest"
	"github.com/yanzhen/yanzhen/models"
)

const docText = `关于做好2026年农村低保工作的通知
发文单位：洪雅县民政局
日期：2026年3月1日

一、申请条件。家庭成员人均收入低于当地低保标准，且家庭财产状况符合规定的农村居民，可以申请农村最低生活保障。

二、申请程序。申请人向户籍所在地的镇人民政府提出书面申请，也可以委托村民委员会代为提出申请，镇人民政府应当自受理之日起及时入户调查。
`

// TestDocumentUpload: an administrator uploads a text file; the document's page lists its passages;
// the bot quotes it in the chat; the same file again changes nothing; bad files get a clear reason
// and import nothing; a secretary reads but may not upload.
func TestDocumentUpload(t *testing.T) {
	e := consoletest.New(t)
	bind(t, e, "o-wang", "王德明")
	var before int64
	e.App.DB().Model(&models.PolicyDoc{}).Count(&before)
	c := e.Login(consoletest.County)
	body := get(t, c, "/console/policy/docs", http.StatusOK)
	contains(t, "the documents page", body, `enctype="multipart/form-data"`, "最大 2 MB")

	res, body := c.PostFile("/console/policy/docs", nil, "file", `C:\fakepath\低保通知.txt`, []byte(docText))
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("upload: %d\n%.2000s", res.StatusCode, body)
	}
	var d models.PolicyDoc
	if err := e.App.DB().Where("name = ?", "低保通知.txt").Take(&d).Error; err != nil {
		t.Fatal(err)
	}
	if loc := res.Header.Get("Location"); loc != fmt.Sprintf("/console/policy/docs/%d", d.ID) || d.Passages < 2 {
		t.Fatalf("went to %s; doc %+v", loc, d)
	}
	page := get(t, c, res.Header.Get("Location"), http.StatusOK)
	contains(t, "the document page", page, "已导入《关于做好2026年农村低保工作的通知》", "洪雅县民政局", "一、申请条件", "二、申请程序")
	if i, j := strings.Index(page, "一、申请条件"), strings.Index(page, "二、申请程序"); i > j {
		t.Fatal("passages out of order")
	}
	body = get(t, c, "/console/policy/docs", http.StatusOK)
	contains(t, "the list", body, "关于做好2026年农村低保工作的通知", "洪雅县民政局", "2026年3月1日")
	if es := audits(t, e, web.ObjectDoc); len(es) != 1 || es[0].Action != "import" || es[0].Username != consoletest.County {
		t.Fatalf("audit %+v", es)
	}
	if got := e.Send(e.OA().Text("o-wang", "问 农村低保找谁申请")); !strings.Contains(got, "《关于做好2026年农村低保工作的通知》") {
		t.Fatalf("the bot does not quote the new document: %q", got)
	}

	// The same file again (saved by Notepad as GB18030 this time): nothing changes.
	gb, _ := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(docText))
	res, _ = c.PostFile("/console/policy/docs", nil, "file", "低保通知.txt", gb)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("re-upload: %d", res.StatusCode)
	}
	contains(t, "the re-upload", get(t, c, res.Header.Get("Location"), http.StatusOK), "之前导入过，内容没有变化")
	if n := len(audits(t, e, web.ObjectDoc)); n != 1 {
		t.Fatalf("%d audit entries after an unchanged re-upload", n)
	}

	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"扫描件.pdf", []byte("%PDF-1.4"), "不是支持的文件类型"},
		{"空白.txt", []byte(" \n\n "), "是空的"},
		{"改了扩展名.txt", []byte("PK\x03\x04\x00\x00binary"), "不是纯文本文件"},
		{"太大.txt", bytes.Repeat([]byte("政策"), web.MaxDocSize/6+1), "文件太大"},
		{"坏的.docx", []byte("not a zip"), "不是有效的 Word"},
	} {
		res, body := c.PostFile("/console/policy/docs", nil, "file", tc.name, tc.data)
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, tc.want) {
			t.Errorf("%s: %d, want 400 with %q\n%.1500s", tc.name, res.StatusCode, tc.want, body)
		}
	}
	res, body = c.PostFile("/console/policy/docs", nil, "other", "x.txt", []byte("x"))
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "请选择要上传的文件") {
		t.Errorf("no file: %d", res.StatusCode)
	}
	var after int64
	e.App.DB().Model(&models.PolicyDoc{}).Count(&after)
	if after != before+1 {
		t.Fatalf("%d documents, want %d", after, before+1)
	}

	s := e.Login(consoletest.Secretary)
	body = get(t, s, "/console/policy/docs", http.StatusOK)
	contains(t, "the secretary's list", body, "关于做好2026年农村低保工作的通知")
	lacks(t, "the secretary's list", body, `enctype="multipart/form-data"`)
	get(t, s, fmt.Sprintf("/console/policy/docs/%d", d.ID), http.StatusOK)
	if res, _ := s.PostFile("/console/policy/docs", nil, "file", "书记的.txt", []byte(docText)); res.StatusCode != http.StatusForbidden {
		t.Fatalf("secretary upload: %d", res.StatusCode)
	}
	get(t, c, "/console/policy/docs/99999", http.StatusNotFound)
}
