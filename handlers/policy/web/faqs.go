package web

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/models"
)

// Limits of an FAQ (characters). The answer is sent as one chat message, so it stays well inside
// WeChat's 2,048-byte text reply.
const (
	MaxFAQQuestion    = 200
	MaxFAQAlternative = 200
	MaxFAQAlternates  = 30
	MaxFAQAnswer      = 600
	MaxFAQSource      = 100
)

// FAQInput is an FAQ as an editor typed it. Alternatives are other phrasings of the question, one
// per line.
type FAQInput struct {
	Question, Alternatives, Answer, Source string
}

// normalize trims the input, keeps one phrasing per line (no blanks, no repeats, not the question
// itself) and checks the limits; what is wrong is an InputError naming the field.
func (in FAQInput) normalize() (FAQInput, error) {
	out := FAQInput{Question: oneLine(in.Question), Answer: cleanText(in.Answer), Source: oneLine(in.Source)}
	switch {
	case out.Question == "":
		return out, console.Invalid("question", "请填写问题")
	case runes(out.Question) > MaxFAQQuestion:
		return out, console.Invalid("question", "问题最多 %d 个字", MaxFAQQuestion)
	case out.Answer == "":
		return out, console.Invalid("answer", "请填写答案")
	case runes(out.Answer) > MaxFAQAnswer:
		return out, console.Invalid("answer", "答案最多 %d 个字，现在有 %d 个字", MaxFAQAnswer, runes(out.Answer))
	case runes(out.Source) > MaxFAQSource:
		return out, console.Invalid("source", "出处最多 %d 个字", MaxFAQSource)
	}
	seen := map[string]bool{out.Question: true}
	var alts []string
	for i, line := range strings.Split(strings.ReplaceAll(in.Alternatives, "\r\n", "\n"), "\n") {
		line = oneLine(line)
		if line == "" || seen[line] {
			continue
		}
		if runes(line) > MaxFAQAlternative {
			return out, console.Invalid("alternatives", "其他问法第 %d 行太长（最多 %d 个字）", i+1, MaxFAQAlternative)
		}
		seen[line] = true
		alts = append(alts, line)
	}
	if len(alts) > MaxFAQAlternates {
		return out, console.Invalid("alternatives", "其他问法最多 %d 种", MaxFAQAlternates)
	}
	out.Alternatives = strings.Join(alts, "\n")
	return out, nil
}

// AlternativeList are an FAQ's other phrasings.
func AlternativeList(f *models.PolicyFAQ) []string {
	var out []string
	for _, l := range strings.Split(f.Alternatives, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// faqRecord is an FAQ as the audit log keeps it.
func faqRecord(f *models.PolicyFAQ) map[string]any {
	return map[string]any{"question": f.Question, "alternatives": f.Alternatives, "answer": f.Answer, "source": f.Source, "active": f.Active}
}

// FAQFilter narrows the FAQ list.
type FAQFilter struct {
	Q      string // text in the question, the other phrasings or the answer
	Active *bool
}

func (h *Web) faqsWhere(ctx context.Context, f FAQFilter) *gorm.DB {
	db := h.db.WithContext(ctx).Model(&models.PolicyFAQ{})
	if f.Q != "" {
		like := "%" + likeEscape(f.Q) + "%"
		db = db.Where("(question LIKE ? ESCAPE '!' OR alternatives LIKE ? ESCAPE '!' OR answer LIKE ? ESCAPE '!')", like, like, like)
	}
	if f.Active != nil {
		db = db.Where("active = ?", *f.Active)
	}
	return db
}

// listFAQs is one page of the FAQs: active ones first, the last changed first.
func (h *Web) listFAQs(ctx context.Context, f FAQFilter, offset, limit int) ([]models.PolicyFAQ, int64, error) {
	var total int64
	if err := h.faqsWhere(ctx, f).Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("policy: count faqs: %w", err)
	}
	q := h.faqsWhere(ctx, f).Order("active DESC, updated_at DESC, id DESC")
	if limit > 0 {
		q = q.Offset(offset).Limit(limit)
	}
	var out []models.PolicyFAQ
	if err := q.Find(&out).Error; err != nil {
		return nil, 0, fmt.Errorf("policy: list faqs: %w", err)
	}
	return out, total, nil
}

// faq is one FAQ.
func (h *Web) faq(ctx context.Context, db *gorm.DB, id uint) (*models.PolicyFAQ, error) {
	if db == nil {
		db = h.db
	}
	var f models.PolicyFAQ
	err := db.WithContext(ctx).Take(&f, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("policy: faq %d: %w", id, err)
	}
	return &f, nil
}

// sameQuestion is the id of another active FAQ with this question (0: none).
func sameQuestion(tx *gorm.DB, question string, except uint) (uint, error) {
	var ids []uint
	if err := tx.Model(&models.PolicyFAQ{}).Where("question = ? AND active = ? AND id <> ?", question, true, except).
		Limit(1).Pluck("id", &ids).Error; err != nil {
		return 0, fmt.Errorf("policy: faq by question: %w", err)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	return ids[0], nil
}

// errSameQuestion is the input error of a question that another active FAQ already has.
func errSameQuestion(id uint) error {
	return console.Invalid("question", "已经有一条相同问题的常见问题（第 %d 条），请直接修改那一条", id)
}

// CreateFAQ adds an FAQ (administrators; audited), then refreshes the Q&A index. refreshErr is the
// index's failure, if any: the FAQ is saved either way.
func (h *Web) CreateFAQ(ctx context.Context, v *console.Viewer, in FAQInput) (f *models.PolicyFAQ, refreshErr, err error) {
	if !v.IsAdmin() {
		return nil, nil, console.ErrNotAllowed
	}
	if in, err = in.normalize(); err != nil {
		return nil, nil, err
	}
	now := h.now().UTC()
	f = &models.PolicyFAQ{Question: in.Question, Alternatives: in.Alternatives, Answer: in.Answer, Source: in.Source,
		Active: true, UpdatedBy: clip(v.DisplayName, 64), CreatedAt: now, UpdatedAt: now}
	err = h.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if id, err := sameQuestion(tx, f.Question, 0); err != nil {
			return err
		} else if id != 0 {
			return errSameQuestion(id)
		}
		if err := tx.Create(f).Error; err != nil {
			return fmt.Errorf("policy: create faq: %w", err)
		}
		return h.con.Record(ctx, tx, v, console.Change{Action: console.ActionCreate, Object: ObjectFAQ, ObjectID: f.ID,
			OrgPath: v.Scope.Path, Summary: "新建常见问题：" + clip(f.Question, 60), After: faqRecord(f)})
	})
	if err != nil {
		return nil, nil, err
	}
	return f, h.refresh(ctx), nil
}

