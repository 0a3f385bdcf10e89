// Package wxxml is the webhook's codec for WeChat's push XML (and the mini-program's JSON): a
// hand-rolled scanner for the flat <xml> documents WeChat sends, and append-style encoders for the
// passive replies. It is several times faster than encoding/xml and allocates only the strings it
// returns.
package wxxml

import (
	"bytes"
	"math"
	"strconv"
	"strings"

	"github.com/yanzhen/yanzhen/bot"
)

// ParseMessage decodes a plaintext WeChat push (message or event) into m. m.Channel is kept; every
// other field is reset. Unknown elements are skipped; SendLocationInfo (location_select events) is
// read for its coordinates. Where several sources of a location are present, SendLocationInfo wins
// over Location_X/Location_Y/Scale, which win over Latitude/Longitude/Precision. An element that
// appears twice counts once, the last. A missing or empty MsgType leaves m.Kind empty. A
// MASSSENDJOBFINISH event's MsgID, Status and counts go to m.Mass (other events' are skipped).
func ParseMessage(body []byte, m *bot.Message) error {
	*m = bot.Message{Channel: m.Channel}
	var loc location
	var mass bot.MassResult
	s := scanner{b: body}
	for c := s.begin(); s.next(&c); {
		switch string(s.name) {
		case "ToUserName":
			m.AppUser = s.str()
		case "FromUserName":
			m.OpenID = s.str()
		case "CreateTime":
			m.CreateTime = s.int()
		case "MsgType":
			m.Kind = kindOf(s.text())
		case "Content":
			m.Text = s.str()
		case "MsgId":
			m.MsgID = s.int()
		case "Event":
			m.Event = eventName(s.text())
		case "EventKey":
			m.EventKey = s.str()
		case "MediaId":
			m.MediaID = s.str()
		case "MsgID":
			mass.MsgID = s.int()
		case "Status":
			mass.Status = s.str()
		case "TotalCount":
			mass.TotalCount = s.int()
		case "FilterCount":
			mass.FilterCount = s.int()
		case "SentCount":
			mass.SentCount = s.int()
		case "ErrorCount":
			mass.ErrorCount = s.int()
		case "Location_X":
			loc.msg.lat, loc.msg.set = s.float(), true
		case "Location_Y":
			loc.msg.lng, loc.msg.set = s.float(), true
		case "Scale":
			loc.msg.prec, loc.msg.set = s.float(), true
		case "Label":
			loc.label = s.str()
		case "Latitude":
			loc.event.lat, loc.event.set = s.float(), true
		case "Longitude":
			loc.event.lng, loc.event.set = s.float(), true
		case "Precision":
			loc.event.prec, loc.event.set = s.float(), true
		case "SendLocationInfo":
			loc.sel.set = true
			for c := s.enter(true); s.next(&c); {
				switch string(s.name) {
				case "Location_X":
					loc.sel.lat = s.float()
				case "Location_Y":
					loc.sel.lng = s.float()
				case "Scale":
					loc.sel.prec = s.float()
				case "Label":
					loc.selLabel = s.str()
				case "Poiname":
					loc.poiname = s.str()
				default:
					s.skip()
				}
			}
		default:
			s.skip()
		}
	}
	if err := s.end(); err != nil {
		return err
	}
	loc.apply(m)
	if m.Event == bot.EventSubscribe {
		m.EventKey = strings.TrimPrefix(m.EventKey, "qrscene_")
	}
	if m.Event == bot.EventMassSendJobFinish {
		m.Mass = mass
	}
	return nil
}

// ParseEnvelope reads the Encrypt field (and ToUserName) of a safe- or compatible-mode body; the
// plaintext fields of compatible mode are checked and skipped. A missing or empty Encrypt is malformed.
func ParseEnvelope(body []byte) (encrypt, toUser string, err error) {
	s := scanner{b: body}
	for c := s.begin(); s.next(&c); {
		switch string(s.name) {
		case "Encrypt":
			encrypt = s.str()
		case "ToUserName":
			toUser = s.str()
		default:
			s.skip()
		}
	}
	if err := s.end(); err != nil {
		return "", "", err
	}
	if encrypt == "" {
		return "", "", malformed(len(body), "no Encrypt")
	}
	return encrypt, toUser, nil
}

// location collects the three ways WeChat reports a place, resolved by apply.
type location struct {
	msg, event, sel   point
	label             string // location message
	selLabel, poiname string // SendLocationInfo
}

type point struct {
	lat, lng, prec float64
	set            bool
}

func (l *location) apply(m *bot.Message) {
	p := l.event
	if l.msg.set {
		p = l.msg
	}
	if l.sel.set {
		p = l.sel
	}
	m.Lat, m.Lng, m.Precision = p.lat, p.lng, p.prec
	switch {
	case l.selLabel != "":
		m.Label = l.selLabel
	case l.poiname != "":
		m.Label = l.poiname
	default:
		m.Label = l.label
	}
}

// kindOf maps WeChat's MsgType to a bot kind.
func kindOf(msgType []byte) string {
	switch string(msgType) {
	case "":
		return ""
	case "text":
		return bot.KindText
	case "event":
		return bot.KindEvent
	case "location":
		return bot.KindLocation
	case "image":
		return bot.KindImage
	case "voice":
		return bot.KindVoice
	case "video", "shortvideo":
		return bot.KindVideo
	case "link":
		return bot.KindLink
	}
	return bot.KindOther
}

// eventName returns the event as a string, without allocating for the events the router knows.
func eventName(v []byte) string {
	switch string(v) {
	case bot.EventSubscribe:
		return bot.EventSubscribe
	case bot.EventUnsubscribe:
		return bot.EventUnsubscribe
	case bot.EventScan:
		return bot.EventScan
	case bot.EventLocation:
		return bot.EventLocation
	case bot.EventClick:
		return bot.EventClick
	case bot.EventView:
		return bot.EventView
	}
	return string(v)
}

func (s *scanner) str() string { return string(s.text()) }

// int reads an integer field; like encoding/xml it trims white space and reads an empty one as 0.
func (s *scanner) int() int64 {
	v := s.text()
	if s.err != nil {
		return 0
	}
	n, ok := parseInt(v)
	if !ok {
		s.setFail("not an integer")
	}
	return n
}

// float reads a number field; empty is 0; NaN and infinities are malformed.
func (s *scanner) float() float64 {
	v := s.text()
	if s.err != nil {
		return 0
	}
	f, ok := parseFloat(v)
	if !ok {
		s.setFail("not a number")
	}
	return f
}

func parseInt(v []byte) (int64, bool) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return 0, true
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	return n, err == nil
}

func parseFloat(v []byte) (float64, bool) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return 0, true
	}
	f, err := strconv.ParseFloat(string(v), 64)
	return f, err == nil && !math.IsInf(f, 0) && !math.IsNaN(f)
}
