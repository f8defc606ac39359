// Package jsonl reads files of one JSON object per line that a process
// appends to and may be killed while writing: the timeline and the journal.
package jsonl

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Read calls decode with each non-blank line, in order. A last line that is
// not whole JSON is torn (a write cut short): Read returns its 1-based
// number as torn, with no error. Any other line decode refuses (one with
// lines after it, or whole JSON that is not what decode wants) is an error
// naming the line: the file is damaged, not cut short.
func Read(r io.Reader, decode func(line []byte) error) (torn int, err error) {
	br := bufio.NewReader(r)
	var bad error
	for n := 1; ; n++ {
		line, rerr := br.ReadBytes('\n')
		if rerr != nil && !errors.Is(rerr, io.EOF) {
			return 0, rerr
		}
		if line = bytes.TrimSpace(line); len(line) > 0 {
			if bad != nil { // a line after one that did not decode
				return 0, fmt.Errorf("line %d: %w", torn, bad)
			}
			if err := decode(line); err != nil {
				if json.Valid(line) {
					return 0, fmt.Errorf("line %d: %w", n, err)
				}
				bad, torn = err, n
			}
		}
		if errors.Is(rerr, io.EOF) {
			return torn, nil
		}
	}
}
