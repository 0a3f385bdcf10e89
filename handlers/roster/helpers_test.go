package roster

import (
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

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

func newService(t *testing.T) (*Service, *gorm.DB, *clock) {
	t.Helper()
	db := testenv.DB(t)
	clk := &clock{t: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)}
	return New(db, testenv.Logger(), clk.now), db, clk
}

// csvFile joins lines into a CSV file body.
func csvFile(lines ...string) *strings.Reader {
	return strings.NewReader(strings.Join(lines, "\n") + "\n")
}

func memberByPhone(t *testing.T, db *gorm.DB, phone string) *models.Member {
	t.Helper()
	var m models.Member
	if err := db.Preload("Org").Where("phone = ?", phone).Take(&m).Error; err != nil {
		t.Fatalf("member %s: %v", phone, err)
	}
	return &m
}

func countMembers(t *testing.T, db *gorm.DB) int64 {
	t.Helper()
	var n int64
	if err := db.Model(&models.Member{}).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}
