// Package demo holds the demo policy corpus (a copy of shared/corpus/policy): five news reports on
// village party-building work, one of them in Traditional characters. `yanzhen serve --demo` imports
// them into an empty knowledge base; `yanzhen eval policy` falls back to them when the database has none.
package demo

import "embed"

// Files are the documents, *.txt at the top.
//
//go:embed *.txt
var Files embed.FS
