package scenarios

import (
	"bytes"
	"fmt"
	"testing"

	"gameday.dev/gameday/internal/yamlfile"
)

// limitFile is a scenario just under the size limit, of steps that are all
// valid, or each an error (an unknown tier, or a value of the wrong type),
// so that every step is located.
func limitFile(tb testing.TB, kind string) []byte {
	tb.Helper()
	var b bytes.Buffer
	b.WriteString("apiVersion: gameday.dev/v1alpha1\nkind: Scenario\nname: big\nmaxDuration: 15m\ntimeline:\n")
	tier, version := "workers", "v1"
	switch kind {
	case "every-step-invalid":
		tier = "nobody"
	case "every-step-mistyped":
		version = "[v1]"
	}
	for i := 0; ; i++ {
		step := fmt.Sprintf("  - name: step-%d\n    action: release\n    target: {tier: %s}\n    version: %s\n", i, tier, version)
		if b.Len()+len(step) > yamlfile.MaxFileSize {
			break
		}
		b.WriteString(step)
	}
	return b.Bytes()
}

// BenchmarkParseAtSizeLimit: a scenario file at the size limit must
// validate in well under a second, valid or with an error on every step.
func BenchmarkParseAtSizeLimit(b *testing.B) {
	for _, name := range []string{"valid", "every-step-invalid", "every-step-mistyped"} {
		data, bad := limitFile(b, name), name != "valid"
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				_, err := Parse("big.yaml", data)
				if (err != nil) != bad {
					b.Fatalf("bad=%v: %v", bad, err)
				}
			}
		})
	}
}
