package wxxml

import (
	"encoding/xml"
	"testing"

	"github.com/silenceper/wechat/v2/officialaccount/message"

	"github.com/yanzhen/yanzhen/bot"
)

// typicalText is a text message as WeChat pushes it (Tencent's sample layout, with newlines).
const typicalText = `<xml>
<ToUserName><![CDATA[gh_3ad31d3c8d4b]]></ToUserName>
<FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName>
<CreateTime>1409735669</CreateTime>
<MsgType><![CDATA[text]]></MsgType>
<Content><![CDATA[帮助]]></Content>
<MsgId>6054768590064713728</MsgId>
</xml>`

func BenchmarkParseMessage(b *testing.B) {
	body := []byte(typicalText)
	var m bot.Message
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := ParseMessage(body, &m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodingXML(b *testing.B) {
	body := []byte(typicalText)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var m flatMessage
		if err := xml.Unmarshal(body, &m); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSDKMixMessage is what silenceper/wechat's server does with every message.
func BenchmarkSDKMixMessage(b *testing.B) {
	body := []byte(typicalText)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var m message.MixMessage
		if err := xml.Unmarshal(body, &m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseEnvelope(b *testing.B) {
	body := []byte(`<xml><ToUserName><![CDATA[gh_3ad31d3c8d4b]]></ToUserName><Encrypt><![CDATA[hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE=]]></Encrypt></xml>`)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := ParseEnvelope(body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendReply(b *testing.B) {
	r := bot.Text("今日学习：共 5 题，回复 A/B/C/D 作答。")
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendReply(buf[:0], "oyORnuP8q7ou2gfYjqLzSIWZf0rs", "gh_3ad31d3c8d4b", 1409735669, r)
	}
	b.SetBytes(int64(len(buf)))
}

// BenchmarkEncodingXMLReply is the SDK's way to build the same reply (xml.Marshal of message.Text).
func BenchmarkEncodingXMLReply(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		t := message.NewText("今日学习：共 5 题，回复 A/B/C/D 作答。")
		t.SetToUserName("oyORnuP8q7ou2gfYjqLzSIWZf0rs")
		t.SetFromUserName("gh_3ad31d3c8d4b")
		t.SetCreateTime(1409735669)
		t.SetMsgType(message.MsgTypeText)
		if _, err := xml.Marshal(t); err != nil {
			b.Fatal(err)
		}
	}
}
