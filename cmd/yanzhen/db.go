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

// loadDB loads the configuration and opens (and migrates) its database; the caller closes it with
// closeDB.
func (c *commonFlags) loadDB(std stdio) (*config.Config, *slog.Logger, *gorm.DB, error) {
	cfg, log, err := c.load(std)
	if err != nil {
		return nil, nil, nil, err
	}
	db, err := openDB(cfg, log)
	if err != nil {
		return nil, nil, nil, err
	}
	return cfg, log, db, nil
}

func closeDB(db *gorm.DB) {
	if sqlDB, err := db.DB(); err == nil {
		sqlDB.Close()
	}
}
