package main

import (
	"context"
	"fmt"
	"log/slog"

	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/config"
)

// importPlaces: `yanzhen import places` (CONTRACT: header 组织,名称,纬度,经度,半径米; rows with errors (FILE:LINE: reason) to stderr, summary to stdout).
func importPlaces(ctx context.Context, std stdio, cfg *config.Config, db *gorm.DB, log *slog.Logger, path string) error {
	return fmt.Errorf("import places: not available yet in this version")
}
