package meetings

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"path"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/models"
)

// Attachments (minutes and photos) live in the database: Yanzhen has no data directory, and meeting
// files are few and small.
const (
	MaxFileSize     = 5 << 20 // bytes
	MaxFilesPerMeet = 30
	maxNameRunes    = 100
)

// Allowed attachment types, by what the content is (never by the name alone).
const (
	typeJPEG = "image/jpeg"
	typePNG  = "image/png"
	typeWebP = "image/webp"
	typePDF  = "application/pdf"
	typeDOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
)

// sniff is the attachment type of data named name, or "" when it is not an allowed one: JPEG, PNG and
// WebP photos, PDF, and Word .docx (a ZIP whose name ends in .docx and that holds word/document.xml).
func sniff(name string, data []byte) string {
	switch ct := http.DetectContentType(data); ct {
	case typeJPEG, typePNG, typeWebP, typePDF:
		return ct
	case "application/zip":
		if strings.EqualFold(path.Ext(name), ".docx") && bytes.Contains(data[:min(len(data), 64<<10)], []byte("word/")) {
			return typeDOCX
		}
	}
	return ""
}

// FileRow is an attachment without its content.
type FileRow struct {
	ID          uint
	MeetingID   uint
	Kind        string
	Name        string
	ContentType string
	Size        int
	UploadedBy  string
	CreatedAt   time.Time
}

// IsPhoto reports whether the file is a photo (shown as a thumbnail).
func (f *FileRow) IsPhoto() bool { return f.Kind == models.MeetingFilePhoto }

// SizeText is the size as people read it.
func (f *FileRow) SizeText() string {
	if f.Size < 1<<20 {
		return fmt.Sprintf("%d KB", (f.Size+1023)/1024)
	}
	return fmt.Sprintf("%.1f MB", float64(f.Size)/(1<<20))
}

// Files lists a meeting's attachments (already scope-checked), oldest first.
func (s *Service) Files(ctx context.Context, meetingID uint) ([]FileRow, error) {
	var fs []FileRow
	err := s.db.WithContext(ctx).Model(&models.MeetingFile{}).
		Select("id", "meeting_id", "kind", "name", "content_type", "size", "uploaded_by", "created_at").
		Where("meeting_id = ?", meetingID).Order("id").Scan(&fs).Error
	if err != nil {
		return nil, fmt.Errorf("meetings: files of %d: %w", meetingID, err)
	}
	return fs, nil
}

// AddFile attaches a file to a meeting in the viewer's scope, after checking its size and type.
func (s *Service) AddFile(ctx context.Context, v *console.Viewer, meetingID uint, name string, data []byte) (*models.MeetingFile, error) {
	row, err := s.Get(ctx, v.Scope, meetingID)
	if err != nil {
		return nil, err
	}
	name = cleanName(name)
	switch {
	case len(data) == 0:
		return nil, console.Invalid("file", "请选择要上传的文件（文件是空的）")
	case len(data) > MaxFileSize:
		return nil, console.Invalid("file", "文件太大：最大 %d MB，请压缩后再传", MaxFileSize>>20)
	}
	ct := sniff(name, data)
	if ct == "" {
		return nil, console.Invalid("file", "只能上传照片（JPG、PNG、WebP）、PDF 或 Word（.docx）文件")
	}
	kind := models.MeetingFileDocument
	if strings.HasPrefix(ct, "image/") {
		kind = models.MeetingFilePhoto
	}
	f := &models.MeetingFile{MeetingID: meetingID, Kind: kind, Name: name, ContentType: ct, Size: len(data), Data: data, UploadedBy: v.Username}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&models.MeetingFile{}).Where("meeting_id = ?", meetingID).Count(&n).Error; err != nil {
			return fmt.Errorf("meetings: count files: %w", err)
		}
		if n >= MaxFilesPerMeet {
			return console.Invalid("file", "每次会议最多上传 %d 个附件", MaxFilesPerMeet)
		}
		if err := tx.Create(f).Error; err != nil {
			return fmt.Errorf("meetings: save file: %w", err)
		}
		return s.con.Record(ctx, tx, v, console.Change{Action: console.ActionCreate, Object: "meeting_file", ObjectID: f.ID,
			OrgPath: row.OrgPath, Summary: fmt.Sprintf("会议附件：%s %s（%s）上传 %s", row.Unit(), row.Type, s.when(row.StartAt), name),
			After: map[string]any{"meeting_id": meetingID, "name": name, "type": ct, "size": len(data)}})
	})
	if err != nil {
		return nil, err
	}
	return f, nil
}

// File is one attachment with its content, of a meeting in the viewer's scope.
func (s *Service) File(ctx context.Context, v *console.Viewer, meetingID, fileID uint) (*models.MeetingFile, error) {
	if _, err := s.Get(ctx, v.Scope, meetingID); err != nil {
		return nil, err
	}
	var f models.MeetingFile
	err := s.db.WithContext(ctx).Where("id = ? AND meeting_id = ?", fileID, meetingID).Take(&f).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("meetings: file %d: %w", fileID, err)
	}
	return &f, nil
}

// cleanName keeps the base name of an upload, without control characters, at most maxNameRunes.
func cleanName(name string) string {
	name = strings.ReplaceAll(name, "\\", "/")
	name = path.Base(name)
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '"' {
			return -1
		}
		return r
	}, name)
	if name == "." || name == "/" || name == "" {
		name = "附件"
	}
	if utf8.RuneCountInString(name) > maxNameRunes {
		ext := path.Ext(name)
		if utf8.RuneCountInString(ext) > 10 {
			ext = ""
		}
		r := []rune(strings.TrimSuffix(name, ext))
		name = string(r[:maxNameRunes-utf8.RuneCountInString(ext)]) + ext
	}
	return name
}
