package web

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/bot"
	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/notify"
	"github.com/yanzhen/yanzhen/scope"
)

// The inbox's state filters: questions waiting for a person, those a person answered, or both
// (questions the bot answered itself are not in the inbox).
const (
	ShowOpen    = "open"
	ShowReplied = "replied"
	ShowAll     = "all"
)

// OverdueAfter: an open question older than this is flagged "超过一天未答复" and listed first.
const OverdueAfter = 24 * time.Hour

// MaxAnswer is the longest answer a person may give (characters), and MaxMessage the longest message
// the asker gets (the question quoted, the answer, the signature): one phone screen.
const (
	MaxAnswer  = 250
	MaxMessage = 300
)

// QuestionRow is a question of the inbox with its asker's name.
type QuestionRow struct {
	models.PolicyQuestion
	MemberName string
	Overdue    bool `gorm:"-"` // open and older than OverdueAfter
}

// Waiting is how long an open question has waited, as people say it ("3 小时", "2 天").
func (r *QuestionRow) Waiting(now time.Time) string {
	d := now.Sub(r.AskedAt)
	switch {
	case d < time.Hour:
		return fmt.Sprintf("%d 分钟", max(int(d/time.Minute), 1))
	case d < 24*time.Hour:
		return fmt.Sprintf("%d 小时", int(d/time.Hour))
	}
	return fmt.Sprintf("%d 天", int(d/(24*time.Hour)))
}

// Short is the question cut to one line of the list.
func (r *QuestionRow) Short() string { return clip(oneLine(r.Text), 60) }

// StateName is the question's state as users read it.
func (r *QuestionRow) StateName() string {
	switch r.State {
	case models.AskOpen:
		return "待答复"
	case models.AskReplied:
		return "已答复"
	case models.AskAnswered:
		return "机器人已答"
	}
	return r.State
}

// Open reports whether the question still waits for a person.
func (r *QuestionRow) Open() bool { return r.State == models.AskOpen }

// Inbox is what a list of the inbox shows.
type Inbox struct {
	State string  // ShowOpen, ShowReplied or ShowAll
	Org   *OrgRef // narrows the list to this org's subtree (nil: the viewer's whole scope)
	Q     string  // text in the question
}

// OrgRef is an org of the viewer's scope (filters and choices).
type OrgRef struct {
	ID   uint
	Name string
	Path string
}

// questionsIn is the query of the inbox's questions in scope sc matching f (no order, no page).
func (h *Web) questionsIn(ctx context.Context, sc scope.Scope, f Inbox) *gorm.DB {
	db := h.db.WithContext(ctx).Model(&models.PolicyQuestion{}).Scopes(sc.ByPath("policy_questions.org_path"))
	if f.Org != nil {
		db = db.Scopes(scope.Under(f.Org.ID, f.Org.Path).ByPath("policy_questions.org_path"))
	}
	switch f.State {
	case ShowOpen:
		db = db.Where("policy_questions.state = ?", models.AskOpen)
	case ShowReplied:
		db = db.Where("policy_questions.state = ?", models.AskReplied)
	default:
		db = db.Where("policy_questions.state IN ?", []string{models.AskOpen, models.AskReplied})
	}
	if f.Q != "" {
		db = db.Where("policy_questions.text LIKE ? ESCAPE '!'", "%"+likeEscape(f.Q)+"%")
	}
	return db
}

// cutoff is the AskedAt before which an open question is overdue.
func (h *Web) cutoff() time.Time { return h.now().Add(-OverdueAfter).UTC() }

// at is a time column or parameter ("?") as SQL compares and sorts it. SQLite keeps times as text
// with the writer's UTC offset, so text order is time order only when every writer used the same
// zone; julianday() compares the instants.
func (h *Web) at(col string) string {
	if models.Dialect(h.db) == "sqlite" {
		return "julianday(" + col + ")"
	}
	return col
}

