package survey

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/handlers/broadcast"
	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/models"
)

// The notice of a survey, as its broadcast carries it. Until the broadcast engine gives each
// recipient his own link (LinkFor), it tells members to answer in the chat, which works for everyone.
const (
	noticeTitle = "问卷调查"
	noticeText  = "📋 请填写问卷《%s》，截止 %s。\n回复「问卷」即可在聊天里填写，几分钟就好。"
)

// noticeOf is the text of a survey's notice (within the broadcast's 600 characters).
func (s *Service) noticeOf(sv *Survey) string {
	title := sv.Title
	if utf8.RuneCountInString(title) > 60 {
		title = string([]rune(title)[:60]) + "…"
	}
	return fmt.Sprintf(noticeText, title, s.deadlineText(sv.Deadline))
}

// Send opens a draft survey and sends it to its audience as a broadcast (Kind survey, Payload
// {"survey_id":N}), which the broadcast engine delivers like a notice, each recipient with his own
// link to the form. It returns the broadcast's id. The broadcast is made by the broadcast service
// (CreateTx: its checks and its audit entry) in the transaction that opens the survey.
func (s *Service) Send(ctx context.Context, v *console.Viewer, id uint) (uint, error) {
	sv, err := s.ForViewer(ctx, v, id)
	if err != nil {
		return 0, err
	}
	if !Manages(v, &sv.Survey) {
		return 0, console.ErrNotAllowed
	}
	now := s.now()
	if sv.Status != models.SurveyDraft {
		return 0, console.Invalid("status", "问卷已经发出了；还没填的人可以用「提醒」再通知一次")
	}
	if !sv.Deadline.After(now) {
		return 0, console.Invalid("deadline", "截止时间已经过去了，请先修改截止时间")
	}
	in := broadcast.NoticeInput{Kind: models.BroadcastSurvey, Payload: payloadOf(sv.ID), OrgIDs: []uint{sv.OrgID},
		Roles: strings.Split(sv.Roles, ","), Title: noticeTitle, Text: s.noticeOf(sv), SendAt: now, Channel: broadcast.ChannelDirect}
	var b *models.Broadcast
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&models.Survey{}).Where("id = ? AND status = ?", id, models.SurveyDraft).
			Updates(map[string]any{"status": models.SurveyOpen, "opened_at": now, "updated_at": now})
		if res.Error != nil {
			return fmt.Errorf("survey: open %d: %w", id, res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrState
		}
		var err error
		if b, err = broadcast.New(s.db, s.log, s.now, s.record).CreateTx(ctx, tx, v, in); err != nil {
			return err
		}
		return s.record(ctx, tx, v, console.Change{Action: console.ActionUpdate, Object: "survey", ObjectID: id, OrgPath: sv.OrgPath,
			Summary: fmt.Sprintf("发布问卷《%s》并群发通知（群发 #%d，%s）", sv.Title, b.ID, sv.Audience()),
			Before:  map[string]any{"status": sv.Status}, After: map[string]any{"status": models.SurveyOpen, "broadcast": b.ID}})
	})
	if err != nil {
		return 0, err
	}
	return b.ID, nil
}

// PersonalLinks gives the broadcast engine, for a survey's broadcast, each recipient's own signed link
// to the H5 form (valid until the survey's deadline); nil when the server's public address is not
// configured (the notice's 「问卷」 in the chat works for everyone) or the broadcast is no survey's.
func (s *Service) PersonalLinks(ctx context.Context, kind, payload string) (func(memberID uint) string, error) {
	if kind != models.BroadcastSurvey || s.baseURL == "" {
		return nil, nil
	}
	var p struct {
		SurveyID uint `json:"survey_id"`
	}
	if err := json.Unmarshal([]byte(payload), &p); err != nil || p.SurveyID == 0 {
		return nil, fmt.Errorf("survey: broadcast payload %q: not a survey's", payload)
	}
	var sv models.Survey
	if err := s.db.WithContext(ctx).Select("id, deadline").Take(&sv, p.SurveyID).Error; err != nil {
		return nil, fmt.Errorf("survey: survey %d of a broadcast: %w", p.SurveyID, err)
	}
	return func(memberID uint) string { return s.LinkFor(sv.ID, memberID, sv.Deadline) }, nil
}
