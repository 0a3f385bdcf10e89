package wxxml

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/yanzhen/yanzhen/bot"
)

func TestAppendReplyText(t *testing.T) {
	got := string(AppendReply([]byte("prefix:"), "oUser1", "gh_abc", 1409735669, bot.Text("你好]]>再见")))
	want := "prefix:<xml><ToUserName><![CDATA[oUser1]]></ToUserName><FromUserName><![CDATA[gh_abc]]></FromUserName>" +
		"<CreateTime>1409735669</CreateTime><MsgType><![CDATA[text]]></MsgType>" +
		"<Content><![CDATA[你好]]]]><![CDATA[>再见]]></Content></xml>"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if got := AppendReply(nil, "a", "b", 1, nil); got != nil {
		t.Errorf("nil reply appended %q", got)
	}
}

func TestAppendReplyNews(t *testing.T) {
	got := string(AppendReply(nil, "oUser1", "gh_abc", 7, bot.News(
		bot.Article{Title: "今日学习", Description: "d", PicURL: "https://x/p.png", URL: "https://x/?a=1&b=2"},
		bot.Article{Title: "t2"},
	)))
	want := "<xml><ToUserName><![CDATA[oUser1]]></ToUserName><FromUserName><![CDATA[gh_abc]]></FromUserName>" +
		"<CreateTime>7</CreateTime><MsgType><![CDATA[news]]></MsgType><ArticleCount>2</ArticleCount><Articles>" +
		"<item><Title><![CDATA[今日学习]]></Title><Description><![CDATA[d]]></Description><PicUrl><![CDATA[https://x/p.png]]></PicUrl><Url><![CDATA[https://x/?a=1&b=2]]></Url></item>" +
		"<item><Title><![CDATA[t2]]></Title><Description><![CDATA[]]></Description><PicUrl><![CDATA[]]></PicUrl><Url><![CDATA[]]></Url></item>" +
		"</Articles></xml>"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	many := make([]bot.Article, 10)
	p, err := ParseReply(AppendReply(nil, "a", "b", 1, bot.News(many...)))
	if err != nil || len(p.Articles) != MaxArticles {
		t.Errorf("10 articles: got %d, %v", len(p.Articles), err)
	}
}

func TestReplyRoundTrip(t *testing.T) {
	texts := []string{
		"", "帮助", "]]>", "]]]]>>", "a]]>b]]>c", "]", "]]", "<xml>&amp;</xml>", "line1\nline2", "tab\there",
		"emoji 😀", "ctl\x01\x00dropped", "bad utf8 \xff", "\uFFFE\uFFFF", "]]\x01>", strings.Repeat("长", 2000),
	}
	clean := func(s string) string {
		return strings.NewReplacer("\x01", "", "\x00", "", "\xff", "\uFFFD", "\uFFFE", "", "\uFFFF", "").Replace(s)
	}
	for _, text := range texts {
		for _, r := range []*bot.Reply{bot.Text(text), bot.News(bot.Article{Title: text, Description: text, PicURL: text, URL: text})} {
			body := AppendReply(nil, "o"+text, "gh"+text, 1409735669, r)
			p, err := ParseReply(body)
			if err != nil {
				t.Fatalf("ParseReply(%q): %v", body, err)
			}
			want := &ParsedReply{ToUserName: clean("o" + text), FromUserName: clean("gh" + text), CreateTime: 1409735669, MsgType: r.Kind}
			if r.Kind == bot.ReplyText {
				want.Content = clean(text)
			} else {
				c := clean(text)
				want.Articles = []bot.Article{{Title: c, Description: c, PicURL: c, URL: c}}
			}
			if !reflect.DeepEqual(p, want) {
				t.Errorf("round trip of %q:\ngot  %+v\nwant %+v", text, p, want)
			}
			if back := p.Reply(); r.Kind == bot.ReplyText && back.Text != want.Content {
				t.Errorf("Reply() = %+v", back)
			}
		}
	}
}

func TestEncryptedReplyRoundTrip(t *testing.T) {
	body := AppendEncryptedReply(nil, "abc+/=", "5d197aaffba7e9b25a30732f161a50dee96bd5fa", 1409735669, "1320562132")
	want := "<xml><Encrypt><![CDATA[abc+/=]]></Encrypt><MsgSignature><![CDATA[5d197aaffba7e9b25a30732f161a50dee96bd5fa]]></MsgSignature>" +
		"<TimeStamp>1409735669</TimeStamp><Nonce><![CDATA[1320562132]]></Nonce></xml>"
	if string(body) != want {
		t.Errorf("got\n%s\nwant\n%s", body, want)
	}
	enc, sig, ts, nonce, err := ParseEncryptedReply(body)
	if err != nil || enc != "abc+/=" || sig != "5d197aaffba7e9b25a30732f161a50dee96bd5fa" || ts != "1409735669" || nonce != "1320562132" {
		t.Errorf("got %q %q %q %q %v", enc, sig, ts, nonce, err)
	}
	if _, _, _, _, err := ParseEncryptedReply([]byte(`<xml><MsgSignature>x</MsgSignature></xml>`)); !errors.Is(err, ErrMalformed) {
		t.Errorf("missing Encrypt: %v", err)
	}
}

func TestParseReplyMalformed(t *testing.T) {
	for _, in := range []string{"", "success", `<xml><Content>x</xml>`, `<xml><CreateTime>x</CreateTime></xml>`, `<xml><Articles><item><Title>x</item></Articles></xml>`} {
		if _, err := ParseReply([]byte(in)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseReply(%q) = %v, want ErrMalformed", in, err)
		}
	}
}

// FuzzAppendReply: whatever the text, the reply is well-formed and carries the text (minus what XML
// cannot carry) back.
func FuzzAppendReply(f *testing.F) {
	for _, s := range []string{"", "帮助", "]]>", "a]]]>>b", "\x00]]\x01>", "\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		body := AppendReply(nil, "o", "gh", 1, bot.Text(s))
		p, err := ParseReply(body)
		if err != nil {
			t.Fatalf("ParseReply(%q): %v", body, err)
		}
		want := strings.ReplaceAll(strings.ReplaceAll(sanitize(s), "\r\n", "\n"), "\r", "\n")
		if p.Content != want {
			t.Errorf("Content = %q, want %q", p.Content, want)
		}
	})
}
