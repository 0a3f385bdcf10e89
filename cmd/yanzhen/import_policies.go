package main

import (
	"context"
	"fmt"
	"log/slog"

	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/config"
)

// importPolicies: `yanzhen import policies` (.txt/.md files or folders of them).
func importPolicies(ctx context.Context, std stdio, cfg *config.Config, db *gorm.DB, log *slog.Logger, paths []string) error {
	return fmt.Errorf("import policies: not available yet in this version")
}
