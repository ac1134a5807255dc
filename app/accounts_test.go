package app_test

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/sprout-vn/sprout/models"
)

func TestRegisterAPI(t *testing.T) {
	a := newApp(t)
	c := newClient(t, a)

	r := c.jsonReq(http.MethodPost, "/api/v1/accounts", applicantBody("Mai@Example.VN"), "")
	expectStatus(t, r, http.StatusCreated)
	var got struct {
		ID    string   `json:"id"`
		Email string   `json:"email"`
		Name  string   `json:"name"`
		Roles []string `json:"roles"`
	}
	r.json(t, &got)
	if got.ID == "" || got.Email != "mai@example.vn" || got.Name != "Hoàng Thị Mai" || len(got.Roles) != 1 || got.Roles[0] != "applicant" {
		t.Fatalf("unexpected account %+v", got)
	}
	if strings.Contains(r.text(), "password") {
		t.Fatalf("response leaks password fields: %s", r.body)
	}

	u, err := a.Store().UserByID(context.Background(), got.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(u.Consents) != 1 || u.Consents[0].Purpose != models.PurposeTerms || u.Consents[0].NoticeVersion != models.NoticeVersion ||
		u.Consents[0].TextHash == "" || u.Consents[0].Channel != "api" || u.Consents[0].At.IsZero() {
		t.Fatalf("consent not recorded: %+v", u.Consents)
	}
	if !strings.HasPrefix(u.PasswordHash, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("password not hashed with argon2id: %q", u.PasswordHash)
	}

	t.Run("a taken address is answered as a new one and its owner is mailed", func(t *testing.T) {
		before, err := a.Store().UserByID(context.Background(), got.ID)
		if err != nil {
			t.Fatal(err)
		}
		r := c.jsonReq(http.MethodPost, "/api/v1/accounts", applicantBody("MAI@example.vn"), "")
		expectStatus(t, r, http.StatusCreated)
		var again map[string]any
		r.json(t, &again)
		var first map[string]any
		r0 := c.jsonReq(http.MethodPost, "/api/v1/accounts", applicantBody("lan@example.vn"), "")
		expectStatus(t, r0, http.StatusCreated)
		r0.json(t, &first)
		if keysOf(again) != keysOf(first) || again["email"] != "mai@example.vn" || again["id"] == got.ID {
			t.Fatalf("the answer for a taken address differs from a new one:\n%v\n%v", again, first)
		}
		// No account was made or changed: the decoy id names nobody and
		// the owner's password is what it was.
		if _, err := a.Store().UserByID(context.Background(), again["id"].(string)); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("decoy id resolves: %v", err)
		}
		after, err := a.Store().UserByEmail(context.Background(), "mai@example.vn")
		if err != nil || after.ID != got.ID || after.PasswordHash != before.PasswordHash {
			t.Fatalf("owner's account changed: %v %+v", err, after)
		}
		mail, err := a.Store().ListOutbox(context.Background(), 20)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, m := range mail {
			if m.To == "mai@example.vn" && strings.Contains(m.Body, "/login") {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("owner got %d warning mails, want 1: %+v", n, mail)
		}
	})
}

func keysOf(m map[string]any) string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ",")
}

type errBody struct {
	Error struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		Fields  map[string]string `json:"fields"`
	} `json:"error"`
}

