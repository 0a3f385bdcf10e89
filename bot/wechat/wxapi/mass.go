package wxapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/yanzhen/yanzhen/bot"
)

// User tags and mass sends (群发) of the official account: a broadcast to a very large audience tags
// its recipients and sends one message to the tag. WeChat's limits: 100 tags per account (45056),
// unique names (45157) of at most 30 bytes (45158), 50 openids per batchtagging call (40032), 20 tags
// per user (45059), a tag of more than 100,000 users cannot be deleted before some are untagged
// (45057); a follower of a service account receives at most 4 mass messages a month (WeChat filters
// the others: MASSSENDJOBFINISH's FilterCount), and a clientmsgid already used answers 45065 instead
// of sending again.
const (
	APITagsCreate     = "/cgi-bin/tags/create"
	APITagsGet        = "/cgi-bin/tags/get"
	APITagsDelete     = "/cgi-bin/tags/delete"
	APIBatchTagging   = "/cgi-bin/tags/members/batchtagging"
	APIBatchUntagging = "/cgi-bin/tags/members/batchuntagging"
	APIMassSendAll    = "/cgi-bin/message/mass/sendall"
)

// MaxTagBatch is the most openids one batchtagging (or batchuntagging) call takes.
const MaxTagBatch = 50

// Codes of the tag and mass-send APIs.
const (
	CodeTagNameExists = 45157
	CodeTooManyTags   = 45056
	CodeTagTooBig     = 45057 // more than 100,000 users: untag some before deleting
	CodeMassSentOnce  = 45065 // the clientmsgid was used: that mass send went already
)

type tagBody struct {
	Tag struct {
		ID   int64  `json:"id,omitempty"`
		Name string `json:"name,omitempty"`
	} `json:"tag"`
}

// CreateTag makes a user tag on the official account and returns its id.
func (c *Client) CreateTag(ctx context.Context, name string) (int64, error) {
	var in, out tagBody
	in.Tag.Name = name
	if err := c.Post(ctx, bot.ChannelOA, APITagsCreate, in, &out); err != nil {
		return 0, err
	}
	if out.Tag.ID == 0 {
		return 0, &TransportError{API: APITagsCreate, Err: errors.New("answer has no tag id")}
	}
	return out.Tag.ID, nil
}

// TagID finds the official account's tag with this name (false: there is none).
func (c *Client) TagID(ctx context.Context, name string) (int64, bool, error) {
	ts := c.Tokens(bot.ChannelOA)
	if ts == nil {
		return 0, false, fmt.Errorf("wxapi: channel %q is not configured", bot.ChannelOA)
	}
	var out struct {
		Tags []struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
		} `json:"tags"`
	}
	for attempt := 0; ; attempt++ { // as Post, for a GET
		tok, err := ts.Token(ctx)
		if err != nil {
			return 0, false, err
		}
		err = c.do(ctx, http.MethodGet, APITagsGet, url.Values{"access_token": {tok}}, nil, &out)
		if err == nil {
			break
		}
		if attempt > 0 || Classify(err) != TokenInvalid {
			return 0, false, err
		}
		if ierr := ts.invalidateIf(ctx, tok); ierr != nil {
			return 0, false, errors.Join(err, ierr)
		}
	}
	for _, t := range out.Tags {
		if t.Name == name {
			return t.ID, true, nil
		}
	}
	return 0, false, nil
}

// DeleteTag deletes a user tag (45057 when it holds more than 100,000 users: untag some first).
func (c *Client) DeleteTag(ctx context.Context, tagID int64) error {
	var in tagBody
	in.Tag.ID = tagID
	return c.Post(ctx, bot.ChannelOA, APITagsDelete, in, nil)
}

type tagging struct {
	OpenIDs []string `json:"openid_list"`
	TagID   int64    `json:"tagid"`
}

// TagUsers tags up to MaxTagBatch users (tagging one twice is harmless).
func (c *Client) TagUsers(ctx context.Context, tagID int64, openIDs []string) error {
	if len(openIDs) == 0 || len(openIDs) > MaxTagBatch {
		return fmt.Errorf("wxapi: batchtagging takes 1-%d openids (not %d)", MaxTagBatch, len(openIDs))
	}
	return c.Post(ctx, bot.ChannelOA, APIBatchTagging, tagging{openIDs, tagID}, nil)
}

// UntagUsers takes the tag off up to MaxTagBatch users.
func (c *Client) UntagUsers(ctx context.Context, tagID int64, openIDs []string) error {
	if len(openIDs) == 0 || len(openIDs) > MaxTagBatch {
		return fmt.Errorf("wxapi: batchuntagging takes 1-%d openids (not %d)", MaxTagBatch, len(openIDs))
	}
	return c.Post(ctx, bot.ChannelOA, APIBatchUntagging, tagging{openIDs, tagID}, nil)
}

// SendTextToTag mass-sends a text to the users with a tag and returns WeChat's msg_id, which its
// MASSSENDJOBFINISH event names. clientMsgID (at most 64 bytes) makes it idempotent: sent again with
// the same one, WeChat answers 45065 (CodeMassSentOnce) and sends nothing.
func (c *Client) SendTextToTag(ctx context.Context, tagID int64, text, clientMsgID string) (msgID int64, err error) {
	body := struct {
		Filter struct {
			IsToAll bool  `json:"is_to_all"`
			TagID   int64 `json:"tag_id"`
		} `json:"filter"`
		Text        customText `json:"text"`
		MsgType     string     `json:"msgtype"`
		ClientMsgID string     `json:"clientmsgid,omitempty"`
	}{Text: customText{text}, MsgType: "text", ClientMsgID: clientMsgID}
	body.Filter.TagID = tagID
	var out struct {
		MsgID int64 `json:"msg_id"`
	}
	if err := c.Post(ctx, bot.ChannelOA, APIMassSendAll, body, &out); err != nil {
		return 0, err
	}
	return out.MsgID, nil
}
