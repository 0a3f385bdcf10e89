package testenv

import (
	"context"
	"testing"

	"github.com/yanzhen/yanzhen/models"
)

func TestDBAndRedis(t *testing.T) {
	db := DB(t)
	org := models.Org{Name: "洪雅县", Path: "洪雅县", Level: models.LevelCounty}
	if err := db.Create(&org).Error; err != nil {
		t.Fatal(err)
	}
	var n int64
	db.Model(&models.Org{}).Count(&n)
	if n != 1 {
		t.Fatalf("orgs = %d", n)
	}
	r := Redis(t)
	if err := r.Set(context.Background(), "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
}
