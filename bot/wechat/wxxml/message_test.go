package wxxml

import (
	"errors"
	"strings"
	"testing"

	"github.com/yanzhen/yanzhen/bot"
)

// head is the start every test message shares.
const head = `<xml><ToUserName><![CDATA[gh_abc]]></ToUserName><FromUserName><![CDATA[oUser1]]></FromUserName><CreateTime>1409735669</CreateTime>`

func msg(rest string) string { return head + rest + `</xml>` }

// base is what head decodes to.
func base(m bot.Message) bot.Message {
	m.AppUser, m.OpenID, m.CreateTime = "gh_abc", "oUser1", 1409735669
	return m
}

func TestParseMessage(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bot.Message
	}{
		{"text", msg(`<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[帮助]]></Content><MsgId>6054768590064713728</MsgId>`),
			base(bot.Message{Kind: bot.KindText, Text: "帮助", MsgID: 6054768590064713728})},
		{"location message", msg(`<MsgType><![CDATA[location]]></MsgType><Location_X>23.134521</Location_X><Location_Y>113.358803</Location_Y><Scale>20</Scale><Label><![CDATA[位置信息]]></Label><MsgId>1234567890123456</MsgId>`),
			base(bot.Message{Kind: bot.KindLocation, Lat: 23.134521, Lng: 113.358803, Precision: 20, Label: "位置信息", MsgID: 1234567890123456})},
		{"subscribe", msg(`<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event>`),
			base(bot.Message{Kind: bot.KindEvent, Event: bot.EventSubscribe})},
		{"subscribe with scene", msg(`<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event><EventKey><![CDATA[qrscene_bind:AB12]]></EventKey><Ticket><![CDATA[TICKET]]></Ticket>`),
			base(bot.Message{Kind: bot.KindEvent, Event: bot.EventSubscribe, EventKey: "bind:AB12"})},
		{"subscribe, EventKey before Event", msg(`<MsgType><![CDATA[event]]></MsgType><EventKey><![CDATA[qrscene_7]]></EventKey><Event><![CDATA[subscribe]]></Event>`),
			base(bot.Message{Kind: bot.KindEvent, Event: bot.EventSubscribe, EventKey: "7"})},
		{"unsubscribe", msg(`<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[unsubscribe]]></Event><EventKey><![CDATA[]]></EventKey>`),
			base(bot.Message{Kind: bot.KindEvent, Event: bot.EventUnsubscribe})},
		{"SCAN keeps its key", msg(`<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[SCAN]]></Event><EventKey><![CDATA[qrscene_x]]></EventKey><Ticket><![CDATA[T]]></Ticket>`),
			base(bot.Message{Kind: bot.KindEvent, Event: bot.EventScan, EventKey: "qrscene_x"})},
		{"LOCATION", msg(`<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[LOCATION]]></Event><Latitude>23.137466</Latitude><Longitude>113.352425</Longitude><Precision>119.385040</Precision>`),
			base(bot.Message{Kind: bot.KindEvent, Event: bot.EventLocation, Lat: 23.137466, Lng: 113.352425, Precision: 119.38504})},
		{"CLICK", msg(`<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[CLICK]]></Event><EventKey><![CDATA[STUDY_TODAY]]></EventKey>`),
			base(bot.Message{Kind: bot.KindEvent, Event: bot.EventClick, EventKey: "STUDY_TODAY"})},
		{"VIEW", msg(`<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[VIEW]]></Event><EventKey><![CDATA[https://example.com/a?b=1&c=2]]></EventKey><MenuId>12</MenuId>`),
			base(bot.Message{Kind: bot.KindEvent, Event: bot.EventView, EventKey: "https://example.com/a?b=1&c=2"})},
		{"MASSSENDJOBFINISH", msg(massJobFinish),
			base(bot.Message{Kind: bot.KindEvent, Event: bot.EventMassSendJobFinish, Mass: bot.MassResult{MsgID: 1000001625,
				Status: "err(30003)", TotalCount: 5, FilterCount: 2, SentCount: 3, ErrorCount: 1}})},
		{"other event", msg(`<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[TEMPLATESENDJOBFINISH]]></Event><MsgID>200163836</MsgID><Status><![CDATA[success]]></Status>`),
			base(bot.Message{Kind: bot.KindEvent, Event: "TEMPLATESENDJOBFINISH"})},
		{"image", msg(`<MsgType><![CDATA[image]]></MsgType><PicUrl><![CDATA[http://x/y.jpg]]></PicUrl><MediaId><![CDATA[media_id]]></MediaId><MsgId>1</MsgId>`),
			base(bot.Message{Kind: bot.KindImage, MediaID: "media_id", MsgID: 1})},
		{"voice", msg(`<MsgType><![CDATA[voice]]></MsgType><MediaId><![CDATA[m]]></MediaId><Format><![CDATA[amr]]></Format><MsgId>2</MsgId>`),
			base(bot.Message{Kind: bot.KindVoice, MediaID: "m", MsgID: 2})},
		{"video", msg(`<MsgType><![CDATA[video]]></MsgType><MediaId><![CDATA[m]]></MediaId><ThumbMediaId><![CDATA[t]]></ThumbMediaId><MsgId>3</MsgId>`),
			base(bot.Message{Kind: bot.KindVideo, MediaID: "m", MsgID: 3})},
		{"shortvideo is video", msg(`<MsgType><![CDATA[shortvideo]]></MsgType><MediaId><![CDATA[m]]></MediaId><MsgId>4</MsgId>`),
			base(bot.Message{Kind: bot.KindVideo, MediaID: "m", MsgID: 4})},
		{"link", msg(`<MsgType><![CDATA[link]]></MsgType><Title><![CDATA[t]]></Title><Url><![CDATA[u]]></Url><MsgId>5</MsgId>`),
			base(bot.Message{Kind: bot.KindLink, MsgID: 5})},
		{"unknown type", msg(`<MsgType><![CDATA[miniprogrampage]]></MsgType><MsgId>6</MsgId>`),
			base(bot.Message{Kind: bot.KindOther, MsgID: 6})},
		{"no MsgType", msg(`<Content>x</Content>`), base(bot.Message{Text: "x"})},
		{"location_select", msg(`<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[location_select]]></Event><EventKey><![CDATA[CHECK_IN]]></EventKey>` +
			`<SendLocationInfo><Location_X><![CDATA[23]]></Location_X><Location_Y><![CDATA[113]]></Location_Y><Scale><![CDATA[15]]></Scale><Label><![CDATA[ 广州市海珠区]]></Label><Poiname><![CDATA[郭沟村委]]></Poiname></SendLocationInfo>`),
			base(bot.Message{Kind: bot.KindEvent, Event: "location_select", EventKey: "CHECK_IN", Lat: 23, Lng: 113, Precision: 15, Label: " 广州市海珠区"})},
		{"SendLocationInfo label falls back to Poiname, and wins over Latitude", msg(`<Latitude>1</Latitude><SendLocationInfo>
			<Location_X>2</Location_X><Poiname>村委</Poiname></SendLocationInfo>`),
			base(bot.Message{Lat: 2, Label: "村委"})},
		{"location message wins over LOCATION fields", msg(`<Location_X>2</Location_X><Latitude>1</Latitude><Longitude>5</Longitude>`),
			base(bot.Message{Lat: 2})},
		{"scancode_push: nested unknown elements are skipped", msg(`<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[scancode_push]]></Event><EventKey><![CDATA[6]]></EventKey>` +
			`<ScanCodeInfo><ScanType><![CDATA[qrcode]]></ScanType><ScanResult><![CDATA[<Content>no</Content>]]></ScanResult></ScanCodeInfo>` +
			`<SendPicsInfo><Count>1</Count><PicList><item><PicMd5Sum><![CDATA[1b5f7c23b5bf75682a53e7b6d163e185]]></PicMd5Sum></item></PicList></SendPicsInfo>`),
			base(bot.Message{Kind: bot.KindEvent, Event: "scancode_push", EventKey: "6"})},
		{"declaration, comments, pretty printing, CRLF", "\ufeff<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<!-- pushed -->\r\n<xml>\r\n  <ToUserName><![CDATA[gh_abc]]></ToUserName>\r\n  <!-- a comment -->\r\n" +
			"  <FromUserName>oUser1</FromUserName>\r\n  <CreateTime> 1409735669 </CreateTime>\r\n  <MsgType><![CDATA[text]]></MsgType>\r\n  <Content><![CDATA[line1\r\nline2\rline3]]></Content>\r\n</xml>\r\n<!-- end -->\n",
			base(bot.Message{Kind: bot.KindText, Text: "line1\nline2\nline3"})},
		{"entities", msg(`<Content>&lt;a&gt; &amp; &quot;b&quot; &apos;c&apos; &#65;&#x4e2D;&#x1F600; &#xD800;</Content>`),
			base(bot.Message{Text: `<a> & "b" 'c' A中😀 ` + "\uFFFD"})},
		{"CDATA split across sections", msg(`<Content><![CDATA[a]]]]><![CDATA[>b]]></Content>`), base(bot.Message{Text: "a]]>b"})},
		{"text and CDATA mixed; comments and children dropped", msg(`<Content> x <![CDATA[&lt;]]><!--c-->&amp;<b>skip</b><?pi x?>z<c/></Content>`),
			base(bot.Message{Text: " x &lt;&z"})},
		{"self-closing and empty elements", msg(`<MsgType/><Content></Content><MsgId/><EventKey />`), base(bot.Message{})},
		{"attributes are ignored", msg(`<Content lang="zh" x='a"b&amp;'>hi</Content>`), base(bot.Message{Text: "hi"})},
		{"last duplicate wins", msg(`<Content>a</Content><Content>b</Content>`), base(bot.Message{Text: "b"})},
		{"end tags with spaces", `<xml ><ToUserName >gh_abc</ToUserName ><FromUserName>oUser1</FromUserName	><CreateTime>1409735669</CreateTime></xml >`, base(bot.Message{})},
		{"empty root", `<xml/>`, bot.Message{}},
		{"character reference CR is kept", msg(`<Content>a&#13;&#10;b&#x0D;</Content>`), base(bot.Message{Text: "a\r\nb\r"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := bot.Message{Channel: bot.ChannelOA, Text: "stale"}
			if err := ParseMessage([]byte(tt.in), &got); err != nil {
				t.Fatalf("ParseMessage: %v", err)
			}
			tt.want.Channel = bot.ChannelOA
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseMessageMalformed(t *testing.T) {
	bad := []struct{ name, in string }{
		{"empty", ""},
		{"white space", "  \n"},
		{"not XML", "hello"},
		{"JSON", `{"MsgType":"text"}`},
		{"other root", `<root><Content>x</Content></root>`},
		{"root with prefix", `<a:xml></a:xml>`},
		{"text before root", `x<xml></xml>`},
		{"text in root", `<xml>hello<Content>x</Content></xml>`},
		{"CDATA in root", `<xml><![CDATA[x]]></xml>`},
		{"content after root", `<xml></xml>x`},
		{"two roots", `<xml></xml><xml></xml>`},
		{"mismatched tags", msg(`<Content>x</Contents>`)},
		{"mismatched nested", msg(`<A><B></A></B>`)},
		{"unclosed", `<xml><Content>x</Content>`},
		{"unclosed child", msg(`<Content>x`)},
		{"non-numeric MsgId", msg(`<MsgId>abc</MsgId>`)},
		{"MsgId overflow", msg(`<MsgId>99999999999999999999</MsgId>`)},
		{"non-numeric CreateTime", `<xml><CreateTime>soon</CreateTime></xml>`},
		{"NaN latitude", msg(`<Latitude>NaN</Latitude>`)},
		{"bad Location_X", msg(`<SendLocationInfo><Location_X>x</Location_X></SendLocationInfo>`)},
		{"unknown entity", msg(`<Content>&nbsp;</Content>`)},
		{"entity without semicolon", msg(`<Content>&amp</Content>`)},
		{"bare ampersand", msg(`<Content>a & b</Content>`)},
		{"reference to NUL", msg(`<Content>&#0;</Content>`)},
		{"reference beyond Unicode", msg(`<Content>&#x110000;</Content>`)},
		{"empty reference", msg(`<Content>&#;</Content>`)},
		{"bad entity in skipped element", msg(`<Foo><Bar>&bogus;</Bar></Foo>`)},
		{"bad entity in attribute", msg(`<Content a="&x;">x</Content>`)},
		{"< in attribute", msg(`<Content a="<">x</Content>`)},
		{"unquoted attribute", msg(`<Content a=1>x</Content>`)},
		{"attribute without value", msg(`<Content a>x</Content>`)},
		{"unterminated CDATA", msg(`<Content><![CDATA[x</Content>`)},
		{"]]> in text", msg(`<Content>a]]>b</Content>`)},
		{"unterminated comment", msg(`<!-- x`)},
		{"-- in comment", msg(`<!-- a -- b -->`)},
		{"DOCTYPE", `<!DOCTYPE xml [<!ENTITY a "b">]><xml></xml>`},
		{"directive in content", msg(`<Content><!ENTITY a "b"></Content>`)},
		{"invalid UTF-8", msg("<Content>\xff</Content>")},
		{"control character", msg("<Content>\x01</Content>")},
		{"U+FFFE", msg("<Content>\uFFFE</Content>")},
		{"bad element name", msg(`<1a>x</1a>`)},
		{"space after <", msg(`< Content>x</Content>`)},
		{"end tag without name", msg(`<Content>x</>`)},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			var m bot.Message
			err := ParseMessage([]byte(tt.in), &m)
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("ParseMessage(%q) = %v, want ErrMalformed", tt.in, err)
			}
		})
	}
}

// Every strict prefix of a message is truncated, hence malformed; the message itself is fine.
func TestParseMessageTruncated(t *testing.T) {
	full := "<?xml version=\"1.0\"?><xml><ToUserName><![CDATA[gh_abc]]></ToUserName><Content a=\"1\">x&amp;y<!-- c --><b/></Content>" +
		"<SendLocationInfo><Label>l</Label></SendLocationInfo><MsgId>1</MsgId></xml>"
	var m bot.Message
	if err := ParseMessage([]byte(full), &m); err != nil {
		t.Fatal(err)
	}
	for i := range len(full) {
		if err := ParseMessage([]byte(full[:i]), &m); !errors.Is(err, ErrMalformed) {
			t.Errorf("prefix %q: err = %v", full[:i], err)
		}
	}
}

func TestParseEnvelope(t *testing.T) {
	for _, tt := range []struct{ name, in, enc, to string }{
		{"safe", `<xml><ToUserName><![CDATA[gh_abc]]></ToUserName><Encrypt><![CDATA[c2VjcmV0+/=]]></Encrypt></xml>`, "c2VjcmV0+/=", "gh_abc"},
		{"compatible", msg(`<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[帮助]]></Content><MsgId>1</MsgId><Encrypt><![CDATA[abc]]></Encrypt>`), "abc", "gh_abc"},
		{"mini-program XML", "<xml>\n<ToUserName><![CDATA[gh_mp]]></ToUserName>\n<Encrypt><![CDATA[abc]]></Encrypt>\n</xml>", "abc", "gh_mp"},
	} {
		enc, to, err := ParseEnvelope([]byte(tt.in))
		if err != nil || enc != tt.enc || to != tt.to {
			t.Errorf("%s: got %q, %q, %v", tt.name, enc, to, err)
		}
	}
	for _, in := range []string{
		`<xml><ToUserName>a</ToUserName></xml>`,
		`<xml><Encrypt></Encrypt></xml>`,
		`<xml><Encrypt>abc</Encrypt>`,
		`<Encrypt>abc</Encrypt>`,
		`<xml><Encrypt>a&b</Encrypt></xml>`,
	} {
		if _, _, err := ParseEnvelope([]byte(in)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseEnvelope(%q) = %v, want ErrMalformed", in, err)
		}
	}
}

func TestParseJSONMessage(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bot.Message
	}{
		{"text", `{"ToUserName":"gh_abc","FromUserName":"oUser1","CreateTime":1409735669,"MsgType":"text","Content":"帮助","MsgId":6054768590064713728}`,
			base(bot.Message{Kind: bot.KindText, Text: "帮助", MsgID: 6054768590064713728})},
		{"numbers as strings", ` {"ToUserName":"gh_abc","FromUserName":"oUser1","CreateTime":"1409735669","MsgType":"text","Content":"x","MsgId":"7"}`,
			base(bot.Message{Kind: bot.KindText, Text: "x", MsgID: 7})},
		{"subscribe", `{"ToUserName":"gh_abc","FromUserName":"oUser1","CreateTime":1409735669,"MsgType":"event","Event":"subscribe","EventKey":"qrscene_bind:X"}`,
			base(bot.Message{Kind: bot.KindEvent, Event: bot.EventSubscribe, EventKey: "bind:X"})},
		{"LOCATION", `{"ToUserName":"gh_abc","FromUserName":"oUser1","CreateTime":1409735669,"MsgType":"event","Event":"LOCATION","Latitude":"23.137466","Longitude":113.352425,"Precision":"119.385040"}`,
			base(bot.Message{Kind: bot.KindEvent, Event: bot.EventLocation, Lat: 23.137466, Lng: 113.352425, Precision: 119.38504})},
		{"location message", `{"ToUserName":"gh_abc","FromUserName":"oUser1","CreateTime":1409735669,"MsgType":"location","Location_X":23.1,"Location_Y":113.2,"Scale":20,"Label":"村","MsgId":9}`,
			base(bot.Message{Kind: bot.KindLocation, Lat: 23.1, Lng: 113.2, Precision: 20, Label: "村", MsgID: 9})},
		{"location_select", `{"ToUserName":"gh_abc","FromUserName":"oUser1","CreateTime":1409735669,"MsgType":"event","Event":"location_select","SendLocationInfo":{"Location_X":"23","Location_Y":"113","Scale":"15","Label":"","Poiname":"村委"}}`,
			base(bot.Message{Kind: bot.KindEvent, Event: "location_select", Lat: 23, Lng: 113, Precision: 15, Label: "村委"})},
		{"image and unknown fields", `{"ToUserName":"gh_abc","FromUserName":"oUser1","CreateTime":1409735669,"MsgType":"image","MediaId":"m","PicUrl":"u","MsgId":1,"Extra":{"a":[1,2]}}`,
			base(bot.Message{Kind: bot.KindImage, MediaID: "m", MsgID: 1})},
		{"miniprogram card", `{"ToUserName":"gh_abc","FromUserName":"oUser1","CreateTime":1409735669,"MsgType":"miniprogrampage","MsgId":2}`,
			base(bot.Message{Kind: bot.KindOther, MsgID: 2})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := bot.Message{Channel: bot.ChannelMP, Text: "stale"}
			if err := ParseJSONMessage([]byte(tt.in), &got); err != nil {
				t.Fatalf("ParseJSONMessage: %v", err)
			}
			tt.want.Channel = bot.ChannelMP
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
	for _, in := range []string{``, `null`, `[]`, `"x"`, `{`, `{"MsgId":"abc"}`, `{"MsgId":1.5}`, `{"CreateTime":true}`, `{"Latitude":"NaN"}`, `{} x`, `<xml></xml>`} {
		var m bot.Message
		if err := ParseJSONMessage([]byte(in), &m); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseJSONMessage(%q) = %v, want ErrMalformed", in, err)
		}
	}
}

func TestParseJSONEnvelope(t *testing.T) {
	enc, to, err := ParseJSONEnvelope([]byte(`{"ToUserName":"gh_mp","Encrypt":"abc+/="}`))
	if err != nil || enc != "abc+/=" || to != "gh_mp" {
		t.Errorf("got %q, %q, %v", enc, to, err)
	}
	for _, in := range []string{`{"ToUserName":"gh_mp"}`, `{"Encrypt":""}`, `{"Encrypt":1}`, `null`, `x`} {
		if _, _, err := ParseJSONEnvelope([]byte(in)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseJSONEnvelope(%q) = %v, want ErrMalformed", in, err)
		}
	}
}

// A value made of one CDATA section or one clean run costs exactly the strings it returns.
func TestParseMessageAllocs(t *testing.T) {
	body := []byte(typicalText)
	var m bot.Message
	allocs := testing.AllocsPerRun(100, func() {
		if err := ParseMessage(body, &m); err != nil {
			t.Fatal(err)
		}
	})
	// ToUserName, FromUserName, Content; MsgType and numbers are free.
	if allocs > 3 {
		t.Errorf("ParseMessage allocates %v times, want <= 3", allocs)
	}
	if !strings.Contains(typicalText, "帮助") {
		t.Fatal("typicalText changed")
	}
}
