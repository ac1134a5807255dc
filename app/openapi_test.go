package app_test

// The OpenAPI document (handlers/openapi.json, served at
// /api/v1/openapi.json) is the contract of the JSON API: these tests fail
// when a route is served but not documented or documented but not served,
// and when a real answer has a status or a property the document does not
// declare (or lacks one it requires).

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/sprout-vn/sprout/app/apptest"
	"github.com/sprout-vn/sprout/models"
)

// openAPIFile is handlers/openapi.json, read while the package initialises
// (TestMain later changes the working directory, see screenshotDir).
var openAPIFile, openAPIFileErr = func() ([]byte, error) {
	wd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	return os.ReadFile(filepath.Join(wd, "..", "handlers", "openapi.json"))
}()

// apiPrefix is where the API lives; the document's server URL.
const apiPrefix = "/api/v1"

// oaDoc is the part of an OpenAPI 3.1 document these tests read.
type oaDoc struct {
	OpenAPI string `json:"openapi"`
	Servers []struct {
		URL string `json:"url"`
	} `json:"servers"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas         map[string]json.RawMessage `json:"schemas"`
		Responses       map[string]json.RawMessage `json:"responses"`
		SecuritySchemes map[string]struct {
			Type   string `json:"type"`
			Scheme string `json:"scheme"`
		} `json:"securitySchemes"`
	} `json:"components"`
}

type oaOperation struct {
	OperationID string                     `json:"operationId"`
	Responses   map[string]json.RawMessage `json:"responses"`
}

type oaResponse struct {
	Ref     string `json:"$ref"`
	Content map[string]struct {
		Schema json.RawMessage `json:"schema"`
	} `json:"content"`
}

type oaSchema struct {
	Ref        string                     `json:"$ref"`
	Properties map[string]json.RawMessage `json:"properties"`
	Required   []string                   `json:"required"`
	Items      json.RawMessage            `json:"items"`
	AllOf      []json.RawMessage          `json:"allOf"`
}

// oaMethods are the keys of a path item that name operations.
var oaMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// loadOpenAPI parses handlers/openapi.json and checks its frame: version,
// server, bearer scheme, operation ids, and that every local $ref resolves.
func loadOpenAPI(t *testing.T) *oaDoc {
	t.Helper()
	if openAPIFileErr != nil {
		t.Fatalf("read handlers/openapi.json: %v", openAPIFileErr)
	}
	var d oaDoc
	if err := json.Unmarshal(openAPIFile, &d); err != nil {
		t.Fatalf("handlers/openapi.json is not valid JSON: %v", err)
	}
	if !strings.HasPrefix(d.OpenAPI, "3.1.") {
		t.Errorf("openapi %q, want 3.1.x", d.OpenAPI)
	}
	if len(d.Servers) != 1 || d.Servers[0].URL != apiPrefix {
		t.Errorf("servers %+v, want one with url %s", d.Servers, apiPrefix)
	}
	if s := d.Components.SecuritySchemes["bearerAuth"]; s.Type != "http" || !strings.EqualFold(s.Scheme, "bearer") {
		t.Errorf("securitySchemes.bearerAuth = %+v, want type http, scheme bearer", s)
	}
	var raw any
	_ = json.Unmarshal(openAPIFile, &raw)
	oaCheckRefs(t, raw, raw, "#")
	ids := map[string]string{}
	for key, op := range d.operations(t) {
		switch {
		case op.OperationID == "":
			t.Errorf("%s has no operationId", key)
		case ids[op.OperationID] != "":
			t.Errorf("operationId %s is used by %s and %s", op.OperationID, ids[op.OperationID], key)
		}
		ids[op.OperationID] = key
		ok2xx := false
		for code := range op.Responses {
			ok2xx = ok2xx || (len(code) == 3 && code[0] == '2')
		}
		if !ok2xx {
			t.Errorf("%s documents no success answer", key)
		}
	}
	return &d
}

// oaCheckRefs fails for every "$ref" under v that does not point into doc.
func oaCheckRefs(t *testing.T, doc, v any, at string) {
	t.Helper()
	switch x := v.(type) {
	case map[string]any:
		for k, y := range x {
			if s, ok := y.(string); ok && k == "$ref" {
				if _, err := oaPointer(doc, s); err != nil {
					t.Errorf("%s: $ref %q: %v", at, s, err)
				}
				continue
			}
			oaCheckRefs(t, doc, y, at+"/"+k)
		}
	case []any:
		for i, y := range x {
			oaCheckRefs(t, doc, y, fmt.Sprintf("%s/%d", at, i))
		}
	}
}

// oaPointer resolves a local JSON pointer ("#/components/schemas/User").
func oaPointer(doc any, ref string) (any, error) {
	p, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, fmt.Errorf("not a local reference")
	}
	cur := doc
	for _, part := range strings.Split(p, "/") {
		part = strings.NewReplacer("~1", "/", "~0", "~").Replace(part)
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%q is not inside an object", part)
		}
		if cur, ok = m[part]; !ok {
			return nil, fmt.Errorf("no %q", part)
		}
	}
	return cur, nil
}

// operations returns the documented operations by "METHOD /api/v1/path".
func (d *oaDoc) operations(t *testing.T) map[string]oaOperation {
	t.Helper()
	ops := map[string]oaOperation{}
	for path, item := range d.Paths {
		for key, raw := range item {
			if !slices.Contains(oaMethods, key) {
				continue
			}
			var op oaOperation
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatalf("%s %s: %v", key, path, err)
			}
			ops[strings.ToUpper(key)+" "+apiPrefix+path] = op
		}
	}
	return ops
}

// schema resolves raw (following local $refs to components/schemas).
func (d *oaDoc) schema(t *testing.T, raw json.RawMessage) oaSchema {
	t.Helper()
	for range 20 {
		var s oaSchema
		if err := json.Unmarshal(raw, &s); err != nil {
			t.Fatalf("schema %s: %v", raw, err)
		}
		if s.Ref == "" {
			return s
		}
		name, ok := strings.CutPrefix(s.Ref, "#/components/schemas/")
		if !ok || d.Components.Schemas[name] == nil {
			t.Fatalf("schema $ref %q does not name a schema of components/schemas", s.Ref)
		}
		raw = d.Components.Schemas[name]
	}
	t.Fatalf("schema $ref loop at %s", raw)
	return oaSchema{}
}

// response returns the documented answer of op for status code, following
// a $ref to components/responses.
func (d *oaDoc) response(t *testing.T, op oaOperation, code int) (oaResponse, bool) {
	t.Helper()
	raw, ok := op.Responses[fmt.Sprint(code)]
	if !ok {
		return oaResponse{}, false
	}
	var r oaResponse
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("response %d of %s: %v", code, op.OperationID, err)
	}
	if r.Ref != "" {
		name, ok := strings.CutPrefix(r.Ref, "#/components/responses/")
		if !ok || d.Components.Responses[name] == nil {
			t.Fatalf("response $ref %q does not name a response of components/responses", r.Ref)
		}
		r = oaResponse{}
		if err := json.Unmarshal(d.Components.Responses[name], &r); err != nil {
			t.Fatalf("components/responses/%s: %v", name, err)
		}
	}
	return r, true
}

// checkValue fails for every property of v (an object, or objects inside
// arrays, at any depth) that its schema does not declare, and for every
// required property v lacks. Schemas that declare no properties (free maps
// such as error.fields) are not looked into.
func (d *oaDoc) checkValue(t *testing.T, where string, raw json.RawMessage, v any) {
	t.Helper()
	s := d.schema(t, raw)
	props := map[string]json.RawMessage{}
	required := append([]string(nil), s.Required...)
	for _, part := range s.AllOf {
		ps := d.schema(t, part)
		for k, p := range ps.Properties {
			props[k] = p
		}
		required = append(required, ps.Required...)
	}
	for k, p := range s.Properties {
		props[k] = p
	}
	switch x := v.(type) {
	case map[string]any:
		for _, k := range required {
			if _, ok := x[k]; !ok {
				t.Errorf("%s: required property %q is missing from the answer", where, k)
			}
		}
		if len(props) == 0 {
			return
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p, ok := props[k]
			if !ok {
				t.Errorf("%s: property %q is in the answer but not in the documented schema", where, k)
				continue
			}
			d.checkValue(t, where+"."+k, p, x[k])
		}
	case []any:
		if len(s.Items) == 0 {
			return
		}
		for i, y := range x {
			d.checkValue(t, fmt.Sprintf("%s[%d]", where, i), s.Items, y)
		}
	}
}

// checkAnswer holds a real answer to the operation method+path (as the
// document writes it, e.g. /api/v1/competitions/{id}) to the document.
func (d *oaDoc) checkAnswer(t *testing.T, method, path string, r *response) {
	t.Helper()
	key := method + " " + path
	op, ok := d.operations(t)[key]
	if !ok {
		t.Errorf("%s is not documented", key)
		return
	}
	doc, ok := d.response(t, op, r.StatusCode)
	if !ok {
		t.Errorf("%s answered %d, which the document does not list for it; body %.300s", key, r.StatusCode, r.body)
		return
	}
	if len(r.body) == 0 {
		if len(doc.Content) > 0 {
			t.Errorf("%s %d: empty body, but the document describes one", key, r.StatusCode)
		}
		return
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		t.Errorf("%s %d: Content-Type %q, want application/json", key, r.StatusCode, r.Header.Get("Content-Type"))
		return
	}
	c, ok := doc.Content["application/json"]
	if !ok || len(c.Schema) == 0 {
		t.Errorf("%s %d: the document has no application/json schema for this answer", key, r.StatusCode)
		return
	}
	var v any
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Errorf("%s %d: body is not JSON: %v", key, r.StatusCode, err)
		return
	}
	if _, isObject := v.(map[string]any); !isObject {
		t.Errorf("%s %d: body %.200s is not a JSON object", key, r.StatusCode, r.body)
		return
	}
	d.checkValue(t, fmt.Sprintf("%s %d", key, r.StatusCode), c.Schema, v)
}

// routeParam matches Fiber's ":id" (and an optional "?").
var routeParam = regexp.MustCompile(`:([A-Za-z0-9_]+)\??`)

// openAPIPath writes a Fiber route path as OpenAPI does: /a/:id → /a/{id},
// without a trailing slash (a group's "/" route is registered as "/users/").
func openAPIPath(p string) string {
	p = routeParam.ReplaceAllString(p, "{$1}")
	if len(p) > 1 {
		p = strings.TrimRight(p, "/")
	}
	return p
}

// TestOpenAPIRoutes: every /api/v1 route the server registers is in the
// document and every documented operation is served (HEAD, which Fiber adds
// to each GET, is ignored).
func TestOpenAPIRoutes(t *testing.T) {
	doc := loadOpenAPI(t)
	a := apptest.NewApp(t, stack.Config(t))
	served := map[string]bool{}
	for _, r := range a.Handler().GetRoutes(true) {
		if r.Method == http.MethodHead || (r.Path != apiPrefix && !strings.HasPrefix(r.Path, apiPrefix+"/")) {
			continue
		}
		served[r.Method+" "+openAPIPath(r.Path)] = true
	}
	if len(served) == 0 {
		t.Fatal("the server registers no /api/v1 routes")
	}
	documented := doc.operations(t)
	var missing, extra []string
	for k := range served {
		if _, ok := documented[k]; !ok {
			missing = append(missing, k)
		}
	}
	for k := range documented {
		if !served[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	for _, k := range missing {
		t.Errorf("%s is served but not documented in handlers/openapi.json", k)
	}
	for _, k := range extra {
		t.Errorf("%s is documented in handlers/openapi.json but the server has no such route", k)
	}
}

// TestOpenAPIAnswers makes real requests and holds their answers to the
// document: the status is listed for the operation, and the JSON body has
// only declared properties and every required one.
func TestOpenAPIAnswers(t *testing.T) {
	doc := loadOpenAPI(t)
	a := apptest.NewApp(t, stack.Config(t))
	c := newClient(t, a)

	// The document is served, byte for byte, as JSON.
	r := c.get(apiPrefix + "/openapi.json")
	if r.StatusCode != http.StatusOK {
		t.Errorf("GET %s/openapi.json: status %d, want 200 (is the route registered?)", apiPrefix, r.StatusCode)
	} else {
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
			t.Errorf("GET %s/openapi.json: Content-Type %q, want application/json", apiPrefix, r.Header.Get("Content-Type"))
		}
		if string(r.body) != string(openAPIFile) {
			t.Errorf("GET %s/openapi.json does not serve handlers/openapi.json as it is", apiPrefix)
		}
		doc.checkAnswer(t, http.MethodGet, apiPrefix+"/openapi.json", r)
	}

	// Register: 201, then 422 with fields.
	r = c.jsonReq(http.MethodPost, apiPrefix+"/accounts", applicantBody("hopdong@example.vn"), "")
	expectStatus(t, r, http.StatusCreated)
	doc.checkAnswer(t, http.MethodPost, apiPrefix+"/accounts", r)
	bad := applicantBody("không phải thư")
	bad["consent"] = map[string]any{"terms": false}
	r = c.jsonReq(http.MethodPost, apiPrefix+"/accounts", bad, "")
	expectStatus(t, r, http.StatusUnprocessableEntity)
	doc.checkAnswer(t, http.MethodPost, apiPrefix+"/accounts", r)
	var e errBody
	r.json(t, &e)
	if e.Error.Code != "validation_failed" || e.Error.Fields["email"] == "" || e.Error.Fields["consent"] == "" {
		t.Errorf("422 body %s", r.body)
	}

	// A token, then /me with it (200) and without (401).
	r = c.jsonReq(http.MethodPost, apiPrefix+"/tokens", map[string]string{"email": "hopdong@example.vn", "password": goodPassword}, "")
	expectStatus(t, r, http.StatusCreated)
	doc.checkAnswer(t, http.MethodPost, apiPrefix+"/tokens", r)
	var tok struct {
		Token string `json:"token"`
	}
	r.json(t, &tok)
	r = c.jsonReq(http.MethodGet, apiPrefix+"/me", nil, tok.Token)
	expectStatus(t, r, http.StatusOK)
	doc.checkAnswer(t, http.MethodGet, apiPrefix+"/me", r)
	r = c.jsonReq(http.MethodGet, apiPrefix+"/me", nil, "")
	expectStatus(t, r, http.StatusUnauthorized)
	doc.checkAnswer(t, http.MethodGet, apiPrefix+"/me", r)

	// Competitions: staff create one (a draft), then list: staff see it,
	// anyone else gets an empty list.
	makeUser(t, a, "canbo@example.vn", models.RoleStaff)
	stok := token(t, c, "canbo@example.vn", goodPassword)
	r = c.jsonReq(http.MethodPost, apiPrefix+"/competitions", map[string]any{
		"title": map[string]string{"vi": "Ý tưởng khởi nghiệp 2026"}, "year": 2026,
		"opens_at": "2026-11-01T00:00:00+07:00", "closes_at": "2026-12-31T23:59:59+07:00",
		"rounds": []map[string]any{{"key": "so-khao", "name": map[string]string{"vi": "Sơ khảo"}}},
	}, stok)
	expectStatus(t, r, http.StatusCreated)
	doc.checkAnswer(t, http.MethodPost, apiPrefix+"/competitions", r)
	r = c.jsonReq(http.MethodGet, apiPrefix+"/competitions", nil, stok)
	expectStatus(t, r, http.StatusOK)
	doc.checkAnswer(t, http.MethodGet, apiPrefix+"/competitions", r)
	var list struct {
		Competitions []json.RawMessage `json:"competitions"`
	}
	r.json(t, &list)
	if len(list.Competitions) != 1 {
		t.Errorf("staff list %d competitions, want the draft", len(list.Competitions))
	}
	r = c.jsonReq(http.MethodGet, apiPrefix+"/competitions", nil, "")
	expectStatus(t, r, http.StatusOK)
	doc.checkAnswer(t, http.MethodGet, apiPrefix+"/competitions", r)
}

// TestOpenAPIEntryAnswers holds the answers of the entry journey to the
// document: draft, read, edit without a version, submit refused, deck
// upload accepted and refused, submit, withdraw.
func TestOpenAPIEntryAnswers(t *testing.T) {
	doc := loadOpenAPI(t)
	j := newJourney(t)
	r := j.appl.jsonReq(http.MethodPost, apiPrefix+"/competitions/"+j.compID+"/entries", entryBody(), j.atok)
	expectStatus(t, r, http.StatusCreated)
	doc.checkAnswer(t, http.MethodPost, apiPrefix+"/competitions/{id}/entries", r)
	var ent models.Entry
	r.json(t, &ent)
	r = j.appl.jsonReq(http.MethodPost, apiPrefix+"/competitions/"+j.compID+"/entries", entryBody(), j.atok)
	expectStatus(t, r, http.StatusConflict)
	doc.checkAnswer(t, http.MethodPost, apiPrefix+"/competitions/{id}/entries", r)

	r = j.staff.jsonReq(http.MethodGet, apiPrefix+"/competitions/"+j.compID, nil, j.stok)
	expectStatus(t, r, http.StatusOK)
	doc.checkAnswer(t, http.MethodGet, apiPrefix+"/competitions/{id}", r)

	path := apiPrefix + "/entries/" + ent.ID
	r = j.appl.jsonReq(http.MethodGet, path, nil, j.atok)
	expectStatus(t, r, http.StatusOK)
	doc.checkAnswer(t, http.MethodGet, apiPrefix+"/entries/{id}", r)
	r = j.appl.jsonReq(http.MethodPatch, path, map[string]any{"title": "Trà shan tuyết cổ thụ"}, j.atok)
	expectStatus(t, r, http.StatusPreconditionRequired)
	doc.checkAnswer(t, http.MethodPatch, apiPrefix+"/entries/{id}", r)
	r = j.appl.jsonReq(http.MethodPatch, path, map[string]any{"title": "Trà shan tuyết cổ thụ", "version": ent.Version}, j.atok)
	expectStatus(t, r, http.StatusOK)
	doc.checkAnswer(t, http.MethodPatch, apiPrefix+"/entries/{id}", r)

	r = j.appl.jsonReq(http.MethodPost, path+"/submit", nil, j.atok)
	expectStatus(t, r, http.StatusUnprocessableEntity)
	doc.checkAnswer(t, http.MethodPost, apiPrefix+"/entries/{id}/submit", r)

	r = j.appl.upload(http.MethodPut, path+"/deck", j.atok, "png.pdf", apptest.Fixture(t, "png-renamed.pdf"))
	expectStatus(t, r, http.StatusUnsupportedMediaType)
	doc.checkAnswer(t, http.MethodPut, apiPrefix+"/entries/{id}/deck", r)
	r = j.appl.upload(http.MethodPut, path+"/deck", j.atok, "deck.pdf", apptest.Fixture(t, "valid-deck.pdf"))
	expectStatus(t, r, http.StatusCreated)
	doc.checkAnswer(t, http.MethodPut, apiPrefix+"/entries/{id}/deck", r)

	r = j.appl.jsonReq(http.MethodPost, path+"/submit", nil, j.atok)
	expectStatus(t, r, http.StatusOK)
	doc.checkAnswer(t, http.MethodPost, apiPrefix+"/entries/{id}/submit", r)
	r = j.staff.jsonReq(http.MethodPost, path+"/reopen", map[string]string{"reason": "thiếu trang"}, j.stok)
	expectStatus(t, r, http.StatusOK)
	doc.checkAnswer(t, http.MethodPost, apiPrefix+"/entries/{id}/reopen", r)
	r = j.appl.jsonReq(http.MethodPost, path+"/withdraw", nil, j.atok)
	expectStatus(t, r, http.StatusOK)
	doc.checkAnswer(t, http.MethodPost, apiPrefix+"/entries/{id}/withdraw", r)
	r = j.appl.jsonReq(http.MethodPatch, path, map[string]any{"title": "x", "version": 99}, j.atok)
	expectStatus(t, r, http.StatusConflict)
	doc.checkAnswer(t, http.MethodPatch, apiPrefix+"/entries/{id}", r)
}