// listQuestions is one page of the inbox: overdue questions first (the longest waiting first), then
// the rest, newest first. overdue is how many of the matching questions are overdue. The two parts are
// read apart, each in its index's order, rather than sorting every question by a computed key: a
// county's inbox stays quick however many questions it holds.
func (h *Web) listQuestions(ctx context.Context, sc scope.Scope, f Inbox, offset, limit int) (rows []QuestionRow, total, overdue int64, err error) {
	cut := h.cutoff()
	isOverdue := "policy_questions.state = ? AND " + h.at("policy_questions.asked_at") + " < " + h.at("?")
	var n struct{ Total, Overdue int64 }
	if err := h.questionsIn(ctx, sc, f).
		Select("COUNT(*) AS total, COUNT(CASE WHEN "+isOverdue+" THEN 1 END) AS overdue", models.AskOpen, cut).
		Scan(&n).Error; err != nil {
		return nil, 0, 0, fmt.Errorf("policy: count questions: %w", err)
	}
	part := func(late bool, order string, off, lim int) error {
		q := h.questionsIn(ctx, sc, f).
			Select("policy_questions.*, members.name AS member_name").
			Joins("LEFT JOIN members ON members.id = policy_questions.member_id").
			Order(order).Offset(off)
		if late {
			q = q.Where(isOverdue, models.AskOpen, cut)
		} else {
			q = q.Where("NOT ("+isOverdue+")", models.AskOpen, cut)
		}
		if lim > 0 {
			q = q.Limit(lim)
		}
		var part []QuestionRow
		if err := q.Find(&part).Error; err != nil {
			return fmt.Errorf("policy: list questions: %w", err)
		}
		rows = append(rows, part...)
		return nil
	}
	asked := h.at("policy_questions.asked_at")
	if int64(offset) < n.Overdue {
		lim := int(n.Overdue) - offset
		if limit > 0 {
			lim = min(lim, limit)
		}
		if err := part(true, asked+", policy_questions.id", offset, lim); err != nil {
			return nil, 0, 0, err
		}
	}
	if rest := limit - len(rows); (limit <= 0 || rest > 0) && n.Total > n.Overdue {
		if err := part(false, asked+" DESC, policy_questions.id DESC", max(0, offset-int(n.Overdue)), rest); err != nil {
			return nil, 0, 0, err
		}
	}
	for i := range rows {
		rows[i].Overdue = rows[i].State == models.AskOpen && rows[i].AskedAt.Before(cut)
	}
	return rows, n.Total, n.Overdue, nil
}

// waiting is the number of overdue questions the inbox's banner shows: those of the scope and org
// whatever the state and text filters (the list's own count when they do not narrow it).
func (h *Web) waiting(ctx context.Context, sc scope.Scope, f Inbox, listed int64) (int64, error) {
	if f.State != ShowReplied && f.Q == "" {
		return listed, nil
	}
	f.State, f.Q = ShowOpen, ""
	var n int64
	if err := h.questionsIn(ctx, sc, f).Where(h.at("policy_questions.asked_at")+" < "+h.at("?"), h.cutoff()).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("policy: count overdue questions: %w", err)
	}
	return n, nil
}

// question is one question of the scope, with its asker's name; ErrNotFound when it is not there, is
// outside the scope, or is not the inbox's (the bot's own answers are the evaluation log).
func (h *Web) question(ctx context.Context, sc scope.Scope, id uint) (*QuestionRow, error) {
	var rows []QuestionRow
	if err := h.questionsIn(ctx, sc, Inbox{State: ShowAll}).
		Select("policy_questions.*, members.name AS member_name").
		Joins("LEFT JOIN members ON members.id = policy_questions.member_id").
		Where("policy_questions.id = ?", id).Limit(1).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("policy: question %d: %w", id, err)
	}
	if len(rows) == 0 {
		return nil, ErrNotFound
	}
	r := &rows[0]
	r.Overdue = r.State == models.AskOpen && r.AskedAt.Before(h.cutoff())
	return r, nil
}

