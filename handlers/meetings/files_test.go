package meetings_test

import (
	"archive/zip"
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/yanzhen/yanzhen/internal/consoletest"
	"github.com/yanzhen/yanzhen/models"
)

// Small files of each kind, as a phone or an office would make them.
var (
	pngFile = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\nIDATx\x9cc\x00\x01\x00\x00\x05\x00\x01\r\n-\xb4\x00\x00\x00\x00IEND\xaeB`\x82")
	pdfFile = []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
)

func docxFile(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range []string{"[Content_Types].xml", "word/document.xml"} {
		w, _ := zw.Create(name)
		w.Write([]byte("<xml>会议记录</xml>"))
	}
	zw.Close()
	return buf.Bytes()
}

// TestAttachments: minutes and photos up to 5 MB of the allowed kinds are kept and served back; other
// files are refused with a clear message and nothing is kept.
func TestAttachments(t *testing.T) {
	e := consoletest.New(t)
	m := createMeeting(t, e, consoletest.Secretary, committee(e))
	c := e.Login(consoletest.Secretary)
	path := fmt.Sprintf("/console/meetings/%d", m.ID)
	c.Get(path)

	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"会场.png", pngFile},
		{"会议记录.pdf", pdfFile},
		{"会议记录.docx", docxFile(t)},
	} {
		res, body := c.PostFile(path+"/files", nil, "file", tc.name, tc.data)
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("upload %s: %d\n%.300s", tc.name, res.StatusCode, body)
		}
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"病毒.exe", []byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff"), "只能上传照片"},
		{"假的.jpg", []byte("这其实是一段文字"), "只能上传照片"},
		{"压缩包.docx", func() []byte { // a ZIP named .docx that is no Word file
			var buf bytes.Buffer
			zw := zip.NewWriter(&buf)
			w, _ := zw.Create("a.txt")
			w.Write([]byte("x"))
			zw.Close()
			return buf.Bytes()
		}(), "只能上传照片"},
		{"空.pdf", nil, "请选择要上传的文件"},
		{"大.pdf", append(append([]byte{}, pdfFile...), bytes.Repeat([]byte("0"), 5<<20)...), "文件太大：最大 5 MB"},
	} {
		res, body := c.PostFile(path+"/files", nil, "file", tc.name, tc.data)
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, tc.want) {
			t.Errorf("upload %s: %d, want 400 with %q\n%.300s", tc.name, res.StatusCode, tc.want, body)
		}
	}
	var files []models.MeetingFile
	e.App.DB().Where("meeting_id = ?", m.ID).Order("id").Find(&files)
	if len(files) != 3 || files[0].Kind != models.MeetingFilePhoto || files[1].Kind != models.MeetingFileDocument {
		t.Fatalf("kept files: %d", len(files))
	}

	_, page := c.Get(path)
	for _, s := range []string{"会场.png", "会议记录.pdf", "会议记录.docx", "<img"} {
		if !strings.Contains(page, s) {
			t.Errorf("the page lacks %q", s)
		}
	}
	res, body := c.Get(fmt.Sprintf("%s/files/%d", path, files[0].ID))
	if res.StatusCode != http.StatusOK || body != string(pngFile) || res.Header.Get("Content-Type") != "image/png" ||
		!strings.HasPrefix(res.Header.Get("Content-Disposition"), "inline") {
		t.Errorf("photo download: %d %s %s", res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Content-Disposition"))
	}
	res, _ = c.Get(fmt.Sprintf("%s/files/%d", path, files[2].ID))
	if !strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment") {
		t.Errorf("a document is not downloaded as an attachment: %s", res.Header.Get("Content-Disposition"))
	}
	// A file id of another meeting is not found through this one.
	other := createMeeting(t, e, consoletest.Secretary, committee(e))
	if res, _ := c.Get(fmt.Sprintf("/console/meetings/%d/files/%d", other.ID, files[0].ID)); res.StatusCode != http.StatusNotFound {
		t.Errorf("a file through another meeting: %d, want 404", res.StatusCode)
	}
}
