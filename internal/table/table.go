// Package table reads the spreadsheets people upload (a roster, a question bank, a list of places): a
// CSV file as Excel and WPS write it (UTF-8 with or without a BOM, UTF-16, GBK; commas or tabs), or the
// first sheet of an XLSX workbook, as rows of text with their line numbers, so that every import
// reports its bad rows by the line the user sees.
package table

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// ErrBadFile wraps every reason a whole file is refused (as opposed to one of its rows). The text
// after "table: bad file: " is a reason for people, in Chinese.
var ErrBadFile = errors.New("table: bad file")

// MaxSize bounds what Read reads: a county roster is well under 1 MB, 10,000 questions about 3 MB.
const MaxSize = 32 << 20

// Record is one row of a table file with its line number (CSV: the line it starts on; XLSX: the row).
type Record struct {
	Line   int
	Fields []string
}

// Read reads a CSV or XLSX file into records. The format comes from the content (an XLSX file is a
// zip archive), so a misnamed file still reads; the extension only sharpens the error for a file that
// claims to be XLSX and is not. Cells are returned as they are (see Clean).
func Read(r io.Reader, filename string) ([]Record, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("table: read %s: %w", filename, err)
	}
	if len(data) > MaxSize {
		return nil, fmt.Errorf("%w: 文件太大（超过 %d MB）", ErrBadFile, MaxSize>>20)
	}
	ext := strings.ToLower(filepath.Ext(filename))
	switch {
	case bytes.HasPrefix(data, []byte("PK\x03\x04")):
		return readXLSX(data)
	case bytes.HasPrefix(data, []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}):
		return nil, fmt.Errorf("%w: 不支持旧版 .xls 文件，请在 Excel 中另存为 .xlsx 或 CSV", ErrBadFile)
	case ext == ".xlsx" || ext == ".xlsm":
		return nil, fmt.Errorf("%w: %s 不是有效的 xlsx 文件", ErrBadFile, filepath.Base(filename))
	}
	return readCSV(data)
}

// Reason is what a file-level error says to people: the text after ErrBadFile's prefix.
func Reason(err error) string {
	return strings.TrimPrefix(err.Error(), ErrBadFile.Error()+": ")
}

// readXLSX reads the first sheet. Raw cell values keep a phone number stored as a number from being
// formatted (e.g. as 1.38E+10).
func readXLSX(data []byte) ([]Record, error) {
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{
		UnzipSizeLimit: 512 << 20, UnzipXMLSizeLimit: 128 << 20,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: 无法打开 xlsx 文件: %v", ErrBadFile, err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, fmt.Errorf("%w: xlsx 文件里没有工作表", ErrBadFile)
	}
	rows, err := f.GetRows(sheets[0], excelize.Options{RawCellValue: true})
	if err != nil {
		return nil, fmt.Errorf("%w: 无法读取工作表「%s」: %v", ErrBadFile, sheets[0], err)
	}
	recs := make([]Record, 0, len(rows))
	for i, row := range rows {
		recs = append(recs, Record{Line: i + 1, Fields: row})
	}
	return recs, nil
}

// readCSV reads comma- or tab-separated text in UTF-8 (with or without BOM), UTF-16 with a BOM (Excel's
// "Unicode text"), or GBK/GB18030 (what Excel on a Chinese Windows writes for "CSV").
func readCSV(data []byte) ([]Record, error) {
	switch {
	case bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}):
		data = data[3:]
		if !utf8.Valid(data) {
			// A UTF-8 mark on text that is not (an edited GBK file): guessing would garble names.
			return nil, fmt.Errorf("%w: 文件标明是 UTF-8，但其中有不是 UTF-8 的文字，请重新另存为 UTF-8 的 CSV", ErrBadFile)
		}
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}), bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		dec := unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder()
		out, _, err := transform.Bytes(dec, data)
		if err != nil {
			return nil, fmt.Errorf("%w: 无法按 UTF-16 读取: %v", ErrBadFile, err)
		}
		data = bytes.TrimPrefix(out, []byte{0xEF, 0xBB, 0xBF})
	case !utf8.Valid(data):
		out, _, err := transform.Bytes(simplifiedchinese.GB18030.NewDecoder(), data)
		if err != nil {
			return nil, fmt.Errorf("%w: 文件编码无法识别，请另存为 UTF-8 的 CSV: %v", ErrBadFile, err)
		}
		data = out
	}
	first := data
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		first = data[:i]
	}
	cr := csv.NewReader(bytes.NewReader(data))
	if bytes.IndexByte(first, '\t') >= 0 && bytes.IndexByte(first, ',') < 0 {
		cr.Comma = '\t'
	}
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	var recs []Record
	for {
		fields, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, fmt.Errorf("%w: 第%d行 CSV 格式有误: %v", ErrBadFile, pe.StartLine, pe.Err)
			}
			return nil, fmt.Errorf("%w: %v", ErrBadFile, err)
		}
		line, _ := cr.FieldPos(0)
		recs = append(recs, Record{Line: line, Fields: fields})
	}
	return recs, nil
}

// Blank reports whether every field is empty after Clean (Excel leaves rows like ",,,").
func Blank(fields []string) bool {
	for _, f := range fields {
		if Clean(f) != "" {
			return false
		}
	}
	return true
}

// Clean trims white space (including the ideographic space) and stray BOMs from a cell.
func Clean(s string) string {
	return strings.TrimSpace(strings.ReplaceAll(s, "\ufeff", ""))
}