// orgRef is an org of the scope by id; ErrNotFound outside it.
func (h *Web) orgRef(ctx context.Context, sc scope.Scope, id uint) (*OrgRef, error) {
	var orgs []models.Org
	if err := h.db.WithContext(ctx).Model(&models.Org{}).Scopes(sc.Orgs).Select("id, name, path").
		Where("orgs.id = ?", id).Limit(1).Find(&orgs).Error; err != nil {
		return nil, fmt.Errorf("policy: org %d: %w", id, err)
	}
	if len(orgs) == 0 {
		return nil, ErrNotFound
	}
	return &OrgRef{ID: orgs[0].ID, Name: orgs[0].Name, Path: orgs[0].Path}, nil
}

// orgChoices are the orgs of the scope, for the inbox's org filter.
func (h *Web) orgChoices(ctx context.Context, sc scope.Scope) ([]OrgRef, error) {
	var orgs []models.Org
	if err := h.db.WithContext(ctx).Model(&models.Org{}).Scopes(sc.Orgs).Select("id, name, path").
		Order("path").Find(&orgs).Error; err != nil {
		return nil, fmt.Errorf("policy: orgs: %w", err)
	}
	out := make([]OrgRef, len(orgs))
	for i, o := range orgs {
		out[i] = OrgRef{ID: o.ID, Name: o.Name, Path: o.Path}
	}
	return out, nil
}

// ReplyText is the message the asker gets: his question quoted (cut so that the whole stays within
// MaxMessage characters), the answer and the signature.
func ReplyText(question, answer, signature string) string {
	head, mid, tail := "你之前问的：「", "」\n答复：", "\n——"+signature
	room := MaxMessage - runes(head) - runes(mid) - runes(answer) - runes(tail)
	q := clip(oneLine(question), max(room, 8))
	return head + q + mid + answer + tail
}

// Replied is how a person's answer went.
type Replied struct {
	Question *QuestionRow
	Via      string // notify.ViaText, notify.ViaTemplate, or "" (not delivered: Question.Delivery says why)
}

// errAnsweredMeanwhile: someone else answered the question since the person looked at it.
var errAnsweredMeanwhile = console.Invalid("answer", "这个问题刚刚有人答复了（见上方）。如果还要更正，请看过他的答复后再次答复")

// checkAnswer is the answer as it will be sent, or what is wrong with it.
func checkAnswer(answer string) (string, error) {
	answer = cleanText(answer)
	switch {
	case answer == "":
		return "", console.Invalid("answer", "请填写答复")
	case runes(answer) > MaxAnswer:
		return "", console.Invalid("answer", "答复最多 %d 个字，现在有 %d 个字。请精简一下", MaxAnswer, runes(answer))
	}
	return answer, nil
}

// Reply records a person's answer to a question of the viewer's scope and sends it to the asker.
// Administrators only. A question already answered may be answered again (a correction, or a retry
// when the first answer did not reach the asker). expect, when not nil, is the answer the person saw
// ("" for none): when someone answered meanwhile, his answer is not overwritten and nothing is sent;
// the person is told to look first. The answer is committed (with its audit entry) before it is sent,
// so a failed send loses nothing; Delivery says how it went.
func (h *Web) Reply(ctx context.Context, v *console.Viewer, id uint, answer string, expect *string) (*Replied, error) {
	if !v.IsAdmin() {
		return nil, console.ErrNotAllowed
	}
	q, err := h.question(ctx, v.Scope, id)
	if err != nil {
		return nil, err
	}
	if answer, err = checkAnswer(answer); err != nil {
		return nil, err
	}
	if expect != nil && *expect != q.Reply {
		return nil, errAnsweredMeanwhile
	}
	now := h.now().UTC()
	before := *q
	err = h.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		claim := tx.Model(&models.PolicyQuestion{}).Where("id = ? AND state = ?", q.ID, q.State)
		if q.State == models.AskReplied {
			claim = claim.Where("reply = ?", q.Reply) // nobody answered again meanwhile
		}
		res := claim.Updates(map[string]any{"state": models.AskReplied, "reply": answer, "replied_by": v.DisplayName,
			"replied_at": now, "delivery": "正在发送", "updated_at": now})
		if res.Error != nil {
			return fmt.Errorf("policy: reply to question %d: %w", q.ID, res.Error)
		}
		if res.RowsAffected == 0 {
			return errAnsweredMeanwhile
		}
		return h.con.Record(ctx, tx, v, console.Change{
			Action: console.ActionUpdate, Object: ObjectQuestion, ObjectID: q.ID, OrgPath: q.OrgPath,
			Summary: fmt.Sprintf("答复了%s的提问：%s", q.MemberName, clip(oneLine(q.Text), 40)),
			Before:  map[string]any{"state": before.State, "reply": before.Reply, "replied_by": before.RepliedBy},
			After:   map[string]any{"state": models.AskReplied, "reply": answer, "replied_by": v.DisplayName},
		})
	})
	if err != nil {
		return nil, err
	}
	via, delivery := h.deliver(ctx, &q.PolicyQuestion, answer)
	if err := h.db.WithContext(ctx).Model(&models.PolicyQuestion{}).Where("id = ?", q.ID).
		Update("delivery", clip(delivery, 200)).Error; err != nil {
		return nil, fmt.Errorf("policy: record the delivery of question %d: %w", q.ID, err)
	}
	q, err = h.question(ctx, v.Scope, id)
	if err != nil {
		return nil, err
	}
	return &Replied{Question: q, Via: via}, nil
}

