package attendance

import (
	"errors"
	"math"
	"strconv"
	"strings"
)

// Coordinates. WeChat reports locations in China in GCJ-02 (the official account's LOCATION event and
// location messages, wx.getLocation with type "gcj02" in the mini-program), and places are entered
// and imported in GCJ-02 too (picked on a Chinese map, or copied from a location message). Distances
// are therefore computed with the haversine formula on GCJ-02 coordinates directly: GCJ-02 is WGS-84
// shifted by an offset that changes by well under a metre over a few kilometres, so within a geofence
// the shift cancels out and no conversion is needed (converting one side only would put every member
// 100–700 m away from his village).

// ErrBadCoords: the coordinates are no place on Earth (out of range, NaN) or the (0, 0) a phone sends
// when it has no fix. Nothing is recorded.
var ErrBadCoords = errors.New("attendance: bad coordinates")

// earthRadius is the mean Earth radius in metres (IUGG), as the haversine formula uses it.
const earthRadius = 6371008.8

// Distance is the great-circle distance in metres between two points (degrees).
func Distance(lat1, lng1, lat2, lng2 float64) float64 {
	rad := math.Pi / 180
	φ1, φ2 := lat1*rad, lat2*rad
	dφ, dλ := (lat2-lat1)*rad, (lng2-lng1)*rad
	a := math.Sin(dφ/2)*math.Sin(dφ/2) + math.Cos(φ1)*math.Cos(φ2)*math.Sin(dλ/2)*math.Sin(dλ/2)
	return 2 * earthRadius * math.Asin(math.Min(1, math.Sqrt(a)))
}

// CheckCoords returns ErrBadCoords unless lat/lng is a real position: finite, within ±90 / ±180, and
// not (0, 0) (a phone without a fix; no village lies in the Gulf of Guinea).
func CheckCoords(lat, lng float64) error {
	switch {
	case math.IsNaN(lat) || math.IsNaN(lng) || math.IsInf(lat, 0) || math.IsInf(lng, 0):
		return ErrBadCoords
	case lat < -90 || lat > 90 || lng < -180 || lng > 180:
		return ErrBadCoords
	case math.Abs(lat) < 1e-9 && math.Abs(lng) < 1e-9:
		return ErrBadCoords
	}
	return nil
}

// ParseCoord reads a coordinate as people and WeChat write it ("29.9061", " 103.37 ", full-width
// digits are not accepted). NaN and infinities are refused.
func ParseCoord(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, ErrBadCoords
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, ErrBadCoords
	}
	return f, nil
}

// sameCoords: two positions that agree to 6 decimals (about 0.1 m). A real phone's fix wanders by
// metres from one day to the next; the very same digits day after day are a saved or mocked location.
func sameCoords(lat1, lng1, lat2, lng2 float64) bool {
	return math.Round(lat1*1e6) == math.Round(lat2*1e6) && math.Round(lng1*1e6) == math.Round(lng2*1e6)
}

// distanceText is a distance as the chat says it: "86 米", "1.2 公里".
func distanceText(m float64) string {
	if m < 1000 {
		return strconv.Itoa(int(math.Round(m))) + " 米"
	}
	return strconv.FormatFloat(math.Round(m/100)/10, 'f', -1, 64) + " 公里"
}
