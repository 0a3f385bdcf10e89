package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/config"
	"github.com/yanzhen/yanzhen/handlers/attendance"
	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/scope"
)

// importPlaces: `yanzhen import places FILE` (CONTRACT: header 组织,名称,纬度,经度,半径米, coordinates
// in GCJ-02 as WeChat reports them, radius optional, default 300). Rows with errors go to stderr as
// FILE:LINE: reason, the summary to stdout; the import is recorded in the audit log as "system".
func importPlaces(ctx context.Context, std stdio, cfg *config.Config, db *gorm.DB, log *slog.Logger, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	svc := attendance.New(attendance.Options{DB: db, Log: log, Location: cfg.Location})
	defer svc.Close()
	con, err := console.New(console.Options{DB: db, Log: log, Now: time.Now, Location: cfg.Location})
	if err != nil {
		return err
	}
	res, err := svc.ImportPlaces(ctx, scope.Everything(), f, path, func(ctx context.Context, tx *gorm.DB, ch console.Change) error {
		return con.Record(ctx, tx, nil, ch)
	})
	if err != nil {
		if reason, ok := attendance.FileReason(err); ok {
			return fmt.Errorf("%s: %s", path, reason)
		}
		return err
	}
	for _, e := range res.Errors {
		fmt.Fprintf(std.err, "%s:%d: %s\n", path, e.Line, e.Reason)
	}
	_, err = fmt.Fprintf(std.out, "places: %d created, %d updated, %d unchanged, %d rows with errors\n",
		res.Created, res.Updated, res.Unchanged, len(res.Errors))
	return err
}
