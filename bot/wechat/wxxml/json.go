package wxxml

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/yanzhen/yanzhen/bot"
)

// jsonMessage is the mini-program's JSON push: WeChat's XML field names as keys.
type jsonMessage struct {
	ToUserName       string
	FromUserName     string
	CreateTime       jsonInt
	MsgType          string
	Content          string
	MsgId            jsonInt //nolint:revive // WeChat's name
	Event            string
	EventKey         string
	MediaId          string     //nolint:revive // WeChat's name
	LocationX        *jsonFloat `json:"Location_X"`
	LocationY        *jsonFloat `json:"Location_Y"`
	Scale            *jsonFloat
	Label            string
	Latitude         *jsonFloat
	Longitude        *jsonFloat
	Precision        *jsonFloat
	SendLocationInfo *struct {
		LocationX jsonFloat `json:"Location_X"`
		LocationY jsonFloat `json:"Location_Y"`
		Scale     jsonFloat
		Label     string
		Poiname   string
	}
}

// ParseJSONMessage decodes a plaintext mini-program push in JSON into m, with the same field mapping
// as ParseMessage. Numbers may also come as strings ("23.1"), as WeChat sends some of them.
func ParseJSONMessage(body []byte, m *bot.Message) error {
	var j jsonMessage
	if err := decodeJSON(body, &j); err != nil {
		return err
	}
	*m = bot.Message{
		Channel:    m.Channel,
		AppUser:    j.ToUserName,
		OpenID:     j.FromUserName,
		CreateTime: int64(j.CreateTime),
		Kind:       kindOf([]byte(j.MsgType)),
		Text:       j.Content,
		MsgID:      int64(j.MsgId),
		Event:      j.Event,
		EventKey:   j.EventKey,
		MediaID:    j.MediaId,
	}
	loc := location{label: j.Label}
	if j.LocationX != nil || j.LocationY != nil || j.Scale != nil {
		loc.msg = point{lat: j.LocationX.get(), lng: j.LocationY.get(), prec: j.Scale.get(), set: true}
	}
	if j.Latitude != nil || j.Longitude != nil || j.Precision != nil {
		loc.event = point{lat: j.Latitude.get(), lng: j.Longitude.get(), prec: j.Precision.get(), set: true}
	}
	if si := j.SendLocationInfo; si != nil {
		loc.sel = point{lat: float64(si.LocationX), lng: float64(si.LocationY), prec: float64(si.Scale), set: true}
		loc.selLabel, loc.poiname = si.Label, si.Poiname
	}
	loc.apply(m)
	if m.Event == bot.EventSubscribe {
		m.EventKey = strings.TrimPrefix(m.EventKey, "qrscene_")
	}
	return nil
}

// ParseJSONEnvelope reads the safe-mode JSON body {"ToUserName": .., "Encrypt": ..}. A missing or empty
// Encrypt is malformed.
func ParseJSONEnvelope(body []byte) (encrypt, toUser string, err error) {
	var j struct{ ToUserName, Encrypt string }
	if err := decodeJSON(body, &j); err != nil {
		return "", "", err
	}
	if j.Encrypt == "" {
		return "", "", malformed(len(body), "no Encrypt")
	}
	return j.Encrypt, j.ToUserName, nil
}

// decodeJSON decodes one JSON object (not null, not an array) into v.
func decodeJSON(body []byte, v any) error {
	if t := bytes.TrimLeft(body, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return malformed(0, "not a JSON object")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return nil
}

// jsonInt is an integer given as a JSON number or a string of digits; "" and null are 0.
type jsonInt int64

func (n *jsonInt) UnmarshalJSON(b []byte) error {
	v, ok := parseInt(unquote(b))
	if !ok {
		return fmt.Errorf("not an integer: %.40s", b)
	}
	*n = jsonInt(v)
	return nil
}

// jsonFloat is a number given as a JSON number or a string; "" and null are 0.
type jsonFloat float64

func (f *jsonFloat) UnmarshalJSON(b []byte) error {
	v, ok := parseFloat(unquote(b))
	if !ok {
		return fmt.Errorf("not a number: %.40s", b)
	}
	*f = jsonFloat(v)
	return nil
}

func (f *jsonFloat) get() float64 {
	if f == nil {
		return 0
	}
	return float64(*f)
}

// unquote strips the quotes of a JSON string that holds a number (numbers have no escapes) and maps
// null to empty.
func unquote(b []byte) []byte {
	if string(b) == "null" {
		return nil
	}
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		return b[1 : len(b)-1]
	}
	return b
}
