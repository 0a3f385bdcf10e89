package models_test

import (
	"path/filepath"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/internal/testenv"
	"github.com/yanzhen/yanzhen/models"
)

// TestSQLiteTransactionsWaitForTheWriter: a transaction that reads, then writes (a survey answer: is
// there a draft? then save) while another connection writes. With SQLite's default deferred
// transactions the read's snapshot goes stale and the write fails at once with "database is locked"
// (SQLITE_BUSY_SNAPSHOT) — members got an apology under load, most after the disk-full fault when
// their retries came in together. Transactions begin IMMEDIATE: the other writer waits its turn.
func TestSQLiteTransactionsWaitForTheWriter(t *testing.T) {
	db, err := models.Open("sqlite://"+filepath.Join(t.TempDir(), "tx.db"), testenv.Logger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if s, err := db.DB(); err == nil {
			s.Close()
		}
	})
	if err := db.Exec(`CREATE TABLE notes (id integer primary key, text varchar(64) not null)`).Error; err != nil {
		t.Fatal(err)
	}
	other := make(chan error, 1)
	err = db.Transaction(func(tx *gorm.DB) error {
		var n int64
		if err := tx.Table("notes").Count(&n).Error; err != nil {
			return err
		}
		// Another connection writes meanwhile (it has to wait for this transaction, or it commits
		// first and this one's snapshot is stale).
		go func() { other <- db.Exec(`INSERT INTO notes (text) VALUES ('other')`).Error }()
		select {
		case err := <-other:
			other <- err
		case <-time.After(300 * time.Millisecond):
		}
		return tx.Exec(`INSERT INTO notes (text) VALUES ('mine')`).Error
	})
	if err != nil {
		t.Fatalf("the reading transaction's write: %v", err)
	}
	if err := <-other; err != nil {
		t.Fatalf("the other connection's write: %v", err)
	}
	var n int64
	db.Table("notes").Count(&n)
	if n != 2 {
		t.Fatalf("%d rows, want 2", n)
	}
}
