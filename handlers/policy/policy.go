// Package policy is the policy Q&A: a knowledge base of policy documents split into passages and of
// FAQ pairs, a Chinese full-text index over it (package index), and the chat that answers aides'
// and members' questions with a quote and its source, or hands them to a person (the console's inbox,
// package policy/web).
//
// Every server process answers from an in-memory index (a KB). The database is the truth: each change
// of documents or FAQs adds one to models.PolicyIndexState's generation in the same transaction, each
// question compares that one row with its KB's, and a process that is behind loads the newer state —
// from the snapshot another process (or itself, before a restart) wrote to the index folder, or from
// the database — before it answers. So every process answers from the same knowledge base right after
// an import, whichever process (or `yanzhen import policies`) made it.
package policy

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/yanzhen/yanzhen/handlers/policy/index"
	"github.com/yanzhen/yanzhen/models"
)

// Options configure the service.
type Options struct {
	DB  *gorm.DB
	Log *slog.Logger
	Now func() time.Time // nil = time.Now
	// Dir holds the index snapshot ("" = none: the index is built from the database on start-up).
	Dir        string
	Params     index.Params // zero = index.DefaultParams()
	Thresholds Thresholds   // zero = DefaultThresholds()
}

// Service is the policy Q&A capability.
type Service struct {
	db  *gorm.DB
	log *slog.Logger
	now func() time.Time
	dir string
	p   index.Params
	th  Thresholds

	kb atomic.Pointer[KB] // the state questions are answered from
	mu sync.Mutex         // one load or build at a time
}

// New makes the service. Nothing is loaded until the first question or Warm.
func New(opts Options) *Service {
	s := &Service{db: opts.DB, log: opts.Log, now: opts.Now, dir: opts.Dir, p: opts.Params, th: opts.Thresholds}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.th == (Thresholds{}) {
		s.th = DefaultThresholds()
	}
	return s
}

// stateID is the id of the one PolicyIndexState row.
const stateID = 1

// state reads the current state of the knowledge base, making the row on first use.
func (s *Service) state(ctx context.Context) (models.PolicyIndexState, error) {
	var st models.PolicyIndexState
	err := s.db.WithContext(ctx).Take(&st, stateID).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		if err = s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).
			Create(&models.PolicyIndexState{ID: stateID, Epoch: newEpoch()}).Error; err == nil {
			err = s.db.WithContext(ctx).Take(&st, stateID).Error
		}
	}
	if err != nil {
		return st, fmt.Errorf("policy: read index state: %w", err)
	}
	return st, nil
}

// bump records in tx that the knowledge base changed.
func (s *Service) bump(tx *gorm.DB) error {
	for range 2 {
		res := tx.Model(&models.PolicyIndexState{}).Where("id = ?", stateID).
			Updates(map[string]any{"generation": gorm.Expr("generation + 1"), "updated_at": s.now()})
		if res.Error != nil {
			return fmt.Errorf("policy: bump index state: %w", res.Error)
		}
		if res.RowsAffected > 0 {
			return nil
		}
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).
			Create(&models.PolicyIndexState{ID: stateID, Epoch: newEpoch()}).Error; err != nil {
			return fmt.Errorf("policy: make index state: %w", err)
		}
	}
	return fmt.Errorf("policy: bump index state: no row")
}

