package survey

import (
	"context"

	"github.com/yanzhen/yanzhen/handlers/broadcast"
	"github.com/yanzhen/yanzhen/models"
)

// seen records, on the broadcasts that carried survey id to member memberID, that he opened it (read:
// the form, the survey in the chat or the mini-program) and, with answered, that he answered it (which
// counts as read too). Best effort: the figures of the broadcast are not worth failing his page for.
func (s *Service) seen(ctx context.Context, surveyID, memberID uint, answered bool) {
	carried := s.db.Model(&models.Broadcast{}).Select("id").Where("kind = ? AND payload = ?", models.BroadcastSurvey, payloadOf(surveyID))
	if _, err := broadcast.Mark(ctx, s.db, s.now(), memberID, carried, answered); err != nil {
		s.log.WarnContext(ctx, "survey: deliveries not marked read", "survey", surveyID, "member", memberID, "err", err)
	}
}
