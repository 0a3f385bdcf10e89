package bank

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/internal/testenv"
	"github.com/yanzhen/yanzhen/models"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newService(t testing.TB) (*Service, *gorm.DB, *clock) {
	t.Helper()
	db := testenv.DB(t)
	clk := &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	return New(db, testenv.Logger(), clk.now), db, clk
}

// audited is the service with its audit entries collected.
type auditLog struct {
	mu      sync.Mutex
	changes []console.Change
}

func (a *auditLog) audit(_ context.Context, tx *gorm.DB, ch console.Change) error {
	if tx == nil {
		panic("audit outside the change's transaction")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.changes = append(a.changes, ch)
	return nil
}

func (a *auditLog) take() []console.Change {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := a.changes
	a.changes = nil
	return out
}

// csvFile joins lines into a CSV file body.
func csvFile(lines ...string) *strings.Reader {
	return strings.NewReader(strings.Join(lines, "\n") + "\n")
}

func questionByStem(t testing.TB, db *gorm.DB, stem string) *models.Question {
	t.Helper()
	var q models.Question
	if err := db.Where("stem_key = ?", StemKey(stem)).Take(&q).Error; err != nil {
		t.Fatalf("question %q: %v", stem, err)
	}
	return &q
}

func countQuestions(t testing.TB, db *gorm.DB) int64 {
	t.Helper()
	var n int64
	if err := db.Model(&models.Question{}).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}