func newEpoch() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Current is the knowledge base as the database has it now: the KB in memory when it is current,
// else the snapshot on disk when that is, else one built from the database (and written to disk).
// When the database cannot be read, the KB in memory (if any) answers and the error is logged.
func (s *Service) Current(ctx context.Context) (*KB, error) {
	st, err := s.state(ctx)
	if err != nil {
		if kb := s.kb.Load(); kb != nil {
			s.log.WarnContext(ctx, "policy: answering from the loaded index", "err", err)
			return kb, nil
		}
		return nil, err
	}
	if kb := s.kb.Load(); kb != nil && kb.Epoch == st.Epoch && kb.Gen == st.Generation {
		return kb, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if kb := s.kb.Load(); kb != nil && kb.Epoch == st.Epoch && kb.Gen >= st.Generation {
		return kb, nil // another question loaded it while this one waited
	}
	start := time.Now()
	kb, err := s.loadSnapshot(st)
	from := "snapshot"
	if err != nil {
		if !errors.Is(err, errNoSnapshot) {
			s.log.WarnContext(ctx, "policy: index snapshot not used", "err", err)
		}
		if kb, err = s.build(ctx); err != nil {
			return nil, err
		}
		from = "database"
		if err := s.saveSnapshot(kb); err != nil {
			s.log.WarnContext(ctx, "policy: index snapshot not written", "err", err)
		}
	}
	s.kb.Store(kb)
	s.log.InfoContext(ctx, "policy: index loaded", "from", from, "generation", kb.Gen, "documents", len(kb.Docs),
		"passages", len(kb.Passages), "faqs", len(kb.FAQs), "took", time.Since(start).Round(time.Millisecond))
	return kb, nil
}

// Warm loads the index (at start-up, so that the first question does not wait for it).
func (s *Service) Warm(ctx context.Context) error {
	_, err := s.Current(ctx)
	return err
}

// Refresh records that the knowledge base changed outside Import (FAQs edited in the console), so
// that every process reloads it, and reloads this process's index at once.
func (s *Service) Refresh(ctx context.Context) error {
	if err := s.db.WithContext(ctx).Transaction(s.bump); err != nil {
		return err
	}
	_, err := s.Current(ctx)
	return err
}

// build reads the knowledge base from the database. The state is read first: a change committed while
// the rest is read makes the KB look older than it is, and the next question loads it again.
func (s *Service) build(ctx context.Context) (*KB, error) {
	st, err := s.state(ctx)
	if err != nil {
		return nil, err
	}
	db := s.db.WithContext(ctx)
	var docs []models.PolicyDoc
	if err := db.Order("id").Find(&docs).Error; err != nil {
		return nil, fmt.Errorf("policy: load documents: %w", err)
	}
	at := make(map[uint]int, len(docs))
	ds := make([]Doc, len(docs))
	for i, d := range docs {
		at[d.ID] = i
		ds[i] = Doc{ID: d.ID, Name: d.Name, Title: d.Title, Source: d.Source, Date: d.Date}
	}
	var ps []Passage
	var batch []models.PolicyPassage
	err = db.Order("doc_id, seq, id").FindInBatches(&batch, 2000, func(*gorm.DB, int) error {
		for _, p := range batch {
			if i, ok := at[p.DocID]; ok {
				ps = append(ps, Passage{ID: p.ID, Doc: i, Seq: p.Seq, Text: p.Text})
			}
		}
		return nil
	}).Error
	if err != nil {
		return nil, fmt.Errorf("policy: load passages: %w", err)
	}
	var faqs []models.PolicyFAQ
	if err := db.Where("active = ?", true).Order("id").Find(&faqs).Error; err != nil {
		return nil, fmt.Errorf("policy: load faqs: %w", err)
	}
	fs := make([]FAQ, len(faqs))
	for i, f := range faqs {
		fs[i] = FAQ{ID: f.ID, Question: f.Question, Alternatives: f.Alternatives, Answer: f.Answer, Source: f.Source}
	}
	kb := NewKB(ds, ps, fs, s.p, s.th)
	kb.Epoch, kb.Gen = st.Epoch, st.Generation
	return kb, nil
}

// ImportResult is the outcome of importing one document.
type ImportResult struct {
	DocID    uint
	Title    string
	Passages int
	Changed  bool // false: the same text was imported before, nothing changed
}

// Import imports (or re-imports) one document by its file name: a changed document's passages replace
// the old ones; the same text again changes nothing. A document that cannot be read is an ErrBadDoc
// (Reason says why, in Chinese) and changes nothing either.
func (s *Service) Import(ctx context.Context, name string, r io.Reader) (ImportResult, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxDocBytes+1))
	if err != nil {
		return ImportResult{}, fmt.Errorf("policy: read %s: %w", name, err)
	}
	doc, err := ParseDocument(name, data)
	if err != nil {
		return ImportResult{}, err
	}
	res := ImportResult{Title: doc.Title, Passages: len(doc.Passages)}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var row models.PolicyDoc
		err := tx.Where("name = ?", doc.Name).Take(&row).Error
		switch {
		case err == nil && row.Hash == doc.Hash:
			res.DocID, res.Title, res.Passages = row.ID, row.Title, row.Passages
			return nil
		case err == nil:
			if err := tx.Where("doc_id = ?", row.ID).Delete(&models.PolicyPassage{}).Error; err != nil {
				return fmt.Errorf("policy: drop passages of %s: %w", doc.Name, err)
			}
		case !errors.Is(err, gorm.ErrRecordNotFound):
			return fmt.Errorf("policy: find %s: %w", doc.Name, err)
		}
		row.Name, row.Title, row.Source, row.Date, row.Hash, row.Passages = doc.Name, doc.Title, doc.Source, doc.Date, doc.Hash, len(doc.Passages)
		if err := tx.Save(&row).Error; err != nil {
			return fmt.Errorf("policy: save %s: %w", doc.Name, err)
		}
		ps := make([]models.PolicyPassage, len(doc.Passages))
		for i, t := range doc.Passages {
			ps[i] = models.PolicyPassage{DocID: row.ID, Seq: i, Text: t}
		}
		if err := tx.CreateInBatches(ps, 200).Error; err != nil {
			return fmt.Errorf("policy: save passages of %s: %w", doc.Name, err)
		}
		res.DocID, res.Changed = row.ID, true
		return s.bump(tx)
	})
	if err != nil {
		return ImportResult{}, err
	}
	return res, nil
}
