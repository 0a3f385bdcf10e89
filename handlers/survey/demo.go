package survey

import (
	"context"
	"fmt"
	"strings"

	"github.com/yanzhen/yanzhen/models"
)

// demoQuestions is the demo county's survey, in the builder's format.
const demoQuestions = `单选* 您对今年村里的道路硬化满意吗？
- 满意
- 一般
- 不满意
多选(1-2) 您最希望先改善哪些方面？[第1题选3]
- 路灯
- 排水
- 绿化
- 道路维护
评分* 给今年的村务公开打个分
数字(0-20) 您家常住几口人？
填空 还有什么建议？`

// LoadDemo adds an open survey for the whole demo county (answer it with 问卷). It does nothing when
// any survey exists or the county is missing.
func (s *Service) LoadDemo(ctx context.Context) error {
	db := s.db.WithContext(ctx)
	var n int64
	if err := db.Model(&models.Survey{}).Count(&n).Error; err != nil || n > 0 {
		return err
	}
	var county models.Org
	if err := db.Where("path = ?", "洪雅县").Take(&county).Error; err != nil {
		return nil
	}
	qs, err := ParseQuestions(demoQuestions)
	if err != nil {
		return fmt.Errorf("survey: demo: %w", err)
	}
	now := s.now()
	sv := models.Survey{Title: "村庄人居环境满意度调查", Intro: "请如实填写，大约两分钟。", OrgID: county.ID, OrgPath: county.Path,
		Status: models.SurveyOpen, Deadline: now.AddDate(0, 0, 14).UTC(), RemindEvery: 3, RemindMax: 2, CreatedBy: "demo",
		OpenedAt: &now, CreatedAt: now, UpdatedAt: now}
	if err := db.Omit("Org", "Questions").Create(&sv).Error; err != nil {
		return fmt.Errorf("survey: demo: %w", err)
	}
	if err := createQuestions(db, sv.ID, qs); err != nil {
		return err
	}
	s.log.InfoContext(ctx, "demo: an open survey for the county (send 问卷 in the chat)", "survey", strings.TrimSpace(sv.Title))
	return nil
}
