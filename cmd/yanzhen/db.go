package main

import (
	"log/slog"

	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/config"
	"github.com/yanzhen/yanzhen/models"
)

// openDB opens and migrates the configured database (for commands that need no Redis).
func openDB(cfg *config.Config, log *slog.Logger) (*gorm.DB, error) {
	db, err := models.Open(cfg.DatabaseURL, log)
	if err != nil {
		return nil, err
	}
	if err := models.Migrate(db); err != nil {
		closeDB(db)
		return nil, err
	}
	return db, nil
}

func closeDB(db *gorm.DB) {
	if sqlDB, err := db.DB(); err == nil {
		sqlDB.Close()
	}
}
