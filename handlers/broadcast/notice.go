package broadcast

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/internal/linktoken"
	"github.com/yanzhen/yanzhen/models"
)

// A notice's page (/n/TOKEN): every recipient's message links to his own copy, signed for him
// (linktoken, kind Notice), which shows the notice's text, its time and sender, and the notice's own
// link as 查看原文. Opening it is how the console learns that he read it (Mark).

// NoticeLinkLife is how long a notice's links open its page.
const NoticeLinkLife = 90 * 24 * time.Hour

// noticeLinks signs the notices' links; zero: notices carry no personal link (and nobody is seen
// reading them).
type noticeLinks struct {
	signer  *linktoken.Signer
	baseURL string
}

func (n noticeLinks) on() bool { return n.signer != nil && n.baseURL != "" }

// UseNoticeLinks gives every notice's recipient his own link to the notice's page, signed with key,
// under baseURL (the server's public address; "" leaves notices without one: a relative link is no use
// in a WeChat message). The server wiring calls it once, before the engine runs.
func (s *Service) UseNoticeLinks(key []byte, baseURL string) {
	s.notes = noticeLinks{signer: linktoken.New(key, s.now), baseURL: strings.TrimRight(baseURL, "/")}
}

// TracksReads reports whether notices carry personal links, so that who read them is known.
func (s *Service) TracksReads() bool { return s.notes.on() }

// NoticeLinks is the engine's PersonalLinks for notices: each recipient of notice id gets his own link
// to its page, valid for NoticeLinkLife; nil for other kinds or without links configured.
func (s *Service) NoticeLinks(_ context.Context, id uint, kind, _ string) (func(memberID uint) string, error) {
	if kind != models.BroadcastNotice || !s.notes.on() {
		return nil, nil
	}
	expires := s.now().Add(NoticeLinkLife)
	return func(memberID uint) string { return s.NoticeLink(id, memberID, expires) }, nil
}

// NoticeLink is member memberID's address of notice id's page.
func (s *Service) NoticeLink(id, memberID uint, expires time.Time) string {
	if s.notes.signer == nil {
		return ""
	}
	return s.notes.baseURL + "/n/" + s.notes.signer.Sign(linktoken.Notice, id, memberID, expires)
}

// noticePage is the data of the notice page's template.
type noticePage struct {
	Title   string
	Text    string
	Time    string
	Sender  string
	Link    string // 查看原文
	Message string // a whole-page message instead of the notice (invalid or expired link)
}

// renderNotice writes the notice page.
func (h *Web) renderNotice(c *gin.Context, status int, p noticePage) {
	var buf bytes.Buffer
	if err := h.con.Renderer().Block(&buf, "notice_page", "notice_h5", p); err != nil {
		h.s.log.ErrorContext(c.Request.Context(), "broadcast: render the notice page", "err", err)
		c.String(http.StatusInternalServerError, "出错了，请稍后再试。")
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Header("X-Frame-Options", "DENY")
	c.Header("Referrer-Policy", "no-referrer") // 查看原文 must not carry the token to another site
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// NoticePage is GET /n/:token, public: the notice as its recipient reads it. The first opening marks
// him read (of a reminder: of the notice too).
func (h *Web) NoticePage(c *gin.Context) {
	id, member, err := h.s.notes.signer.Parse(linktoken.Notice, c.Param("token"))
	switch {
	case errors.Is(err, linktoken.ErrExpired):
		h.renderNotice(c, http.StatusGone, noticePage{Title: "链接已过期", Message: "这个链接已经过期了。通知的内容请看公众号里的消息。"})
		return
	case err != nil:
		h.renderNotice(c, http.StatusForbidden, noticePage{Title: "链接无效", Message: "这个链接无效。请从公众号的通知消息里重新打开。"})
		return
	}
	ctx := c.Request.Context()
	db := h.s.db.WithContext(ctx)
	var b models.Broadcast
	err = db.Select("id, kind, title, text, link, payload, org_path, send_at, started_at, created_by_id").
		Where("id = ? AND kind = ?", id, models.BroadcastNotice).Take(&b).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		h.renderNotice(c, http.StatusNotFound, noticePage{Title: "找不到通知", Message: "这条通知找不到了。"})
		return
	}
	if err != nil {
		h.s.log.ErrorContext(ctx, "broadcast: notice page", "broadcast", id, "err", err)
		h.renderNotice(c, http.StatusInternalServerError, noticePage{Title: "出错了", Message: "出错了，请稍后再试。"})
		return
	}
	ids := []uint{b.ID}
	shown := &b
	if of := remindOf(&b); of != 0 { // a reminder shows the notice it reminds of
		ids = append(ids, of)
		var orig models.Broadcast
		if db.Select("id, kind, title, text, link, payload, org_path, send_at, started_at, created_by_id").Take(&orig, of).Error == nil {
			shown = &orig
		}
	}
	if _, err := Mark(ctx, h.s.db, h.s.now(), member, ids, false); err != nil {
		h.s.log.WarnContext(ctx, "broadcast: notice not marked read", "broadcast", id, "member", member, "err", err)
	}
	p := noticePage{Title: shown.Title, Text: shown.Text, Link: shown.Link, Sender: h.senderOf(ctx, shown)}
	if p.Title == "" {
		p.Title = "通知"
	}
	at := shown.SendAt
	if shown.StartedAt != nil {
		at = *shown.StartedAt
	}
	p.Time = at.In(h.con.Location()).Format("2006-01-02 15:04")
	h.renderNotice(c, http.StatusOK, p)
}

// senderOf is who sent a notice, as members read it: the org of its audience and the administrator's
// name ("花溪镇 · 张三").
func (h *Web) senderOf(ctx context.Context, b *models.Broadcast) string {
	org := b.OrgPath[strings.LastIndexByte(b.OrgPath, '/')+1:]
	if org == "" {
		org = "党组织"
	}
	if b.CreatedByID == nil {
		return org
	}
	var names []string
	h.s.db.WithContext(ctx).Model(&models.Account{}).Where("id = ?", *b.CreatedByID).Limit(1).Pluck("display_name", &names)
	if len(names) == 0 || strings.TrimSpace(names[0]) == "" {
		return org
	}
	return org + " · " + names[0]
}
