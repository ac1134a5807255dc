package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestDecodeJSONBytes(t *testing.T) {
	var req registerRequest
	cases := []struct {
		body string
		code string
	}{
		{`{"email":"a@b.vn","name":"Mai"}`, ""},
		{`{"email":{"$ne":""}}`, "operator_key"},
		{`{"team":[{"name":{"$gt":""}}]}`, "operator_key"},
		{`{"a.b":1}`, "operator_key"},
		{`{"x[$ne]":1}`, "operator_key"},
		{`{"email":"a"} {"email":"b"}`, "bad_json"},
		{`{"birth_year":"nineteen"}`, "bad_json"},
		{`not json`, "bad_json"},
	}
	if !hasDollarKey([]byte(`{"a":[{"b":{"$ne":1}}]}`)) || hasDollarKey([]byte(`{"a":"$x","b":"c.d"}`)) {
		t.Fatal("the independent key scanner is wrong")
	}
	for _, tc := range cases {
		err := decodeJSONBytes([]byte(tc.body), &req)
		var he *HTTPError
		switch {
		case tc.code == "" && err != nil:
			t.Errorf("%s: %v", tc.body, err)
		case tc.code != "" && (!errors.As(err, &he) || he.Code != tc.code):
			t.Errorf("%s: got %v, want %s", tc.body, err, tc.code)
		}
	}
}

// hasDollarKey walks the token stream independently of the decoder under
// test and reports whether any object key could be an operator.
func hasDollarKey(body []byte) bool {
	type frame struct{ obj, wantKey bool }
	dec := json.NewDecoder(bytes.NewReader(body))
	var stack []frame
	valueDone := func() {
		if n := len(stack); n > 0 && stack[n-1].obj {
			stack[n-1].wantKey = true
		}
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{':
				stack = append(stack, frame{obj: true, wantKey: true})
			case '[':
				stack = append(stack, frame{})
			default:
				stack = stack[:len(stack)-1]
				valueDone()
			}
			continue
		}
		if n := len(stack); n > 0 && stack[n-1].obj && stack[n-1].wantKey {
			if k, _ := tok.(string); IsOperatorKey(k) {
				return true
			}
			stack[n-1].wantKey = false
			continue
		}
		valueDone()
	}
}

// FuzzDecodeJSON: the decoder never panics, and whatever it accepts has no
// key that could become a query operator (SECURITY.md 23, 32).
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{"email":"a@b.vn"}`, `{"a":{"$ne":1}}`, `[{"$where":"1"}]`, `{"team":[{"name":"x"}]}`, `{"x.y":1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var dst map[string]any
		err := decodeJSONBytes(body, &dst)
		if err == nil && strings.ContainsAny(string(body), "$.") && hasDollarKey(body) {
			t.Fatalf("accepted a body with an operator key: %q", body)
		}
	})
}
