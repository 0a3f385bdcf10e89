package roster

import "github.com/yanzhen/yanzhen/internal/table"

// ErrBadFile wraps every reason a whole file is refused (as opposed to one of its rows); it is the
// shared reader's table.ErrBadFile.
var ErrBadFile = table.ErrBadFile

// maxFileSize bounds what Import reads (table.MaxSize).
const maxFileSize = table.MaxSize