// FAQChange is a change of an FAQ: nil fields stay as they are.
type FAQChange struct {
	Question, Alternatives, Answer, Source *string
	Active                                 *bool
}

// UpdateFAQ changes an FAQ (administrators; audited) and refreshes the Q&A index when anything
// changed. A retired FAQ restored must not repeat an active one's question.
func (h *Web) UpdateFAQ(ctx context.Context, v *console.Viewer, id uint, ch FAQChange) (f *models.PolicyFAQ, changed bool, refreshErr, err error) {
	if !v.IsAdmin() {
		return nil, false, nil, console.ErrNotAllowed
	}
	err = h.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if f, err = h.faq(ctx, tx, id); err != nil {
			return err
		}
		before := *f
		in := FAQInput{Question: f.Question, Alternatives: f.Alternatives, Answer: f.Answer, Source: f.Source}
		for _, set := range []struct{ dst, src *string }{{&in.Question, ch.Question}, {&in.Alternatives, ch.Alternatives},
			{&in.Answer, ch.Answer}, {&in.Source, ch.Source}} {
			if set.src != nil {
				*set.dst = *set.src
			}
		}
		if in, err = in.normalize(); err != nil {
			return err
		}
		f.Question, f.Alternatives, f.Answer, f.Source = in.Question, in.Alternatives, in.Answer, in.Source
		if ch.Active != nil {
			f.Active = *ch.Active
		}
		if f.Question == before.Question && f.Alternatives == before.Alternatives && f.Answer == before.Answer &&
			f.Source == before.Source && f.Active == before.Active {
			return nil
		}
		if f.Active {
			if other, err := sameQuestion(tx, f.Question, f.ID); err != nil {
				return err
			} else if other != 0 {
				return errSameQuestion(other)
			}
		}
		changed = true
		f.UpdatedBy, f.UpdatedAt = clip(v.DisplayName, 64), h.now().UTC()
		if err := tx.Model(&models.PolicyFAQ{}).Where("id = ?", f.ID).Updates(map[string]any{
			"question": f.Question, "alternatives": f.Alternatives, "answer": f.Answer, "source": f.Source,
			"active": f.Active, "updated_by": f.UpdatedBy, "updated_at": f.UpdatedAt,
		}).Error; err != nil {
			return fmt.Errorf("policy: update faq %d: %w", f.ID, err)
		}
		action, summary := console.ActionUpdate, "修改常见问题："
		if f.Active != before.Active && f.Question == before.Question && f.Answer == before.Answer &&
			f.Alternatives == before.Alternatives && f.Source == before.Source {
			action, summary = pick(f.Active, console.ActionActivate, console.ActionDeactivate), pick(f.Active, "恢复常见问题：", "停用常见问题：")
		}
		return h.con.Record(ctx, tx, v, console.Change{Action: action, Object: ObjectFAQ, ObjectID: f.ID,
			OrgPath: v.Scope.Path, Summary: summary + clip(f.Question, 60), Before: faqRecord(&before), After: faqRecord(f)})
	})
	if err != nil {
		return nil, false, nil, err
	}
	if changed {
		refreshErr = h.refresh(ctx)
	}
	return f, changed, refreshErr, nil
}

// FAQFromQuestion makes an FAQ of a question of the viewer's scope and its person's answer, in one
// click (administrators; audited). When an active FAQ already has this question, that one is
// returned (made false) and nothing is created.
func (h *Web) FAQFromQuestion(ctx context.Context, v *console.Viewer, questionID uint) (f *models.PolicyFAQ, made bool, refreshErr, err error) {
	if !v.IsAdmin() {
		return nil, false, nil, console.ErrNotAllowed
	}
	q, err := h.question(ctx, v.Scope, questionID)
	if err != nil {
		return nil, false, nil, err
	}
	if q.State != models.AskReplied || strings.TrimSpace(q.Reply) == "" {
		return nil, false, nil, console.Invalid("answer", "这个问题还没有答复，答复后才能转为常见问题")
	}
	text := clip(oneLine(q.Text), MaxFAQQuestion)
	if id, err := sameQuestion(h.db.WithContext(ctx), text, 0); err != nil {
		return nil, false, nil, err
	} else if id != 0 {
		f, err := h.faq(ctx, nil, id)
		return f, false, nil, err
	}
	f, refreshErr, err = h.CreateFAQ(ctx, v, FAQInput{Question: text, Answer: q.Reply, Source: h.o.Signature + "答复"})
	return f, err == nil, refreshErr, err
}
