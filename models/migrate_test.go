package models_test

import (
	"testing"

	"github.com/yanzhen/yanzhen/internal/testenv"
	"github.com/yanzhen/yanzhen/models"
)

func TestMigrateFromEmptyTwiceAndFromAnOlderSchema(t *testing.T) {
	db, err := models.Open(testenv.DatabaseURL(t), testenv.Logger())
	if err != nil {
		t.Fatal(err)
	}
	// An older schema: members without the columns added since (union id, bind time, active flag).
	if err := db.Exec(`CREATE TABLE orgs (id integer primary key, parent_id integer, name varchar(64) not null,
		path varchar(512) not null, level integer not null, created_at timestamp, updated_at timestamp)`).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Exec(`CREATE TABLE members (id integer primary key, name varchar(64) not null, phone varchar(20) not null,
		role varchar(16) not null, org_id integer not null, oa_open_id varchar(64), mp_open_id varchar(64),
		bind_code varchar(16), created_at timestamp, updated_at timestamp)`).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Exec(`INSERT INTO orgs (id, name, path, level) VALUES (1, '洪雅县', '洪雅县', 1)`).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Exec(`INSERT INTO members (id, name, phone, role, org_id) VALUES (1, '王小明', '13800001111', '党员', 1)`).Error; err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ { // idempotent
		if err := models.Migrate(db); err != nil {
			t.Fatalf("migrate #%d: %v", i+1, err)
		}
	}
	var m models.Member
	if err := db.First(&m, 1).Error; err != nil {
		t.Fatal(err)
	}
	if m.Name != "王小明" || !m.Active {
		t.Fatalf("old row after migration: %+v (Active must default to true)", m)
	}
	for _, table := range []any{&models.Org{}, &models.Member{}, &models.LocationReport{}} {
		if !db.Migrator().HasTable(table) {
			t.Fatalf("table for %T missing", table)
		}
	}
	if !db.Migrator().HasColumn(&models.Member{}, "union_id") || !db.Migrator().HasIndex(&models.Member{}, "idx_members_phone") {
		t.Fatal("new column or index not added")
	}
}
