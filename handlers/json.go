package handlers

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// decodeJSON reads a JSON request body into dst. Keys that start with "$"
// or contain a dot are refused anywhere in the document (SECURITY.md 23), so
// user input never becomes a query operator. Unknown fields are ignored:
// request structs list only what the caller may set (SECURITY.md 18).
func decodeJSON(c *fiber.Ctx, dst any) error {
	ct := strings.ToLower(c.Get(fiber.HeaderContentType))
	if !strings.HasPrefix(ct, fiber.MIMEApplicationJSON) {
		return &HTTPError{Status: fiber.StatusUnsupportedMediaType, Code: "unsupported_media_type", Key: "error.bad_json"}
	}
	return decodeJSONBytes(c.Body(), dst)
}

// decodeJSONBytes is decodeJSON without the request: one JSON value, no
// operator keys anywhere, then into dst.
func decodeJSONBytes(body []byte, dst any) error {
	var raw any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return &HTTPError{Status: fiber.StatusBadRequest, Code: "bad_json", Key: "error.bad_json", Err: err}
	}
	if dec.More() {
		return &HTTPError{Status: fiber.StatusBadRequest, Code: "bad_json", Key: "error.bad_json"}
	}
	if hasOperatorKey(raw) {
		return &HTTPError{Status: fiber.StatusBadRequest, Code: "operator_key", Key: "error.operator_key"}
	}
	if err := json.Unmarshal(body, dst); err != nil {
		var fields map[string]string
		if te, ok := err.(*json.UnmarshalTypeError); ok && te.Field != "" {
			fields = map[string]string{te.Field: te.Error()}
		}
		return &HTTPError{Status: fiber.StatusBadRequest, Code: "bad_json", Key: "error.bad_json", Fields: fields, Err: err}
	}
	return nil
}

// HasOperatorKey reports whether any object key in v starts with "$" or
// contains a ".".
func hasOperatorKey(v any) bool {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			if IsOperatorKey(k) || hasOperatorKey(x) {
				return true
			}
		}
	case []any:
		for _, x := range t {
			if hasOperatorKey(x) {
				return true
			}
		}
	}
	return false
}

// IsOperatorKey reports whether a user-supplied key could be read as a
// MongoDB operator or path: "$…", "a.b" or bracket syntax like "x[$ne]".
func IsOperatorKey(k string) bool {
	return strings.HasPrefix(k, "$") || strings.Contains(k, ".") || strings.Contains(k, "[$")
}

// writeJSON answers with status and v.
func writeJSON(c *fiber.Ctx, status int, v any) error {
	return c.Status(status).JSON(v)
}
