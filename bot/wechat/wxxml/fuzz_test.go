package wxxml

import (
	"encoding/xml"
	"regexp"
	"strings"
	"testing"

	"github.com/yanzhen/yanzhen/bot"
)

// flatMessage is what encoding/xml makes of the fields ParseMessage reads. The location fields are
// pointers so that "present" can be told from "zero", as ParseMessage's precedence needs.
type flatMessage struct {
	XMLName          xml.Name `xml:"xml"`
	ToUserName       string
	FromUserName     string
	CreateTime       int64
	MsgType          string
	Content          string
	MsgId            int64 //nolint:revive // WeChat's name
	Event            string
	EventKey         string
	MediaId          string   //nolint:revive // WeChat's name
	LocationX        *float64 `xml:"Location_X"`
	LocationY        *float64 `xml:"Location_Y"`
	Scale            *float64
	Label            string
	Latitude         *float64
	Longitude        *float64
	Precision        *float64
	SendLocationInfo *struct {
		LocationX float64 `xml:"Location_X"`
		LocationY float64 `xml:"Location_Y"`
		Scale     float64
		Label     string
		Poiname   string
	}
	MassMsgID                                      int64 `xml:"MsgID"`
	Status                                         string
	TotalCount, FilterCount, SentCount, ErrorCount int64
}

// toMessage applies ParseMessage's documented mapping to what encoding/xml decoded.
func (f *flatMessage) toMessage() bot.Message {
	m := bot.Message{
		AppUser: f.ToUserName, OpenID: f.FromUserName, CreateTime: f.CreateTime, Kind: kindOf([]byte(f.MsgType)),
		Text: f.Content, MsgID: f.MsgId, Event: f.Event, EventKey: f.EventKey, MediaID: f.MediaId,
	}
	get := func(p *float64) float64 {
		if p == nil {
			return 0
		}
		return *p
	}
	loc := location{label: f.Label}
	if f.LocationX != nil || f.LocationY != nil || f.Scale != nil {
		loc.msg = point{get(f.LocationX), get(f.LocationY), get(f.Scale), true}
	}
	if f.Latitude != nil || f.Longitude != nil || f.Precision != nil {
		loc.event = point{get(f.Latitude), get(f.Longitude), get(f.Precision), true}
	}
	if si := f.SendLocationInfo; si != nil {
		loc.sel = point{si.LocationX, si.LocationY, si.Scale, true}
		loc.selLabel, loc.poiname = si.Label, si.Poiname
	}
	loc.apply(&m)
	if m.Event == bot.EventSubscribe {
		m.EventKey = strings.TrimPrefix(m.EventKey, "qrscene_")
	}
	if m.Event == bot.EventMassSendJobFinish {
		m.Mass = bot.MassResult{MsgID: f.MassMsgID, Status: f.Status, TotalCount: f.TotalCount, FilterCount: f.FilterCount,
			SentCount: f.SentCount, ErrorCount: f.ErrorCount}
	}
	return m
}

// prefixedName finds a tag name with a namespace prefix (a:Content).
var prefixedName = regexp.MustCompile(`</?[^\s/>!?]*:`)

// FuzzParseMessage checks ParseMessage against encoding/xml.
//
// ParseMessage must never panic. When both it and encoding/xml.Unmarshal (into flatMessage, root <xml>)
// accept an input, every field of the resulting bot.Message must agree: the strings AppUser, OpenID,
// Text, Event, EventKey, MediaID, Label and Kind, and the numbers CreateTime, MsgID, Lat, Lng, Precision.
// Both read an element's value as its own text and CDATA joined, entities decoded, \r\n and \r turned
// into \n, child elements and comments dropped; both take the last of repeated elements.
//
// Where they legitimately differ, ParseMessage rejects what encoding/xml accepts, so nothing is
// compared: text or CDATA directly inside <xml>, anything but white space, comments and processing
// instructions before or after the root (encoding/xml ignores what precedes the root and stops reading
// after it), DOCTYPE and other <! declarations, characters XML forbids in comments or processing
// instructions, a root with a namespace prefix, NaN and infinite coordinates. And ParseMessage accepts
// some things encoding/xml rejects: an XML declaration with another encoding or version, processing
// instructions and non-ASCII names that encoding/xml's stricter name rules refuse. The one case both
// accept with different results is a prefixed element name: encoding/xml matches <a:Content> to
// Content by its local name, ParseMessage only the exact name WeChat sends; such inputs are not
// compared.
func FuzzParseMessage(f *testing.F) {
	seeds := []string{
		typicalText,
		msg(`<MsgType><![CDATA[location]]></MsgType><Location_X>23.134521</Location_X><Location_Y>113.358803</Location_Y><Scale>20</Scale><Label><![CDATA[位置]]></Label><MsgId>1</MsgId>`),
		msg(`<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event><EventKey><![CDATA[qrscene_bind:AB]]></EventKey>`),
		msg(`<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[LOCATION]]></Event><Latitude>23.137466</Latitude><Longitude>113.352425</Longitude><Precision>119.385040</Precision>`),
		msg(massJobFinish),
		msg(`<SendLocationInfo><Location_X>23</Location_X><Location_Y>113</Location_Y><Scale>15</Scale><Label>l</Label><Poiname>p</Poiname></SendLocationInfo>`),
		msg(`<ScanCodeInfo><ScanType><![CDATA[qrcode]]></ScanType><ScanResult><![CDATA[1]]></ScanResult></ScanCodeInfo>`),
		msg(`<Content>&lt;&gt;&amp;&quot;&apos;&#65;&#x4e2d;</Content>`),
		msg(`<Content><![CDATA[a]]]]><![CDATA[>b]]></Content>`),
		msg("<Content>a\r\nb<![CDATA[\r]]>&#13;<x>y</x><!--c-->z</Content>"),
		msg(`<Content a="1" b='2'/><MsgId/>`),
		"<?xml version=\"1.0\"?>\n<!-- c -->\n<xml>\n <Content>x</Content>\n</xml>\n",
		`<xml><Encrypt><![CDATA[abc]]></Encrypt></xml>`,
		`<xml></xml>`,
		`<xml/>`,
		`<xml><a:Content>x</a:Content></xml>`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var got bot.Message
		err := ParseMessage(body, &got)
		var flat flatMessage
		if err != nil || xml.Unmarshal(body, &flat) != nil || prefixedName.Match(body) {
			return
		}
		if want := flat.toMessage(); got != want {
			t.Errorf("ParseMessage and encoding/xml disagree on %q:\nwxxml    %+v\nencoding %+v", body, got, want)
		}
		// The envelope parser shares the scanner: it accepts the same documents.
		if _, _, err := ParseEnvelope(body); err != nil && !strings.Contains(err.Error(), "no Encrypt") {
			t.Errorf("ParseEnvelope rejects what ParseMessage accepts: %v", err)
		}
	})
}
