package policy

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"slices"

	"github.com/yanzhen/yanzhen/handlers/policy/demo"
	"github.com/yanzhen/yanzhen/handlers/policy/index"
	"github.com/yanzhen/yanzhen/models"
)

// LoadDemo imports the demo corpus (package demo) when the knowledge base has no documents, and
// returns how many documents it imported.
func (s *Service) LoadDemo(ctx context.Context) (int, error) {
	var n int64
	if err := s.db.WithContext(ctx).Model(&models.PolicyDoc{}).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("policy: count documents: %w", err)
	}
	if n > 0 {
		return 0, nil
	}
	docs, err := DemoDocuments()
	if err != nil {
		return 0, err
	}
	names := make([]string, 0, len(docs))
	for name := range docs {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if _, err := s.Import(ctx, name, bytes.NewReader(docs[name])); err != nil {
			return 0, fmt.Errorf("policy: demo document %s: %w", name, err)
		}
	}
	return len(docs), nil
}

// DemoDocuments are the demo corpus's files by name.
func DemoDocuments() (map[string][]byte, error) {
	names, err := fs.Glob(demo.Files, "*.txt")
	if err != nil {
		return nil, err
	}
	out := make(map[string][]byte, len(names))
	for _, n := range names {
		b, err := demo.Files.ReadFile(n)
		if err != nil {
			return nil, err
		}
		out[n] = b
	}
	return out, nil
}

// DemoKB indexes the demo corpus without a database (for `yanzhen eval policy` on an empty one).
func DemoKB() (*KB, error) {
	files, err := DemoDocuments()
	if err != nil {
		return nil, err
	}
	return FilesKB(files)
}

// FilesKB indexes documents given as files (name → content), in name order.
func FilesKB(files map[string][]byte) (*KB, error) {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	var docs []*Document
	for _, n := range names {
		d, err := ParseDocument(n, files[n])
		if err != nil {
			return nil, err
		}
		docs = append(docs, d)
	}
	return KBFromDocuments(docs, nil, index.Params{}, DefaultThresholds()), nil
}
