package main

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/config"
	"github.com/yanzhen/yanzhen/handlers/policy"
)

// importPolicies: `yanzhen import policies PATH...` — .txt/.md/.docx files, or folders of them (read
// recursively, other files skipped). One line per document on stdout; a document that cannot be
// imported is reported on stderr (FILE: reason) and the others are still imported. Running servers
// pick the changes up at their next question (the index state is in the database).
func importPolicies(ctx context.Context, std stdio, cfg *config.Config, db *gorm.DB, log *slog.Logger, paths []string) error {
	files, err := policyFiles(paths)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("import policies: no .txt, .md or .docx files in %v", paths)
	}
	svc := policy.New(policy.Options{DB: db, Log: log, Now: time.Now})
	var imported, unchanged, failed int
	for _, path := range files {
		f, err := os.Open(path)
		if err != nil {
			fmt.Fprintf(std.err, "%s: %v\n", path, err)
			failed++
			continue
		}
		res, err := svc.Import(ctx, filepath.Base(path), f)
		f.Close()
		if err != nil {
			fmt.Fprintf(std.err, "%s: %s\n", path, policy.Reason(err))
			log.Debug("import policies", "file", path, "err", err)
			failed++
			continue
		}
		state := "imported"
		if res.Changed {
			imported++
		} else {
			state = "unchanged"
			unchanged++
		}
		fmt.Fprintf(std.out, "%s: %s, 《%s》, %d passages\n", path, state, res.Title, res.Passages)
	}
	fmt.Fprintf(std.out, "policies: %d imported, %d unchanged, %d with errors\n", imported, unchanged, failed)
	if failed > 0 {
		return fmt.Errorf("import policies: %d of %d files not imported", failed, len(files))
	}
	return nil
}

// policyFiles expands the command line's paths: files as given (whatever their extension, so that a
// wrong one is reported), folders to the documents in them, in name order.
func policyFiles(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("import policies: %w", err)
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		var found []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && policy.Supported(d.Name()) {
				found = append(found, path)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("import policies: %w", err)
		}
		slices.Sort(found)
		out = append(out, found...)
	}
	return out, nil
}
