package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"path"
	"strings"

	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/models"
)

// MaxDocSize is the largest policy document the console takes (a long policy text is a few hundred
// KB; 2 MB leaves room, and a browser upload of that size is quick on a town office's line).
const MaxDocSize = 2 << 20

// listDocs is one page of the documents, the last updated first.
func (h *Web) listDocs(ctx context.Context, offset, limit int) ([]models.PolicyDoc, int64, error) {
	db := h.db.WithContext(ctx).Model(&models.PolicyDoc{})
	var total int64
	if err := db.Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("policy: count documents: %w", err)
	}
	var out []models.PolicyDoc
	q := h.db.WithContext(ctx).Order("updated_at DESC, id DESC")
	if limit > 0 {
		q = q.Offset(offset).Limit(limit)
	}
	if err := q.Find(&out).Error; err != nil {
		return nil, 0, fmt.Errorf("policy: list documents: %w", err)
	}
	return out, total, nil
}

// doc is one document.
func (h *Web) doc(ctx context.Context, id uint) (*models.PolicyDoc, error) {
	var d models.PolicyDoc
	err := h.db.WithContext(ctx).Take(&d, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("policy: document %d: %w", id, err)
	}
	return &d, nil
}

// passages are a page of a document's passages, in order.
func (h *Web) passages(ctx context.Context, docID uint, offset, limit int) ([]models.PolicyPassage, int64, error) {
	var total int64
	if err := h.db.WithContext(ctx).Model(&models.PolicyPassage{}).Where("doc_id = ?", docID).Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("policy: count passages of %d: %w", docID, err)
	}
	var out []models.PolicyPassage
	if err := h.db.WithContext(ctx).Where("doc_id = ?", docID).Order("seq, id").Offset(offset).Limit(limit).
		Find(&out).Error; err != nil {
		return nil, 0, fmt.Errorf("policy: passages of %d: %w", docID, err)
	}
	return out, total, nil
}

// docName is the uploaded file's own name: browsers on Windows may send a whole path.
func docName(filename string) string {
	filename = strings.ReplaceAll(filename, `\`, "/")
	return strings.TrimSpace(path.Base(filename))
}

// readDoc reads an uploaded document of at most MaxDocSize. What is in it (the file type, the text
// encoding, whether there is any text) is the importer's to judge: it says so in an InputError.
func readDoc(fh *multipart.FileHeader) (name string, data []byte, err error) {
	name = docName(fh.Filename)
	switch {
	case name == "" || name == "." || name == "/":
		return "", nil, console.Invalid("file", "请选择要上传的文件")
	case runes(name) > 200:
		return name, nil, console.Invalid("file", "文件名太长（最多 200 个字），请改短后再上传")
	case fh.Size > MaxDocSize:
		return name, nil, console.Invalid("file", "文件太大（%.1f MB），最大 2 MB。可以把文件拆成几份分别上传", float64(fh.Size)/(1<<20))
	}
	f, err := fh.Open()
	if err != nil {
		return name, nil, fmt.Errorf("policy: open upload: %w", err)
	}
	defer f.Close()
	data, err = io.ReadAll(io.LimitReader(f, MaxDocSize+1))
	if err != nil {
		return name, nil, fmt.Errorf("policy: read upload: %w", err)
	}
	if len(data) > MaxDocSize {
		return name, nil, console.Invalid("file", "文件太大，最大 2 MB。可以把文件拆成几份分别上传")
	}
	return name, data, nil
}

// ImportDoc imports an uploaded document into the knowledge base (administrators; audited when it
// changed anything).
func (h *Web) ImportDoc(ctx context.Context, v *console.Viewer, fh *multipart.FileHeader) (*Imported, error) {
	if !v.IsAdmin() {
		return nil, console.ErrNotAllowed
	}
	if h.o.Import == nil {
		return nil, ErrNotEnabled
	}
	name, data, err := readDoc(fh)
	if err != nil {
		return nil, err
	}
	res, err := h.o.Import(ctx, name, bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	if res.Changed {
		if err := h.con.Record(ctx, nil, v, console.Change{Action: console.ActionImport, Object: ObjectDoc, ObjectID: res.DocID,
			OrgPath: v.Scope.Path, Summary: fmt.Sprintf("导入政策文件《%s》（%s），%d 段", clip(res.Title, 60), clip(name, 60), res.Passages),
			After: map[string]any{"name": name, "title": res.Title, "passages": res.Passages}}); err != nil {
			return nil, err
		}
	}
	return &res, nil
}
