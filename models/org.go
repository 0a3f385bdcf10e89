package models

import "time"

// Org levels, from the top of a county's tree down.
const (
	LevelCounty  = 1
	LevelTown    = 2
	LevelVillage = 3
)

// Org is one node of the organization tree: county → town → village (deeper levels are allowed).
// Path is the full name path from the root, e.g. "洪雅县/花溪镇/郭沟村", unique, and is how files and
// commands name an org. Scope queries use Path prefixes: a subtree is Path = p OR Path LIKE p + "/%".
type Org struct {
	ID        uint   `gorm:"primaryKey"`
	ParentID  *uint  `gorm:"index"`
	Name      string `gorm:"size:64;not null"`
	Path      string `gorm:"size:512;not null;uniqueIndex"`
	Level     int    `gorm:"not null"`
	CreatedAt time.Time
	UpdatedAt time.Time
}
