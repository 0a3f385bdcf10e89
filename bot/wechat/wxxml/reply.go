package wxxml

import (
	"strconv"
	"strings"

	"github.com/yanzhen/yanzhen/bot"
)

// MaxArticles is the most articles WeChat accepts in a news reply; AppendReply drops the rest.
const MaxArticles = 8

// AppendReply appends WeChat's passive reply XML for r to dst: toUser is the user's openid (the
// message's FromUserName), fromUser the account (its ToUserName). A news reply becomes a news message;
// anything else a text message. A nil r appends nothing: the caller answers `success`.
func AppendReply(dst []byte, toUser, fromUser string, createTime int64, r *bot.Reply) []byte {
	if r == nil {
		return dst
	}
	dst = append(dst, "<xml><ToUserName>"...)
	dst = AppendCDATA(dst, toUser)
	dst = append(dst, "</ToUserName><FromUserName>"...)
	dst = AppendCDATA(dst, fromUser)
	dst = append(dst, "</FromUserName><CreateTime>"...)
	dst = strconv.AppendInt(dst, createTime, 10)
	if r.Kind != bot.ReplyNews {
		dst = append(dst, "</CreateTime><MsgType><![CDATA[text]]></MsgType><Content>"...)
		dst = AppendCDATA(dst, r.Text)
		return append(dst, "</Content></xml>"...)
	}
	articles := r.Articles[:min(len(r.Articles), MaxArticles)]
	dst = append(dst, "</CreateTime><MsgType><![CDATA[news]]></MsgType><ArticleCount>"...)
	dst = strconv.AppendInt(dst, int64(len(articles)), 10)
	dst = append(dst, "</ArticleCount><Articles>"...)
	for _, a := range articles {
		dst = append(dst, "<item><Title>"...)
		dst = AppendCDATA(dst, a.Title)
		dst = append(dst, "</Title><Description>"...)
		dst = AppendCDATA(dst, a.Description)
		dst = append(dst, "</Description><PicUrl>"...)
		dst = AppendCDATA(dst, a.PicURL)
		dst = append(dst, "</PicUrl><Url>"...)
		dst = AppendCDATA(dst, a.URL)
		dst = append(dst, "</Url></item>"...)
	}
	return append(dst, "</Articles></xml>"...)
}

// AppendEncryptedReply appends the safe-mode reply envelope.
func AppendEncryptedReply(dst []byte, encrypt, msgSignature string, timestamp int64, nonce string) []byte {
	dst = append(dst, "<xml><Encrypt>"...)
	dst = AppendCDATA(dst, encrypt)
	dst = append(dst, "</Encrypt><MsgSignature>"...)
	dst = AppendCDATA(dst, msgSignature)
	dst = append(dst, "</MsgSignature><TimeStamp>"...)
	dst = strconv.AppendInt(dst, timestamp, 10)
	dst = append(dst, "</TimeStamp><Nonce>"...)
	dst = AppendCDATA(dst, nonce)
	return append(dst, "</Nonce></xml>"...)
}

// AppendCDATA appends s as a CDATA section, as WeChat writes string fields. A "]]>" inside s is split
// across two sections, characters XML cannot carry (C0 controls other than tab, CR and LF, U+FFFE,
// U+FFFF) are dropped and invalid UTF-8 becomes U+FFFD, so that the result is always well-formed.
func AppendCDATA(dst []byte, s string) []byte {
	dst = append(dst, "<![CDATA["...)
	if validString(s) >= 0 {
		s = sanitize(s)
	}
	for {
		k := strings.Index(s, "]]>")
		if k < 0 {
			break
		}
		dst = append(dst, s[:k+2]...)
		dst = append(dst, "]]><![CDATA["...)
		s = s[k+2:]
	}
	dst = append(dst, s...)
	return append(dst, "]]>"...)
}

func sanitize(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s { // invalid UTF-8 arrives as U+FFFD
		if isXMLChar(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// ParsedReply is a passive reply as the client side reads it.
type ParsedReply struct {
	ToUserName   string
	FromUserName string
	CreateTime   int64
	MsgType      string
	Content      string        // text replies
	Articles     []bot.Article // news replies
}

// Reply converts a text or news reply back into a bot.Reply (nil for other kinds).
func (p *ParsedReply) Reply() *bot.Reply {
	switch p.MsgType {
	case bot.ReplyText:
		return bot.Text(p.Content)
	case bot.ReplyNews:
		return bot.News(p.Articles...)
	}
	return nil
}

// ParseReply reads a plaintext passive reply (the client side of AppendReply).
func ParseReply(body []byte) (*ParsedReply, error) {
	p := &ParsedReply{}
	s := scanner{b: body}
	for c := s.begin(); s.next(&c); {
		switch string(s.name) {
		case "ToUserName":
			p.ToUserName = s.str()
		case "FromUserName":
			p.FromUserName = s.str()
		case "CreateTime":
			p.CreateTime = s.int()
		case "MsgType":
			p.MsgType = s.str()
		case "Content":
			p.Content = s.str()
		case "Articles":
			for c := s.enter(true); s.next(&c); {
				if string(s.name) != "item" {
					s.skip()
					continue
				}
				var a bot.Article
				for c := s.enter(true); s.next(&c); {
					switch string(s.name) {
					case "Title":
						a.Title = s.str()
					case "Description":
						a.Description = s.str()
					case "PicUrl":
						a.PicURL = s.str()
					case "Url":
						a.URL = s.str()
					default:
						s.skip()
					}
				}
				p.Articles = append(p.Articles, a)
			}
		default:
			s.skip()
		}
	}
	if err := s.end(); err != nil {
		return nil, err
	}
	return p, nil
}

// ParseEncryptedReply reads the safe-mode reply envelope. A missing or empty Encrypt is malformed.
func ParseEncryptedReply(body []byte) (encrypt, msgSignature, timestamp, nonce string, err error) {
	s := scanner{b: body}
	for c := s.begin(); s.next(&c); {
		switch string(s.name) {
		case "Encrypt":
			encrypt = s.str()
		case "MsgSignature":
			msgSignature = s.str()
		case "TimeStamp":
			timestamp = s.str()
		case "Nonce":
			nonce = s.str()
		default:
			s.skip()
		}
	}
	if err := s.end(); err != nil {
		return "", "", "", "", err
	}
	if encrypt == "" {
		return "", "", "", "", malformed(len(body), "no Encrypt")
	}
	return encrypt, msgSignature, timestamp, nonce, nil
}
