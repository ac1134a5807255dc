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
	err := val.v.Struct(s)
	if err == nil {
		return nil
	}
	var ves validator.ValidationErrors
	if !errors.As(err, &ves) {
		return map[string]string{"_": tr.T("error.validation_failed")}
	}
	out := map[string]string{}
	for _, fe := range ves {
		field := fe.Field()
		if _, seen := out[field]; seen {
			continue
		}
		msg := fe.Translate(val.trans[tr.Lang])
		// The shipped sentences name the field by its JSON name; show the
		// translated label instead.
		if label := tr.T("label." + field); label != "label."+field {
			msg = strings.Replace(msg, field, label, 1)
		}
		out[field] = msg
	}
	return out
}

// ruleMessages turns business-rule errors into field → translated message.
func ruleMessages(errs models.RuleErrors, tr *views.Translator, into map[string]string) map[string]string {
	if into == nil {
		into = map[string]string{}
	}
	for _, e := range errs {
		if _, seen := into[e.Field]; !seen {
			into[e.Field] = tr.T(e.Key)
		}
	}
	return into
}
