package survey

import (
	"errors"
	"time"

	"github.com/yanzhen/yanzhen/internal/linktoken"
)

// The H5 form's link names the survey and the member in a token signed by package linktoken (kind
// Survey): whoever holds the link answers as that member, until it expires.

// Link token errors (linktoken's, under the names this package has always used).
var (
	ErrBadLink     = linktoken.ErrBad
	ErrExpiredLink = linktoken.ErrExpired
)

// LinkKey derives the key that signs the form's links from the official account's secrets (see
// linktoken.Key).
func LinkKey(appSecret, aesKey string) []byte { return linktoken.Key(appSecret, aesKey) }

// Token signs a link token for a member to answer a survey until expires.
func (s *Service) Token(surveyID, memberID uint, expires time.Time) string {
	return s.links.Sign(linktoken.Survey, surveyID, memberID, expires)
}

// LinkFor is the H5 form's address for one member: the notification of a survey carries it, so that
// every recipient opens the form as himself.
func (s *Service) LinkFor(surveyID, memberID uint, expires time.Time) string {
	return s.baseURL + "/s/" + s.Token(surveyID, memberID, expires)
}

// ParseToken checks a link token: ErrBadLink when it is malformed or its signature is wrong,
// ErrExpiredLink (with the ids) when it is genuine but past its expiry.
func (s *Service) ParseToken(tok string) (surveyID, memberID uint, err error) {
	surveyID, memberID, err = s.links.Parse(linktoken.Survey, tok)
	if err != nil && !errors.Is(err, ErrExpiredLink) {
		return 0, 0, err
	}
	return surveyID, memberID, err
}
