// Package scope is the one place that limits what a console viewer or an API caller sees: the subtree of
// the org tree under the org their account belongs to. Every console and API query of org-owned data
// goes through one of these filters; a row outside the scope is "not found", an org outside it
// "forbidden".
package scope

import (
	"errors"
	"strings"

	"gorm.io/gorm"
)

// Errors of scoped access, checked with errors.Is. Handlers answer them 404 and 403.
var (
	ErrNotFound  = errors.New("not found")
	ErrForbidden = errors.New("outside your part of the organization")
)

// Scope is the org at Path and everything under it, or, with All, every org of the installation (the
// bootstrap administrator). The zero Scope contains nothing.
type Scope struct {
	OrgID uint
	Path  string
	All   bool
}

// Everything is the scope of the whole installation.
func Everything() Scope { return Scope{All: true} }

// Under is the scope of the org subtree rooted at (id, path).
func Under(id uint, path string) Scope { return Scope{OrgID: id, Path: path} }

// Contains reports whether the org at orgPath is in the scope.
func (s Scope) Contains(orgPath string) bool {
	if s.All {
		return orgPath != ""
	}
	return s.Path != "" && (orgPath == s.Path || strings.HasPrefix(orgPath, s.Path+"/"))
}

// Check is Contains as an error: nil or ErrForbidden.
func (s Scope) Check(orgPath string) error {
	if s.Contains(orgPath) {
		return nil
	}
	return ErrForbidden
}

// Orgs limits a query on the orgs table to the scope: db.Scopes(sc.Orgs).
func (s Scope) Orgs(db *gorm.DB) *gorm.DB {
	if s.All {
		return db
	}
	if s.Path == "" {
		return db.Where("1 = 0")
	}
	return db.Where("orgs.path = ? OR orgs.path LIKE ? ESCAPE '!'", s.Path, SubtreeLike(s.Path))
}

// Members limits a query on the members table to members of orgs in the scope: db.Scopes(sc.Members).
func (s Scope) Members(db *gorm.DB) *gorm.DB { return s.ByOrg("members.org_id")(db) }

// ByOrg limits a query to rows whose org id (in column col, e.g. "accounts.org_id") is in the scope.
func (s Scope) ByOrg(col string) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB {
		if s.All {
			return db
		}
		if s.Path == "" {
			return db.Where("1 = 0")
		}
		return db.Where(col+" IN (SELECT id FROM orgs WHERE path = ? OR path LIKE ? ESCAPE '!')", s.Path, SubtreeLike(s.Path))
	}
}

// ByPath limits a query to rows whose org path (in column col, e.g. "audit_entries.org_path") is in the
// scope.
func (s Scope) ByPath(col string) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB {
		if s.All {
			return db
		}
		if s.Path == "" {
			return db.Where("1 = 0")
		}
		return db.Where("("+col+" = ? OR "+col+" LIKE ? ESCAPE '!')", s.Path, SubtreeLike(s.Path))
	}
}

// SubtreeLike is the LIKE pattern (with ESCAPE '!') of the descendants of path.
func SubtreeLike(path string) string {
	r := strings.NewReplacer("!", "!!", "%", "!%", "_", "!_")
	return r.Replace(path) + "/%"
}

// Narrowed is a viewer's scope narrowed to the subtree of an org inside it (a page looking at one
// town): both filters apply to every query, the narrowing one only when it is narrower, so that a
// forged org id can never widen what the viewer sees.
type Narrowed struct {
	viewer, sub Scope
	narrowed    bool
}

// Narrow narrows s to the subtree of org id at path; id 0: not narrowed.
func (s Scope) Narrow(id uint, path string) Narrowed {
	t := Narrowed{viewer: s, sub: s}
	if id != 0 && (s.All || id != s.OrgID) {
		t.sub, t.narrowed = Under(id, path), true
	}
	return t
}

// Orgs, ByOrg, ByPath and Members are Scope's filters, for both scopes.
func (t Narrowed) Orgs(db *gorm.DB) *gorm.DB {
	db = t.viewer.Orgs(db)
	if t.narrowed {
		db = t.sub.Orgs(db)
	}
	return db
}

func (t Narrowed) ByOrg(col string) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB {
		db = t.viewer.ByOrg(col)(db)
		if t.narrowed {
			db = t.sub.ByOrg(col)(db)
		}
		return db
	}
}

func (t Narrowed) ByPath(col string) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB {
		db = t.viewer.ByPath(col)(db)
		if t.narrowed {
			db = t.sub.ByPath(col)(db)
		}
		return db
	}
}

func (t Narrowed) Members(db *gorm.DB) *gorm.DB { return t.ByOrg("members.org_id")(db) }
