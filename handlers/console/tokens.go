package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/scope"
)

// Limits of API tokens.
const (
	maxTokensPerAccount = 20
	maxTokenDays        = 3650
	maxTokenName        = 32
)

// tokenView is an API token in a list (never the token itself: only its first characters).
type tokenView struct {
	models.APIToken
	Expired bool
}

// tokenAudit is what the audit log keeps of a token.
type tokenAudit struct {
	Account   string     `json:"account"`
	Name      string     `json:"name"`
	Prefix    string     `json:"prefix"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// tokensOf lists an account's API tokens, newest first.
func (s *Service) tokensOf(ctx context.Context, accountID uint) ([]tokenView, error) {
	var ts []models.APIToken
	if err := s.db.WithContext(ctx).Where("account_id = ?", accountID).Order("created_at DESC, id DESC").Find(&ts).Error; err != nil {
		return nil, fmt.Errorf("console: list API tokens of %d: %w", accountID, err)
	}
	now := s.now()
	out := make([]tokenView, len(ts))
	for i, t := range ts {
		out[i] = tokenView{APIToken: t, Expired: t.ExpiresAt != nil && now.After(*t.ExpiresAt)}
	}
	return out, nil
}

// CreateToken makes a named API token for the viewer's own account, valid for days (0: until revoked),
// and returns it: it is shown once, only its hash is kept.
func (s *Service) CreateToken(ctx context.Context, v *Viewer, name string, days int) (string, *models.APIToken, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", nil, Invalid("name", "请给令牌起个名字，比如「统计脚本」。")
	}
	if utf8.RuneCountInString(name) > maxTokenName {
		return "", nil, Invalid("name", "名字最多 %d 个字。", maxTokenName)
	}
	if days < 0 || days > maxTokenDays {
		return "", nil, Invalid("days", "有效天数填 1 到 %d，或留空表示长期有效。", maxTokenDays)
	}
	var tok string
	var t *models.APIToken
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&models.APIToken{}).Where("account_id = ?", v.AccountID).Count(&n).Error; err != nil {
			return fmt.Errorf("console: count API tokens: %w", err)
		}
		if n >= maxTokensPerAccount {
			return Invalid("name", "最多 %d 个令牌，请先吊销不用的。", maxTokensPerAccount)
		}
		now := s.now()
		tok = apiTokenPrefix + randomToken(32)
		t = &models.APIToken{AccountID: v.AccountID, Name: name, Hash: tokenHash(tok), Prefix: tok[:10], CreatedAt: now}
		if days > 0 {
			exp := now.Add(time.Duration(days) * 24 * time.Hour)
			t.ExpiresAt = &exp
		}
		if err := tx.Omit("Account").Create(t).Error; err != nil {
			return fmt.Errorf("console: create API token: %w", err)
		}
		return s.Record(ctx, tx, v, Change{Action: ActionCreate, Object: "token", ObjectID: t.ID, OrgPath: v.Scope.Path,
			Summary: fmt.Sprintf("%s 新建 API 令牌「%s」", v.Username, name),
			After:   tokenAudit{Account: v.Username, Name: name, Prefix: t.Prefix, ExpiresAt: t.ExpiresAt}})
	})
	if err != nil {
		return "", nil, err
	}
	return tok, t, nil
}

// revokeToken deletes token tokenID of an account (scope.ErrNotFound if the account has no such
// token); calls with it fail from then on.
func (s *Service) revokeToken(ctx context.Context, v *Viewer, accountID, tokenID uint, username, orgPath string) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var t models.APIToken
		err := tx.Where("id = ? AND account_id = ?", tokenID, accountID).Take(&t).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return scope.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("console: load API token %d: %w", tokenID, err)
		}
		if err := tx.Delete(&models.APIToken{}, t.ID).Error; err != nil {
			return fmt.Errorf("console: revoke API token %d: %w", t.ID, err)
		}
		return s.Record(ctx, tx, v, Change{Action: ActionRevoke, Object: "token", ObjectID: t.ID, OrgPath: orgPath,
			Summary: fmt.Sprintf("吊销 %s 的 API 令牌「%s」", username, t.Name),
			Before:  tokenAudit{Account: username, Name: t.Name, Prefix: t.Prefix, ExpiresAt: t.ExpiresAt}})
	})
}

// mePage is /console/me: the viewer's account, the change-password form and his API tokens.
type mePage struct {
	Account  *accountRow
	Tokens   []tokenView
	NewToken string // just made: shown this once
	NewName  string // the create form's values after an error
	NewDays  string
	Err      string
	Field    string
}

func (p mePage) PageError() string { return p.Err }

// renderMe renders /console/me with p's form state.
func (s *Service) renderMe(c *gin.Context, status int, p mePage) {
	v := ViewerOf(c)
	a, err := s.accountRowByID(c.Request.Context(), v, v.AccountID)
	if err != nil {
		s.Fail(c, err)
		return
	}
	if p.Tokens, err = s.tokensOf(c.Request.Context(), v.AccountID); err != nil {
		s.Fail(c, err)
		return
	}
	p.Account = a
	s.Page(c, status, "tokens", "me", "我的账号", p)
}

// formError turns an input error into the page's message and field, or reports false.
func formError(err error, msg, field *string) bool {
	var ie *InputError
	if !errors.As(err, &ie) {
		return false
	}
	*msg, *field = ie.Message, ie.Field
	return true
}

// MePage is GET /console/me.
func (s *Service) MePage(c *gin.Context) { s.renderMe(c, http.StatusOK, mePage{}) }

// CreateTokenSubmit is POST /console/me/tokens: name, days (empty: until revoked).
func (s *Service) CreateTokenSubmit(c *gin.Context) {
	p := mePage{NewName: c.PostForm("name"), NewDays: strings.TrimSpace(c.PostForm("days"))}
	days := 0
	var err error
	if p.NewDays != "" {
		if days, err = strconv.Atoi(p.NewDays); err != nil {
			err = Invalid("days", "有效天数要填数字，或留空表示长期有效。")
		}
	}
	var tok string
	if err == nil {
		tok, _, err = s.CreateToken(c.Request.Context(), ViewerOf(c), p.NewName, days)
	}
	if err != nil {
		if !formError(err, &p.Err, &p.Field) {
			s.Fail(c, err)
			return
		}
		s.renderMe(c, http.StatusBadRequest, p)
		return
	}
	s.renderMe(c, http.StatusOK, mePage{NewToken: tok, NewName: strings.TrimSpace(p.NewName)})
}

// RevokeOwnTokenSubmit is POST /console/me/tokens/:tid/revoke.
func (s *Service) RevokeOwnTokenSubmit(c *gin.Context) {
	v := ViewerOf(c)
	tid, err := pathID(c, "tid")
	if err == nil {
		err = s.revokeToken(c.Request.Context(), v, v.AccountID, tid, v.Username, v.Scope.Path)
	}
	if err != nil {
		s.Fail(c, err)
		return
	}
	s.Redirect(c, "/console/me", "令牌已吊销，用它的程序将无法再访问。")
}

// RevokeAccountTokenSubmit is POST /console/accounts/:id/tokens/:tid/revoke (administrators, for the
// accounts of their scope).
func (s *Service) RevokeAccountTokenSubmit(c *gin.Context) {
	v := ViewerOf(c)
	id, err := pathID(c, "id")
	if err != nil {
		s.Fail(c, err)
		return
	}
	a, err := s.accountRowByID(c.Request.Context(), v, id)
	if err != nil {
		s.Fail(c, err)
		return
	}
	tid, err := pathID(c, "tid")
	if err == nil {
		err = s.revokeToken(c.Request.Context(), v, a.ID, tid, a.Username, a.OrgPath)
	}
	if err != nil {
		s.Fail(c, err)
		return
	}
	s.Redirect(c, fmt.Sprintf("/console/accounts/%d", a.ID), "令牌已吊销。")
}
