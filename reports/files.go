package reports

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// The formats a report renders to.
const (
	FormatText     = "text"
	FormatJSON     = "json"
	FormatMarkdown = "md"
	FormatHTML     = "html"
	FormatJUnit    = "junit"
)

// Formats are a report's formats; CompareFormats a comparison's.
var (
	Formats        = []string{FormatText, FormatJSON, FormatMarkdown, FormatHTML, FormatJUnit}
	CompareFormats = []string{FormatText, FormatJSON, FormatMarkdown, FormatHTML}
)

// Write renders r in format.
func Write(w io.Writer, format string, r *Report) error {
	switch format {
	case FormatText:
		return WriteText(w, r)
	case FormatJSON:
		return WriteJSON(w, r)
	case FormatMarkdown:
		return WriteMarkdown(w, r)
	case FormatHTML:
		return WriteHTML(w, r)
	case FormatJUnit:
		return WriteJUnit(w, r)
	}
	return fmt.Errorf("unknown report format %q", format)
}

// WriteCompare renders c in format.
func WriteCompare(w io.Writer, format string, c *Comparison) error {
	switch format {
	case FormatText:
		return WriteCompareText(w, c)
	case FormatJSON:
		return WriteJSONValue(w, c)
	case FormatMarkdown:
		return WriteCompareMarkdown(w, c)
	case FormatHTML:
		return WriteCompareHTML(w, c)
	}
	return fmt.Errorf("unknown comparison format %q", format)
}

// WriteFiles writes report.json, report.md, report.html and junit.xml into
// dir and returns their paths.
func WriteFiles(dir string, r *Report) ([]string, error) {
	return writeFiles(dir, []file{
		{JSONFile, func(w io.Writer) error { return WriteJSON(w, r) }},
		{MarkdownFile, func(w io.Writer) error { return WriteMarkdown(w, r) }},
		{HTMLFile, func(w io.Writer) error { return WriteHTML(w, r) }},
		{JUnitFile, func(w io.Writer) error { return WriteJUnit(w, r) }},
	})
}

// WriteCompareFiles writes compare.md and compare.html into dir.
func WriteCompareFiles(dir string, c *Comparison) ([]string, error) {
	return writeFiles(dir, []file{
		{CompareMarkdownFile, func(w io.Writer) error { return WriteCompareMarkdown(w, c) }},
		{CompareHTMLFile, func(w io.Writer) error { return WriteCompareHTML(w, c) }},
	})
}

type file struct {
	name  string
	write func(io.Writer) error
}

// writeFiles writes each file whole or not at all (temp file, then rename).
func writeFiles(dir string, files []file) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var paths []string
	for _, f := range files {
		path := filepath.Join(dir, f.name)
		tmp, err := os.CreateTemp(dir, "."+f.name+".*")
		if err != nil {
			return paths, err
		}
		err = f.write(tmp)
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Chmod(tmp.Name(), 0o644)
		}
		if err == nil {
			err = os.Rename(tmp.Name(), path)
		}
		if err != nil {
			os.Remove(tmp.Name())
			return paths, fmt.Errorf("writing %s: %w", path, err)
		}
		paths = append(paths, path)
	}
	return paths, nil
}
