package yamlfile

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Bounds every number in a gameday file keeps, whatever its field: no run
// lasts a day, no count reaches a million. A field's own check may be
// tighter; these catch what it forgets (a NaN, an infinity, a duration of
// 290 years) in every field, those added later included.
const (
	MaxDuration = 24 * time.Hour
	MaxInt      = 1_000_000
)

var durationType = reflect.TypeFor[time.Duration]()

// CheckNumbers walks a decoded file (a pointer to its struct, yaml tags
// naming its fields) and reports every number that is not finite or is out
// of the bounds above, at the field path the file uses.
func CheckNumbers(file any) field.ErrorList {
	var errs field.ErrorList
	var walk func(v reflect.Value, p *field.Path)
	walk = func(v reflect.Value, p *field.Path) {
		switch v.Kind() {
		case reflect.Pointer, reflect.Interface:
			if !v.IsNil() {
				walk(v.Elem(), p)
			}
		case reflect.Struct:
			t := v.Type()
			for i := range t.NumField() {
				f := t.Field(i)
				name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
				if !f.IsExported() || name == "-" {
					continue
				}
				if name == "" {
					name = strings.ToLower(f.Name)
				}
				walk(v.Field(i), p.Child(name))
			}
		case reflect.Slice, reflect.Array:
			for i := range v.Len() {
				walk(v.Index(i), p.Index(i))
			}
		case reflect.Map:
			iter := v.MapRange()
			for iter.Next() {
				walk(iter.Value(), p.Key(fmt.Sprint(iter.Key().Interface())))
			}
		case reflect.Float32, reflect.Float64:
			if x := v.Float(); math.IsNaN(x) || math.IsInf(x, 0) {
				errs = append(errs, field.Invalid(p, x, "must be a finite number"))
			}
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			n := v.Int()
			if v.Type() == durationType {
				if d := time.Duration(n); d > MaxDuration || d < -MaxDuration {
					errs = append(errs, field.Invalid(p, d.String(), fmt.Sprintf("must be within a day (%s)", MaxDuration)))
				}
				return
			}
			if n > MaxInt || n < -MaxInt {
				errs = append(errs, field.Invalid(p, n, fmt.Sprintf("must be between %d and %d", -MaxInt, MaxInt)))
			}
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			if v.Uint() > MaxInt {
				errs = append(errs, field.Invalid(p, v.Uint(), fmt.Sprintf("must be at most %d", MaxInt)))
			}
		}
	}
	walk(reflect.ValueOf(file), nil)
	return errs
}

// WithNumbers is errs with the errors of CheckNumbers(file) in place of any
// other error on the same fields: a NaN is reported as not finite, not also
// as out of a field's own range.
func WithNumbers(file any, errs field.ErrorList) field.ErrorList {
	nums := CheckNumbers(file)
	if len(nums) == 0 {
		return errs
	}
	bad := map[string]bool{}
	for _, e := range nums {
		bad[e.Field] = true
	}
	out := nums
	for _, e := range errs {
		if !bad[e.Field] {
			out = append(out, e)
		}
	}
	return out
}
