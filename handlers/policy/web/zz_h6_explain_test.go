package web

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/internal/testenv"
	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/scope"
)

func TestH6Explain(t *testing.T) {
	db := testenv.DB(t)
	rdb := testenv.Redis(t)
	con, _ := console.New(console.Options{DB: db, Redis: rdb.Client})
	h := New(Options{Console: con, DB: db})
	var qs []models.PolicyQuestion
	now := time.Now().UTC()
	for i := 0; i < 20000; i++ {
		state := []string{models.AskAnswered, models.AskOpen, models.AskReplied}[i%3]
		qs = append(qs, models.PolicyQuestion{MemberID: uint(i%5000 + 1), OrgID: 1, OrgPath: "洪雅县/镇" + strconv.Itoa(i%20) + "/村" + strconv.Itoa(i%34),
			Channel: "oa", OpenID: "o", Text: fmt.Sprintf("第%d个问题", i), State: state, AskedAt: now.Add(-time.Duration(i%200) * time.Hour)})
	}
	db.CreateInBatches(qs, 1000)
	db.Exec("ANALYZE")
	sc := scope.Under(1, "洪雅县")
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		t0 := time.Now()
		h.listQuestions(ctx, sc, Inbox{State: ShowAll}, 200, 50)
		t1 := time.Now()
		h.countOverdue(ctx, sc, Inbox{State: ShowAll})
		fmt.Println("list", t1.Sub(t0), "overdue", time.Since(t1))
	}
	sql := db.ToSQL(func(tx *gorm.DB) *gorm.DB {
		h2 := *h
		h2.db = tx
		var rows []QuestionRow
		return h2.listQuery(ctx, sc, Inbox{State: ShowAll}, 200, 50).Find(&rows)
	})
	rows, _ := db.Raw("EXPLAIN ANALYZE " + sql).Rows()
	for rows.Next() {
		var s string
		rows.Scan(&s)
		fmt.Println(s)
	}
}
