// Package yamlfile decodes gameday's versioned YAML files strictly and reports
// every problem as file:line: field: message, so a user can jump to it.
package yamlfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// MaxDepth bounds how deep a file nests (gameday's go about 6 levels): what
// locating errors keeps per field grows with depth.
const MaxDepth = 32

// tooDeep returns the first node deeper than max levels, or nil.
func tooDeep(n *yaml.Node, max int) *yaml.Node {
	type item struct {
		n     *yaml.Node
		depth int
	}
	stack := []item{{n, 0}}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if it.depth > max {
			return it.n
		}
		for _, c := range it.n.Content {
			stack = append(stack, item{c, it.depth + 1})
		}
	}
	return nil
}

// MaxFileSize bounds the files gameday reads: its files are small, and a
// path that names a device or a huge file must not hang or exhaust memory.
const MaxFileSize = 1 << 20

// ReadFile reads a regular file of at most MaxFileSize bytes. A path that
// is not one (a directory, a device, a file too big or unreadable) is bad
// input, an *Error naming the path.
func ReadFile(path string) ([]byte, error) {
	bad := func(msg string) error { return &Error{File: path, Msg: msg} }
	fi, err := os.Stat(path)
	if err != nil {
		return nil, bad(plainPathError(err))
	}
	switch {
	case fi.IsDir():
		return nil, bad("is a directory; give the path of a file")
	case !fi.Mode().IsRegular():
		return nil, bad("not a regular file")
	case fi.Size() > MaxFileSize:
		return nil, bad(fmt.Sprintf("%d bytes; gameday reads files of at most %d (1 MiB)", fi.Size(), MaxFileSize))
	}
	// Non-blocking, and checked again once open: a path swapped for a FIFO
	// since the Stat must not block the open or the read.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, bad(plainPathError(err))
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return nil, bad("not a regular file")
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, bad(plainPathError(err))
	}
	if len(data) > MaxFileSize { // it grew since
		return nil, bad(fmt.Sprintf("more than %d bytes; gameday reads files of at most %d (1 MiB)", MaxFileSize, MaxFileSize))
	}
	return data, nil
}

// plainPathError is err without the path a *PathError repeats.
func plainPathError(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Op + ": " + pe.Err.Error()
	}
	return err.Error()
}

// Error is one problem in a file, located by line and field path.
type Error struct {
	File  string // path as the user gave it
	Line  int    // 1-based; 0 when the problem has no single line (an empty file)
	Field string // field path such as pools[1].size; empty for the document itself
	Msg   string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in one file, in line order.
type Errors []*Error

func (es Errors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Document is a decoded file that still knows where each of its fields was.
type Document struct {
	File  string
	root  *yaml.Node
	index *index
}

// Decode strictly decodes data (the content of file) into out: exactly one
// YAML document, no unknown fields, no duplicate keys, every value of the
// right type. The returned Document locates fields for later validation errors.
func Decode(file string, data []byte, out any) (*Document, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, Errors{{File: file, Msg: "file is empty"}}
	}
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); errors.Is(err, io.EOF) {
		return nil, Errors{{File: file, Msg: "file is empty (it holds only comments)"}}
	} else if err != nil {
		return nil, Errors{syntaxError(file, err)}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, Errors{{File: file, Line: extra.Line, Msg: "more than one YAML document; put one object per file"}}
	} else if !errors.Is(err, io.EOF) {
		return nil, Errors{syntaxError(file, err)}
	}
	if n := tooDeep(&root, MaxDepth); n != nil {
		return nil, Errors{{File: file, Line: n.Line, Msg: fmt.Sprintf("nested more than %d levels deep; gameday's files need a few", MaxDepth)}}
	}
	doc := &Document{File: file, root: &root}
	if body := doc.body(); body == nil || body.Kind != yaml.MappingNode {
		line := 1
		if body != nil {
			line = body.Line
		}
		return nil, Errors{{File: file, Line: line, Msg: "expected a mapping (key: value pairs) at the top level"}}
	}
	// Decoding from the node with KnownFields would be ideal, but yaml.v3 only
	// honours KnownFields on a Decoder; decode the bytes again with it on.
	strict := yaml.NewDecoder(bytes.NewReader(data))
	strict.KnownFields(true)
	if err := strict.Decode(out); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			return nil, doc.typeErrors(te)
		}
		return nil, Errors{syntaxError(file, err)}
	}
	return doc, nil
}

func (d *Document) body() *yaml.Node {
	if d.root.Kind == yaml.DocumentNode && len(d.root.Content) > 0 {
		return d.root.Content[0]
	}
	return nil
}

var (
	lineRe         = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
	unknownFieldRe = regexp.MustCompile(`^field (\S+) not found in type \S+$`)
	mapKeyRe       = regexp.MustCompile(`\[([^\]]*[^0-9\]][^\]]*)\]`)
	cannotRe       = regexp.MustCompile("^cannot unmarshal !!(\\w+) `(.*)` into (\\S+)$")
)

func syntaxError(file string, err error) *Error {
	msg := err.Error()
	if m := lineRe.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		// yaml.v3 prints the 0-based line of the construct it was parsing
		// ("while parsing a flow sequence") for these errors.
		if strings.HasPrefix(m[2], "did not find expected") {
			line++
		}
		return &Error{File: file, Line: line, Msg: "invalid YAML: " + m[2]}
	}
	return &Error{File: file, Msg: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
}

