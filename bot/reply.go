package bot

import "encoding/json"

// Reply kinds.
const (
	ReplyText = "text"
	ReplyNews = "news"
)

// Article is one item of a news (图文) reply.
type Article struct {
	Title       string `json:"t"`
	Description string `json:"d,omitempty"`
	PicURL      string `json:"p,omitempty"`
	URL         string `json:"u,omitempty"`
}

// Reply is what the bot answers. A nil *Reply means "no answer" (WeChat is told `success`).
type Reply struct {
	Kind     string    `json:"k"`
	Text     string    `json:"x,omitempty"`
	Articles []Article `json:"a,omitempty"`
}

// Text makes a text reply.
func Text(s string) *Reply { return &Reply{Kind: ReplyText, Text: s} }

// News makes a news reply (WeChat shows at most 8 articles; 1 in recent clients).
func News(a ...Article) *Reply { return &Reply{Kind: ReplyNews, Articles: a} }

// marshal / unmarshalReply give a compact form for the dedup record, so retries get the same reply.
func (r *Reply) marshal() string {
	if r == nil {
		return ""
	}
	if r.Kind == ReplyText {
		return "t" + r.Text
	}
	b, _ := json.Marshal(r)
	return "j" + string(b)
}

func unmarshalReply(s string) *Reply {
	switch {
	case s == "":
		return nil
	case s[0] == 't':
		return Text(s[1:])
	case s[0] == 'j':
		var r Reply
		if json.Unmarshal([]byte(s[1:]), &r) == nil {
			return &r
		}
	}
	return nil
}
