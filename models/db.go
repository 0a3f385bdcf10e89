package models

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/mysql"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/yanzhen/yanzhen/config"
)

// Open connects to the database named by url (sqlite://PATH, postgres://…, mysql://…) with GORM
// logging through log.
func Open(url string, log *slog.Logger) (*gorm.DB, error) {
	dialect, err := config.DatabaseDialect(url)
	if err != nil {
		return nil, err
	}
	var dial gorm.Dialector
	switch dialect {
	case "sqlite":
		path := url[strings.Index(url, "://")+3:]
		if dir := filepath.Dir(path); dir != "." && dir != "" && !strings.HasPrefix(path, "file:") {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, fmt.Errorf("database: create %s: %w", dir, err)
			}
		}
		// WAL and a busy timeout let readers and the single writer overlap without "database is locked".
		// Transactions begin IMMEDIATE: one that reads, then writes, waits for the writer at its start;
		// deferred, it would fail at its write once another connection had written since its read.
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		dial = sqlite.Open(path + sep + "_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate")
	case "postgres":
		dial = postgres.Open(url)
	case "mysql":
		dial = mysql.Open(mysqlDSN(url))
	}
	db, err := gorm.Open(dial, &gorm.Config{
		Logger:                                   newGormLogger(log),
		DisableForeignKeyConstraintWhenMigrating: false,
		TranslateError:                           true,
	})
	if err != nil {
		return nil, fmt.Errorf("database: open %s: %w", dialect, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	switch dialect {
	case "sqlite":
		sqlDB.SetMaxOpenConns(4)
	default:
		sqlDB.SetMaxOpenConns(32)
		sqlDB.SetMaxIdleConns(32)
		sqlDB.SetConnMaxLifetime(30 * time.Minute)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(ctx); err != nil {
		return nil, fmt.Errorf("database: connect %s: %w", dialect, err)
	}
	return db, nil
}

// Dialect names the database behind db: "sqlite", "postgres" or "mysql".
func Dialect(db *gorm.DB) string { return db.Dialector.Name() }

// mysqlDSN turns mysql://user:pass@host:port/db?params into the driver's user:pass@tcp(host:port)/db form.
func mysqlDSN(url string) string {
	rest := strings.TrimPrefix(url, "mysql://")
	creds, hostPart := "", rest
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		creds, hostPart = rest[:at+1], rest[at+1:]
	}
	host, tail := hostPart, ""
	if i := strings.IndexAny(hostPart, "/?"); i >= 0 {
		host, tail = hostPart[:i], hostPart[i:]
	}
	dsn := creds + "tcp(" + host + ")" + tail
	if !strings.Contains(dsn, "parseTime") {
		if strings.Contains(dsn, "?") {
			dsn += "&parseTime=true&charset=utf8mb4&loc=UTC"
		} else {
			dsn += "?parseTime=true&charset=utf8mb4&loc=UTC"
		}
	}
	return dsn
}

// gormLogger sends GORM's messages to slog: errors and slow queries only (SQL can carry personal data,
// so statements are logged at debug level).
type gormLogger struct{ log *slog.Logger }

func newGormLogger(log *slog.Logger) logger.Interface { return gormLogger{log: log} }

func (l gormLogger) LogMode(logger.LogLevel) logger.Interface { return l }
func (l gormLogger) Info(ctx context.Context, msg string, args ...any) {
	l.log.InfoContext(ctx, fmt.Sprintf(msg, args...))
}
func (l gormLogger) Warn(ctx context.Context, msg string, args ...any) {
	l.log.WarnContext(ctx, fmt.Sprintf(msg, args...))
}
func (l gormLogger) Error(ctx context.Context, msg string, args ...any) {
	l.log.ErrorContext(ctx, fmt.Sprintf(msg, args...))
}
func (l gormLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	elapsed := time.Since(begin)
	switch {
	case err != nil && err != gorm.ErrRecordNotFound:
		sql, _ := fc()
		l.log.DebugContext(ctx, "sql error", "sql", sql, "err", err)
	case elapsed > 500*time.Millisecond:
		sql, _ := fc()
		l.log.WarnContext(ctx, "slow sql", "elapsed", elapsed, "sql", truncate(sql, 200))
	case l.log.Enabled(ctx, slog.LevelDebug-4):
		sql, rows := fc()
		l.log.Log(ctx, slog.LevelDebug-4, "sql", "sql", sql, "rows", rows, "elapsed", elapsed)
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