func TestRegisterAPIValidation(t *testing.T) {
	a := newApp(t)
	c := newClient(t, a)
	cases := []struct {
		name   string
		edit   func(m map[string]any)
		status int
		field  string
		lang   string
		want   string
	}{
		{"missing email", func(m map[string]any) { delete(m, "email") }, 422, "email", "en", "E-mail"},
		{"bad email vi", func(m map[string]any) { m["email"] = "not-an-email" }, 422, "email", "vi", "Thư điện tử"},
		{"short password", func(m map[string]any) { m["password"] = "short" }, 422, "password", "en", "at least 8"},
		{"common password", func(m map[string]any) { m["password"] = "matkhau123" }, 422, "password", "vi", "phổ biến"},
		{"no consent", func(m map[string]any) { m["consent"] = map[string]any{"terms": false} }, 422, "consent", "en", "agree"},
		{"old notice", func(m map[string]any) { m["consent"] = map[string]any{"terms": true, "notice_version": "2020-01"} }, 422, "consent", "en", "notice has been updated"},
		{"birth year", func(m map[string]any) { m["birth_year"] = 1800 }, 422, "birth_year", "en", "birth year"},
		{"bad gender", func(m map[string]any) { m["gender"] = "x" }, 422, "gender", "en", "Gender"},
		{"bad phone", func(m map[string]any) { m["phone"] = "call me" }, 422, "phone", "en", "phone number is not valid"},
		{"wrong type", func(m map[string]any) { m["birth_year"] = "two thousand" }, 400, "", "en", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := applicantBody("v-" + strings.ReplaceAll(tc.name, " ", "") + "@example.vn")
			tc.edit(body)
			c.lang = tc.lang
			r := c.jsonReq(http.MethodPost, "/api/v1/accounts", body, "")
			expectStatus(t, r, tc.status)
			var e errBody
			r.json(t, &e)
			if tc.field == "" {
				return
			}
			if e.Error.Code != "validation_failed" {
				t.Fatalf("code %q", e.Error.Code)
			}
			msg := e.Error.Fields[tc.field]
			if !strings.Contains(strings.ToLower(msg), strings.ToLower(tc.want)) {
				t.Fatalf("field %s message %q does not contain %q (all: %v)", tc.field, msg, tc.want, e.Error.Fields)
			}
		})
	}
	// Nothing was created by any failed request.
	users, err := a.Store().ListUsers(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 0 {
		t.Fatalf("failed registrations created %d users", len(users))
	}
}

func TestRegisterIgnoresPrivilegedFields(t *testing.T) {
	a := newApp(t)
	c := newClient(t, a)
	body := applicantBody("sneaky@example.vn")
	body["roles"] = []string{"admin"}
	body["role"] = "admin"
	body["disabled"] = true
	body["id"] = "chosen-id"
	r := c.jsonReq(http.MethodPost, "/api/v1/accounts", body, "")
	expectStatus(t, r, http.StatusCreated)
	u, err := a.Store().UserByEmail(context.Background(), "sneaky@example.vn")
	if err != nil {
		t.Fatal(err)
	}
	if u.HasRole(models.RoleAdmin) || u.Disabled || u.ID == "chosen-id" {
		t.Fatalf("privileged fields were taken from the body: %+v", u)
	}
}

func TestOperatorKeysRejected(t *testing.T) {
	a := newApp(t)
	c := newClient(t, a)
	body := applicantBody("op@example.vn")
	body["email"] = map[string]any{"$ne": ""}
	r := c.jsonReq(http.MethodPost, "/api/v1/accounts", body, "")
	expectStatus(t, r, http.StatusBadRequest)
	r = c.jsonReq(http.MethodPost, "/api/v1/tokens", `{"email":{"$gt":""},"password":{"$ne":1}}`, "")
	expectStatus(t, r, http.StatusBadRequest)
	r = c.get("/?status[$ne]=draft")
	expectStatus(t, r, http.StatusBadRequest)
	r = c.get("/api/v1/me?$where=1")
	expectStatus(t, r, http.StatusBadRequest)
}