// deliver sends the answer to the asker: through the official account (a customer-service message
// inside the 48-hour window, else the template message). A question asked in the mini-program goes
// to the asker's official-account openid when he has one; the mini-program cannot message him
// unprompted. It returns how it went and the line recorded as the question's Delivery.
func (h *Web) deliver(ctx context.Context, q *models.PolicyQuestion, answer string) (via, delivery string) {
	if h.o.Notifier == nil {
		return "", "未发送：没有配置微信消息发送"
	}
	openID := q.OpenID
	if q.Channel != bot.ChannelOA {
		var ms []models.Member
		if err := h.db.WithContext(ctx).Select("id, oa_open_id").Where("id = ?", q.MemberID).Limit(1).Find(&ms).Error; err != nil {
			h.log.ErrorContext(ctx, "policy: the asker's official-account openid", "question", q.ID, "err", err)
			return "", "未送达：查不到提问人的公众号账号，请稍后再答复一次"
		}
		if len(ms) == 0 || ms[0].OAOpenID == nil || *ms[0].OAOpenID == "" {
			return "", "未送达：他是在小程序里提问的，没有绑定公众号，小程序不能主动给他发消息"
		}
		openID = *ms[0].OAOpenID
	}
	res, err := h.o.Notifier.Tell(ctx, openID, notify.Notice{
		Title:  "你的提问有了答复",
		Text:   ReplyText(q.Text, answer, h.o.Signature),
		Kind:   clip("政策问答："+oneLine(q.Text), 20),
		Status: "已答复",
		Remark: clip("答复："+oneLine(answer), 200),
	})
	switch {
	case err == nil && res.Via == notify.ViaTemplate:
		return res.Via, "已通过模板消息送达（他超过 48 小时没有给公众号发消息）"
	case err == nil:
		return res.Via, "已通过公众号消息送达"
	case errors.Is(err, notify.ErrNoWay):
		return "", "未送达：他超过 48 小时没有给公众号发消息，也没有配置模板消息。他下次发消息后可以再答复一次"
	}
	h.log.WarnContext(ctx, "policy: answer not delivered", "question", q.ID, "via", res.Via, "code", res.Code, "err", err)
	switch {
	case res.Code == notify.CodeNotFollowing:
		return "", "未送达：他已取消关注公众号"
	case res.Code != 0 && notify.Permanent(err):
		return "", fmt.Sprintf("未送达：微信拒绝了这条消息（错误码 %d）", res.Code)
	case !notify.NotDelivered(err):
		return "", "不确定是否送达：微信接口没有及时回应，可以稍后再答复一次"
	}
	return "", "未送达：微信接口暂时不可用，请稍后再答复一次"
}

// Delivered reports whether the question's answer reached the asker.
func (r *QuestionRow) Delivered() bool { return strings.HasPrefix(r.Delivery, "已") }
