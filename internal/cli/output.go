package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/pflag"
)

// IOStreams are a command's standard streams: results on Out, progress on ErrOut.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
}

// StandardStreams are the process's stdin, stdout and stderr.
func StandardStreams() IOStreams {
	return IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
}

// Output is the value of an -o flag.
type Output string

// Output formats.
const (
	OutputTable Output = "table"
	OutputJSON  Output = "json"
)

// AddOutputFlag adds -o/--output (table|json) to flags.
func AddOutputFlag(flags *pflag.FlagSet, o *Output) {
	*o = OutputTable
	flags.VarP(o, "output", "o", "output format: table or json")
}

// String implements pflag.Value.
func (o *Output) String() string { return string(*o) }

// Type implements pflag.Value.
func (o *Output) Type() string { return "format" }

// Set implements pflag.Value, refusing unknown formats.
func (o *Output) Set(v string) error {
	switch Output(v) {
	case OutputTable, OutputJSON:
		*o = Output(v)
		return nil
	}
	return fmt.Errorf("unknown output format %q: use table or json", v)
}

// PrintJSON writes v as indented JSON.
func PrintJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// Table writes aligned columns.
type Table struct {
	tw *tabwriter.Writer
}

// NewTable starts a table with a header row.
func NewTable(w io.Writer, header ...string) *Table {
	t := &Table{tw: tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)}
	t.Row(header...)
	return t
}

// Row adds a row.
func (t *Table) Row(cells ...string) { fmt.Fprintln(t.tw, strings.Join(cells, "\t")) }

// Flush writes the table out.
func (t *Table) Flush() error { return t.tw.Flush() }