func TestRegisterHTMLForm(t *testing.T) {
	a := newApp(t)
	c := newClient(t, a)
	tok := c.csrfFrom("/register")
	vals := func() map[string][]string {
		return map[string][]string{
			"name": {"Lù Văn Sinh"}, "email": {"sinh@example.vn"}, "password": {goodPassword},
			"birth_year": {"1999"}, "gender": {"male"}, "province": {"Lào Cai"}, "commune": {"Bắc Hà"},
		}
	}
	// Without consent: 422, the form comes back with the message and the values.
	r := c.form("/register", vals(), tok)
	expectStatus(t, r, http.StatusUnprocessableEntity)
	if !strings.Contains(r.text(), "Bạn cần đồng ý") || !strings.Contains(r.text(), `value="sinh@example.vn"`) {
		t.Fatalf("form not re-rendered with error and values: %.2000s", r.body)
	}
	if strings.Contains(r.text(), goodPassword) {
		t.Fatal("password echoed back into the form")
	}
	v := vals()
	v["consent_terms"] = []string{"1"}
	r = c.form("/register", v, tok)
	expectStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != "/account" {
		t.Fatalf("redirect to %q", loc)
	}
	r = c.get("/account")
	expectStatus(t, r, http.StatusOK)
	if !strings.Contains(r.text(), "Lù Văn Sinh") || !strings.Contains(r.text(), "Đã tạo tài khoản") {
		t.Fatalf("account page after registration: %.1500s", r.body)
	}
	u, err := a.Store().UserByEmail(context.Background(), "sinh@example.vn")
	if err != nil {
		t.Fatal(err)
	}
	if u.Consents[0].Channel != "web" {
		t.Fatalf("consent channel %q", u.Consents[0].Channel)
	}

	// The same address again, from another browser: the answer is the one
	// a new address gets (303 to /account), nothing changes, the owner is
	// mailed.
	o := newClient(t, a)
	otok := o.csrfFrom("/register")
	v["password"] = []string{"một mật khẩu khác hẳn"}
	r = o.form("/register", v, otok)
	expectStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != "/account" {
		t.Fatalf("taken address: redirect to %q", loc)
	}
	if after, _ := a.Store().UserByEmail(context.Background(), "sinh@example.vn"); after.PasswordHash != u.PasswordHash {
		t.Fatal("the owner's password changed")
	}
	mail, _ := a.Store().ListOutbox(context.Background(), 10)
	if len(mail) != 1 || mail[0].To != "sinh@example.vn" {
		t.Fatalf("owner not mailed: %+v", mail)
	}
}

// TestAdminCreateUserKeepsRoles: a refused "create user" form comes back
// with what was typed, the ticked roles included.
func TestAdminCreateUserKeepsRoles(t *testing.T) {
	a := newApp(t)
	makeUser(t, a, "root@example.vn", models.RoleAdmin)
	c := newClient(t, a)
	expectStatus(t, c.signIn("root@example.vn", goodPassword), http.StatusSeeOther)
	tok := c.csrfFrom("/admin/users")
	r := c.form("/admin/users", map[string][]string{"email": {"khong-hop-le"}, "name": {"Giám khảo Mới"}, "password": {goodPassword}, "roles": {"judge", "mentor"}}, tok)
	expectStatus(t, r, http.StatusUnprocessableEntity)
	for _, role := range []string{"judge", "mentor"} {
		if !strings.Contains(r.text(), `value="`+role+`" checked`) {
			t.Errorf("role %s not kept ticked", role)
		}
	}
	if strings.Contains(r.text(), `value="staff" checked`) || !strings.Contains(r.text(), "Giám khảo Mới") {
		t.Fatalf("form not re-filled as typed: %.2000s", r.body)
	}
}

// TestValidationMessagesInOneLanguage: messages name the form's label and
// are wholly in the user's language (validator's Vietnamese used to say
// "phải là giá trị email address").
func TestValidationMessagesInOneLanguage(t *testing.T) {
	a := newApp(t)
	c := newClient(t, a)
	body := applicantBody("not-an-email")
	body["name"] = strings.Repeat("x", 200)
	c.lang = "vi"
	r := c.jsonReq(http.MethodPost, "/api/v1/accounts", body, "")
	expectStatus(t, r, http.StatusUnprocessableEntity)
	var e errBody
	r.json(t, &e)
	if m := e.Error.Fields["email"]; !strings.HasPrefix(m, "Thư điện tử") || strings.Contains(m, "address") {
		t.Errorf("vi e-mail message: %q", m)
	}
	if m := e.Error.Fields["name"]; !strings.Contains(m, "Họ và tên") || !strings.Contains(m, "120") || strings.Contains(m, "name") {
		t.Errorf("vi name message: %q", m)
	}
	c.lang = "en"
	r = c.jsonReq(http.MethodPost, "/api/v1/accounts", body, "")
	r.json(t, &e)
	if m := e.Error.Fields["email"]; !strings.Contains(m, "valid e-mail") {
		t.Errorf("en e-mail message: %q", m)
	}
}
