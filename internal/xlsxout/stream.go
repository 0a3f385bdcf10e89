package xlsxout

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/xuri/excelize/v2"
)

// sampleRows is how many rows WriteStream holds back to size the columns before it starts writing.
const sampleRows = 200

// errStop ends the row callback early when writing failed.
var errStop = errors.New("xlsxout: stop")

// WriteStream is Write for tables too large to hold in memory (an export of 100,000 survey answers):
// rows come one at a time from the rows callback, which calls emit for each (t.Rows is ignored). Only
// the first rows are held, to size the columns; excelize streams the rest of the sheet to a temporary
// file, so memory stays flat. n is the number of rows expected: the sheet's dimension and autofilter
// are written before the rows (Excel reads them first), so they cover n rows even if the callback
// emits a few more or fewer.
func WriteStream(w io.Writer, t Table, n int, rows func(emit func(row []any) error) error, generatedAt time.Time) (err error) {
	f := excelize.NewFile()
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("xlsxout: close workbook: %w", cerr)
		}
	}()
	sheet := sheetName(t.Title)
	if sheet != defaultSheet {
		if err := f.SetSheetName(defaultSheet, sheet); err != nil {
			return fmt.Errorf("xlsxout: name sheet %q: %w", sheet, err)
		}
	}
	st, err := newStyles(f)
	if err != nil {
		return err
	}
	lastRow := headerRow + max(n, 0)
	dim, err := rangeRef(1, 1, max(len(t.Columns), 1), lastRow)
	if err != nil {
		return err
	}
	if err := f.SetSheetDimension(sheet, dim); err != nil {
		return fmt.Errorf("xlsxout: dimension %s: %w", dim, err)
	}
	if len(t.Columns) > 0 {
		ref, err := rangeRef(1, headerRow, len(t.Columns), lastRow)
		if err != nil {
			return err
		}
		if err := f.AutoFilter(sheet, ref, nil); err != nil {
			return fmt.Errorf("xlsxout: autofilter %s: %w", ref, err)
		}
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return fmt.Errorf("xlsxout: stream sheet %q: %w", sheet, err)
	}

	loc := generatedAt.Location()
	widths := make([]int, len(t.Columns))
	for i, name := range t.Columns {
		widths[i] = textWidth(name)
	}
	var held [][]any
	next := firstData
	started := false
	write := func(cells []any) error {
		axis, err := excelize.CoordinatesToCellName(1, next)
		if err != nil {
			return fmt.Errorf("xlsxout: row %d: %w", next-headerRow, err)
		}
		next++
		if err := sw.SetRow(axis, cells); err != nil {
			return fmt.Errorf("xlsxout: row %d: %w", next-headerRow, err)
		}
		return nil
	}
	start := func() error { // the columns' widths, the frozen header, the title, filter and header rows, the held rows
		started = true
		for i := len(widths) - 1; i >= 0; i-- {
			if err := sw.SetColWidth(i+1, i+1, colWidth(widths[i])); err != nil {
				return fmt.Errorf("xlsxout: width of column %d: %w", i+1, err)
			}
		}
		if err := sw.SetPanes(&excelize.Panes{
			Freeze: true, YSplit: headerRow, TopLeftCell: fmt.Sprintf("A%d", firstData), ActivePane: "bottomLeft",
			Selection: []excelize.Selection{{SQRef: fmt.Sprintf("A%d", firstData), ActiveCell: fmt.Sprintf("A%d", firstData), Pane: "bottomLeft"}},
		}); err != nil {
			return fmt.Errorf("xlsxout: freeze header: %w", err)
		}
		title := "导出时间：" + generatedAt.Format(timeLayout)
		if t.Title != "" {
			title = t.Title + "  " + title
		}
		if err := sw.SetRow("A1", []any{excelize.Cell{StyleID: st.title, Value: title}}, excelize.RowOpts{Height: 22}); err != nil {
			return fmt.Errorf("xlsxout: title row: %w", err)
		}
		if err := sw.SetRow("A2", []any{excelize.Cell{StyleID: st.filter, Value: filterText(t.Filters)}}); err != nil {
			return fmt.Errorf("xlsxout: filter row: %w", err)
		}
		header := make([]any, len(t.Columns))
		for i, name := range t.Columns {
			header[i] = excelize.Cell{StyleID: st.header, Value: name}
		}
		if err := sw.SetRow(fmt.Sprintf("A%d", headerRow), header); err != nil {
			return fmt.Errorf("xlsxout: header row: %w", err)
		}
		for _, cells := range held {
			if err := write(cells); err != nil {
				return err
			}
		}
		held = nil
		return nil
	}
	var werr error
	err = rows(func(row []any) error {
		if len(row) > len(t.Columns) {
			werr = fmt.Errorf("xlsxout: %q row has %d values for %d columns", t.Title, len(row), len(t.Columns))
			return errStop
		}
		cells := make([]any, len(row))
		for j, v := range row {
			c, wd := st.cell(v, loc)
			cells[j] = c
			if !started {
				widths[j] = max(widths[j], wd)
			}
		}
		if !started {
			held = append(held, cells)
			if len(held) < sampleRows {
				return nil
			}
			if werr = start(); werr != nil {
				return errStop
			}
			return nil
		}
		if werr = write(cells); werr != nil {
			return errStop
		}
		return nil
	})
	if werr != nil {
		return werr
	}
	if err != nil {
		return err
	}
	if !started {
		if err := start(); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return fmt.Errorf("xlsxout: flush sheet: %w", err)
	}
	if err := f.Write(w); err != nil {
		return fmt.Errorf("xlsxout: write workbook: %w", err)
	}
	return nil
}
