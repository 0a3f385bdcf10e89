package web

import (
	"encoding/json"
	"html/template"
)

// marshalJS is JSON safe to put inside a <script> element (json.Marshal escapes <, > and &).
func marshalJS(v any) (template.JS, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return template.JS(b), nil
}
