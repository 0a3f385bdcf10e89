// Package testenv gives tests a real database and Redis: PostgreSQL and Redis when
// YANZHEN_TEST_DATABASE_URL / YANZHEN_TEST_REDIS_URL are set (CI sets them), otherwise a temporary
// SQLite file and an embedded Redis. Each test gets its own schema / Redis database, dropped after it.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/kv"
	"github.com/yanzhen/yanzhen/models"
)

// Logger discards logs unless YANZHEN_TEST_LOG=1.
func Logger() *slog.Logger {
	if os.Getenv("YANZHEN_TEST_LOG") == "1" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// DatabaseURL returns a database URL for one test, and arranges its cleanup: a fresh PostgreSQL schema
// when YANZHEN_TEST_DATABASE_URL is a postgres URL, else a SQLite file in t.TempDir().
func DatabaseURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("YANZHEN_TEST_DATABASE_URL")
	if base == "" || !strings.HasPrefix(base, "postgres") {
		return "sqlite://" + filepath.Join(t.TempDir(), "test.db")
	}
	schema := "t_" + randomHex(6)
	admin, err := models.Open(base, Logger())
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	if err := admin.Exec("CREATE SCHEMA " + schema).Error; err != nil {
		t.Fatalf("testenv: create schema: %v", err)
	}
	t.Cleanup(func() {
		admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		if sqlDB, err := admin.DB(); err == nil {
			sqlDB.Close()
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// DB opens and migrates a database for one test.
func DB(t testing.TB) *gorm.DB {
	t.Helper()
	db, err := models.Open(DatabaseURL(t), Logger())
	if err != nil {
		t.Fatalf("testenv: open db: %v", err)
	}
	if err := models.Migrate(db); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() {
		if sqlDB, err := db.DB(); err == nil {
			sqlDB.Close()
		}
	})
	return db
}

// RedisURL returns a Redis URL for one test ("" = embedded): when YANZHEN_TEST_REDIS_URL is set, a
// real Redis database from 1–15, leased to this test alone until it ends (packages run in parallel, so
// a database is never handed to two tests at once) and flushed. Tests using a real Redis must not run
// in parallel within a package.
func RedisURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("YANZHEN_TEST_REDIS_URL")
	if base == "" {
		return ""
	}
	opts, err := redis.ParseURL(base)
	if err != nil {
		t.Fatalf("testenv: YANZHEN_TEST_REDIS_URL: %v", err)
	}
	opts.DB = 0
	c := redis.NewClient(opts)
	defer c.Close()
	ctx := context.Background()
	start, err := c.Incr(ctx, "yz:test:dbseq").Result()
	if err != nil {
		t.Fatalf("testenv: redis: %v", err)
	}
	owner := randomHex(8)
	deadline := time.Now().Add(2 * time.Minute)
	db := 0
	for db == 0 {
		for i := int64(0); i < 15; i++ {
			n := 1 + int((start+i)%15)
			ok, err := c.SetNX(ctx, "yz:test:lease:"+itoa(n), owner, 10*time.Minute).Result()
			if err != nil {
				t.Fatalf("testenv: redis lease: %v", err)
			}
			if ok {
				db = n
				break
			}
		}
		if db == 0 {
			if time.Now().After(deadline) {
				t.Fatal("testenv: every test Redis database 1-15 stayed leased for 2 minutes")
			}
			time.Sleep(50 * time.Millisecond) // waiting for another package's test to end
		}
	}
	lease := "yz:test:lease:" + itoa(db)
	t.Cleanup(func() {
		c := redis.NewClient(opts)
		defer c.Close()
		if v, _ := c.Get(context.Background(), lease).Result(); v == owner {
			c.Del(context.Background(), lease)
		}
	})
	dbOpts := *opts
	dbOpts.DB = db
	c2 := redis.NewClient(&dbOpts)
	defer c2.Close()
	if err := c2.FlushDB(ctx).Err(); err != nil {
		t.Fatalf("testenv: flush: %v", err)
	}
	u, _ := url.Parse(base)
	u.Path = "/" + itoa(db)
	return u.String()
}

// Redis connects to a Redis for one test and closes it afterwards.
func Redis(t testing.TB) *kv.Redis {
	t.Helper()
	r, err := kv.Open(context.Background(), RedisURL(t))
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return string(rune('0'+i/10)) + string(rune('0'+i%10))
}
