package timeline

import (
	"errors"
	"strings"
	"testing"
)

func TestReadTornLastLine(t *testing.T) {
	whole := `{"kind":"run","phase":"start"}` + "\n" + `{"kind":"run","phase":"timeline-start"}` + "\n"
	for _, c := range []struct {
		name    string
		in      string
		entries int
		torn    int // the torn line, 0 for none
		fails   bool
	}{
		{"whole", whole, 2, 0, false},
		{"no final newline", strings.TrimSuffix(whole, "\n"), 2, 0, false},
		{"blank lines", "\n" + whole + "\n\n", 2, 0, false},
		{"torn last line", whole + `{"kind":"probe","ser`, 2, 3, false},
		{"torn last line, then a newline", whole + `{"kind":"probe","ser` + "\n", 2, 3, false},
		{"damaged line in the middle", `{"kind":"run"}` + "\n" + `{"kind":` + "\n" + `{"kind":"run"}` + "\n", 1, 0, true},
		{"empty", "", 0, 0, false},
		{"whole JSON that is no entry, last", whole + `{"time":"yesterday"}` + "\n", 2, 0, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			es, err := Read(strings.NewReader(c.in))
			var torn *TornError
			switch {
			case c.fails:
				if err == nil || errors.As(err, &torn) {
					t.Fatalf("want an error that is not a torn tail, got %v", err)
				}
				if !strings.Contains(err.Error(), "line ") {
					t.Errorf("error %q does not name its line", err)
				}
			case c.torn > 0:
				if !errors.As(err, &torn) || torn.Line != c.torn {
					t.Fatalf("want line %d torn, got %v", c.torn, err)
				}
			case err != nil:
				t.Fatal(err)
			}
			if len(es) != c.entries {
				t.Errorf("%d entries, want %d", len(es), c.entries)
			}
		})
	}
}
