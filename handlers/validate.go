package handlers

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/go-playground/locales/en"
	"github.com/go-playground/locales/vi"
	ut "github.com/go-playground/universal-translator"
	"github.com/go-playground/validator/v10"
	en_translations "github.com/go-playground/validator/v10/translations/en"
	vi_translations "github.com/go-playground/validator/v10/translations/vi"

	"github.com/sprout-vn/sprout/models"
	"github.com/sprout-vn/sprout/views"
)

// Validator checks request structs with validator/v10 tags and turns the
// failures into translated sentences keyed by the JSON field name, using the
// vi and en translations validator ships.
type Validator struct {
	v     *validator.Validate
	trans map[string]ut.Translator
}

// NewValidator builds the validator with both languages registered.
func NewValidator() (*Validator, error) {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			return ""
		}
		if name == "" {
			name, _, _ = strings.Cut(f.Tag.Get("form"), ",")
		}
		return name
	})
	uni := ut.New(en.New(), en.New(), vi.New())
	out := &Validator{v: v, trans: map[string]ut.Translator{}}
	for lang, reg := range map[string]func(*validator.Validate, ut.Translator) error{
		"en": en_translations.RegisterDefaultTranslations,
		"vi": vi_translations.RegisterDefaultTranslations,
	} {
		tr, _ := uni.GetTranslator(lang)
		if err := reg(v, tr); err != nil {
			return nil, fmt.Errorf("handlers: register %s validator messages: %w", lang, err)
		}
		out.trans[lang] = tr
	}
	return out, nil
}

// Check validates s and returns field → message in tr's language; nil when
// everything is valid.
func (val *Validator) Check(s any, tr *views.Translator) map[string]string {
	out := map[string]string{}
	// A NUL byte is never text: refuse it in any field (it truncates in C
	// tools, hides text in CSV and PDF readers and breaks some stores).
	nulFields(reflect.ValueOf(s), "", out, tr.T("error.nul_byte"))
	err := val.v.Struct(s)
	if err == nil {
		if len(out) == 0 {
			return nil
		}
		return out
	}
	var ves validator.ValidationErrors
	if !errors.As(err, &ves) {
		out["_"] = tr.T("error.validation_failed")
		return out
	}
	for _, fe := range ves {
		field := fe.Field()
		if _, seen := out[field]; seen {
			continue
		}
		// Our own sentences for the common rules, naming the form's label
		// in the user's language (validator's shipped Vietnamese mixes in
		// English: "phải là giá trị email address"); its translations for
		// the rest, with the label put in.
		label := fieldLabel(tr, field)
		msg := ""
		if k := "valid." + fe.Tag(); tr.Has(k) {
			msg = tr.T(k, "Label", label, "Param", fe.Param())
		} else {
			msg = strings.Replace(fe.Translate(val.trans[tr.Lang]), field, label, 1)
		}
		out[field] = msg
	}
	return out
}

// nulFields records msg under the top-level JSON field name of every string
// in v (at any depth: nested structs, slices, maps) that holds a NUL byte.
func nulFields(v reflect.Value, name string, out map[string]string, msg string) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			nulFields(v.Elem(), name, out, msg)
		}
	case reflect.String:
		if strings.IndexByte(v.String(), 0) >= 0 && name != "" {
			if _, seen := out[name]; !seen {
				out[name] = msg
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			nulFields(v.Index(i), name, out, msg)
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			nulFields(it.Key(), name, out, msg)
			nulFields(it.Value(), name, out, msg)
		}
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			n := name
			if n == "" {
				n, _, _ = strings.Cut(f.Tag.Get("json"), ",")
				if n == "" || n == "-" {
					n = strings.ToLower(f.Name)
				}
			}
			nulFields(v.Field(i), n, out, msg)
		}
	}
}

// HasNUL reports whether any of the strings holds a NUL byte.
func HasNUL(ss ...string) bool {
	for _, s := range ss {
		if strings.IndexByte(s, 0) >= 0 {
			return true
		}
	}
	return false
}

// fieldLabel is a form field's label in tr's language: label.<field>,
// else entry.<field>, else the field's name.
func fieldLabel(tr *views.Translator, field string) string {
	for _, k := range []string{"label." + field, "entry." + field} {
		if tr.Has(k) {
			return tr.T(k)
		}
	}
	return field
}

// ruleMessages turns business-rule errors into field → translated message.
func ruleMessages(errs models.RuleErrors, tr *views.Translator, into map[string]string) map[string]string {
	if into == nil {
		into = map[string]string{}
	}
	for _, e := range errs {
		if _, seen := into[e.Field]; !seen {
			args := append(e.TemplateArgs(tr.Lang), "Label", fieldLabel(tr, e.Field))
			into[e.Field] = tr.T(e.Key, args...)
		}
	}
	return into
}
