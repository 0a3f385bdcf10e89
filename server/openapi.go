package server

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
)

// openapiFragments: each capability describes its /api/v1 paths and schemas in openapi/NAME.json
// ({"paths": …, "components": {"schemas": …}}); the server merges them into one OpenAPI 3 document.
//
//go:embed openapi/*.json
var openapiFragments embed.FS

// openAPIDocument builds /api/openapi.json. A test checks it against the route table both ways and
// validates real responses against it.
func openAPIDocument() ([]byte, error) {
	doc := map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{
			"title":       "Yanzhen API",
			"version":     "1",
			"description": "The console's data for automation. Authenticate with an API token made on the console's 我的账号 page: `Authorization: Bearer yzt_…`. Every call sees only the caller's part of the organization tree: 401 without a valid token, 403 or 404 outside it.",
		},
		"servers":  []any{map[string]any{"url": "/"}},
		"security": []any{map[string]any{"bearer": []any{}}},
	}
	paths := map[string]any{}
	schemas := map[string]any{
		"Error": map[string]any{
			"type":     "object",
			"required": []any{"error", "message"},
			"properties": map[string]any{
				"error":   map[string]any{"type": "string", "description": "a code: unauthorized, forbidden, not_found, invalid, csrf, internal"},
				"message": map[string]any{"type": "string", "description": "what went wrong, for people (Chinese)"},
				"field":   map[string]any{"type": "string", "description": "the input field at fault, for invalid"},
			},
		},
	}
	names, err := fs.Glob(openapiFragments, "openapi/*.json")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	for _, n := range names {
		b, err := openapiFragments.ReadFile(n)
		if err != nil {
			return nil, err
		}
		var frag struct {
			Paths      map[string]any `json:"paths"`
			Components struct {
				Schemas map[string]any `json:"schemas"`
			} `json:"components"`
		}
		if err := json.Unmarshal(b, &frag); err != nil {
			return nil, fmt.Errorf("openapi: %s: %w", n, err)
		}
		for p, v := range frag.Paths {
			if _, dup := paths[p]; dup {
				return nil, fmt.Errorf("openapi: %s: path %s is described twice", n, p)
			}
			paths[p] = v
		}
		for k, v := range frag.Components.Schemas {
			if _, dup := schemas[k]; dup {
				return nil, fmt.Errorf("openapi: %s: schema %s is described twice", n, k)
			}
			schemas[k] = v
		}
	}
	doc["paths"] = paths
	doc["components"] = map[string]any{
		"schemas": schemas,
		"securitySchemes": map[string]any{
			"bearer": map[string]any{"type": "http", "scheme": "bearer", "description": "an API token (yzt_…)"},
		},
	}
	return json.MarshalIndent(doc, "", "  ")
}