// typeErrors rewrites yaml.v3's "line N: ..." messages so each names its field.
func (d *Document) typeErrors(te *yaml.TypeError) Errors {
	var out Errors
	for _, msg := range te.Errors {
		e := &Error{File: d.File, Msg: msg}
		if m := lineRe.FindStringSubmatch(msg); m != nil {
			e.Line, _ = strconv.Atoi(m[1])
			e.Msg = m[2]
		}
		if m := unknownFieldRe.FindStringSubmatch(e.Msg); m != nil {
			e.Field = d.pathOfKey(e.Line, m[1])
			e.Msg = "unknown field"
		} else {
			e.Field = d.pathAtLine(e.Line)
			if m := cannotRe.FindStringSubmatch(e.Msg); m != nil {
				e.Msg = fmt.Sprintf("expected %s, got %s %q", goTypeName(m[3]), yamlTagName(m[1]), m[2])
			}
		}
		out = append(out, e)
	}
	return out
}

func goTypeName(t string) string {
	switch {
	case t == "time.Duration":
		return "a duration such as 30s or 2m"
	case strings.HasPrefix(t, "int"), strings.HasPrefix(t, "uint"):
		return "an integer"
	case t == "bool":
		return "true or false"
	case t == "string":
		return "a string"
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case strings.HasPrefix(t, "map["):
		return "a mapping"
	case strings.HasPrefix(t, "float"):
		return "a number"
	}
	if i := strings.LastIndex(t, "."); i >= 0 {
		t = t[i+1:]
	}
	return "a mapping (" + t + ")"
}

func yamlTagName(tag string) string {
	switch tag {
	case "str":
		return "string"
	case "int":
		return "integer"
	case "seq":
		return "list"
	case "map":
		return "mapping"
	}
	return tag
}

// visit walks the document calling fn with each key or list item's path,
// the node of its key (nil for list items) and its value node.
func (d *Document) visit(fn func(path string, key, val *yaml.Node) bool) {
	var walk func(path string, n *yaml.Node) bool
	walk = func(path string, n *yaml.Node) bool {
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				p := k.Value
				if path != "" {
					p = path + "." + k.Value
				}
				if !fn(p, k, v) || !walk(p, v) {
					return false
				}
			}
		case yaml.SequenceNode:
			for i, v := range n.Content {
				p := fmt.Sprintf("%s[%d]", path, i)
				if !fn(p, nil, v) || !walk(p, v) {
					return false
				}
			}
		}
		return true
	}
	if b := d.body(); b != nil {
		walk("", b)
	}
}

// index is every field's line, built once: locating an error is then a few
// map lookups, not a walk of the document, so validating a file is linear
// in its size however many errors it has.
type index struct {
	line     map[string]int // field path -> line of its key (list items: of the value)
	atLine   map[int]string // line -> the first key, or scalar list item, on it
	keyAtRow map[lineKey]string
}

type lineKey struct {
	line int
	key  string
}

func (d *Document) idx() *index {
	if d.index != nil {
		return d.index
	}
	ix := &index{line: map[string]int{}, atLine: map[int]string{}, keyAtRow: map[lineKey]string{}}
	d.visit(func(p string, k, v *yaml.Node) bool {
		line := v.Line
		if k != nil {
			line = k.Line
			if _, ok := ix.keyAtRow[lineKey{k.Line, k.Value}]; !ok {
				ix.keyAtRow[lineKey{k.Line, k.Value}] = p
			}
		}
		if _, ok := ix.line[p]; !ok {
			ix.line[p] = line
		}
		if k != nil || v.Kind == yaml.ScalarNode {
			if _, ok := ix.atLine[line]; !ok {
				ix.atLine[line] = p
			}
		}
		return true
	})
	d.index = ix
	return ix
}

func (d *Document) pathOfKey(line int, key string) string {
	if p, ok := d.idx().keyAtRow[lineKey{line, key}]; ok {
		return p
	}
	return key
}

func (d *Document) pathAtLine(line int) string {
	return d.idx().atLine[line]
}

// Line is the line of the field at path (as field.Path prints it, e.g.
// pools[1].taints[0].effect), or of its nearest ancestor present in the file.
func (d *Document) Line(path string) int {
	path = mapKeyRe.ReplaceAllString(path, ".$1") // labels[tier] -> labels.tier, as visit names it
	ix := d.idx()
	for p := path; p != ""; p = parentPath(p) {
		if line, ok := ix.line[p]; ok {
			return line
		}
	}
	if b := d.body(); b != nil {
		return b.Line
	}
	return 0
}

// parentPath is path without its last step: a.b[2].c -> a.b[2] -> a.b -> a -> "".
func parentPath(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

// FieldErrors turns validation errors into located file errors, in line order.
func (d *Document) FieldErrors(errs field.ErrorList) error {
	if len(errs) == 0 {
		return nil
	}
	out := make(Errors, 0, len(errs))
	for _, fe := range errs {
		path := fe.Field
		out = append(out, &Error{File: d.File, Line: d.Line(path), Field: path, Msg: fieldMessage(fe)})
	}
	sortByLine(out)
	return out
}

// fieldMessage is fe.Error() without the leading field path.
func fieldMessage(fe *field.Error) string {
	return strings.TrimPrefix(fe.ErrorBody(), ": ")
}

func sortByLine(es Errors) {
	sort.SliceStable(es, func(i, j int) bool { return es[i].Line < es[j].Line })
}
