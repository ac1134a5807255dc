package app_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/sprout-vn/sprout/models"
)

// The route × role matrix (issue 9 item 8). Every route the router serves
// is asked by eight kinds of caller; each answer must fall in the class the
// matrix gives. A route without a line here fails the test, so a new route
// cannot be added without deciding who may use it.
//
// Roles, in column order: anonymous, applicant (leader of the entry),
// judge not on the panel, judge assigned to the entry, judge who declared a
// conflict with it, chair of the panel (not assigned to it), staff, admin.
//
// Classes: A allowed (any answer but 401, 403, 404 or a redirect to the
// sign-in page, and no 5xx); U must sign in (401, or 303 to /login for a
// page); F forbidden (403); N not found (404); * anything but a 5xx.
var matrixRoles = []string{"anonymous", "applicant", "judge-off-panel", "judge-assigned", "judge-conflicted", "chair", "staff", "admin"}

var routeMatrix = map[string]string{
	"GET /":                                    "********",
	"GET /healthz":                             "********",
	"GET /readyz":                              "********",
	"GET /login":                               "********",
	"GET /register":                            "********",
	"POST /login":                              "********",
	"POST /register":                           "********",
	"POST /lang":                               "********",
	"POST /logout":                             "********",
	"GET /api/v1/openapi.json":                 "********",
	"POST /api/v1/accounts":                    "********",
	"POST /api/v1/tokens":                      "********",
	"GET /api/v1/competitions":                 "********",
	"GET /api/v1/competitions/:id":             "********",
	"GET /competitions/:id":                    "********",
	"GET /account":                             "UAAAAAAA",
	"GET /account/export":                      "UAAAAAAA",
	"GET /api/v1/me/export":                    "UAAAAAAA",
	"GET /password/forgot":                     "********",
	"POST /password/forgot":                    "********",
	"GET /password/reset/:token":               "********",
	"POST /password/reset/:token":              "********",
	"POST /api/v1/password-resets":             "********",
	"POST /api/v1/password-resets/:token":      "********",
	"GET /account/password":                    "UAAAAAAA",
	"POST /account/password":                   "UAAAAAAA",
	"GET /account/profile":                     "UAAAAAAA",
	"POST /account/profile":                    "UAAAAAAA",
	"PUT /api/v1/me/password":                  "UAAAAAAA",
	"PATCH /api/v1/me":                         "UAAAAAAA",
	"POST /admin/users/:id/reset":              "UFFFFFFA",
	"POST /api/v1/users/:id/reset":             "UFFFFFFA",
	"GET /api/v1/me":                           "UAAAAAAA",
	"DELETE /api/v1/tokens/current":            "UAAAAAAA",
	"POST /competitions/:id/entries":           "UAFFFFFF",
	"GET /entries/:id":                         "UANNNNNN",
	"POST /entries/:id":                        "UANNNNNN",
	"POST /entries/:id/submit":                 "UANNNNNN",
	"POST /entries/:id/deck":                   "UANNNNNN",
	"POST /entries/:id/withdraw":               "UANNNNNN",
	"GET /api/v1/entries/:id":                  "UANNNNAA",
	"GET /api/v1/entries/:id/deck":             "UANNNNAA",
	"PATCH /api/v1/entries/:id":                "UANNNNNN",
	"PUT /api/v1/entries/:id/deck":             "UANNNNNN",
	"POST /api/v1/entries/:id/submit":          "UANNNNNN",
	"POST /api/v1/entries/:id/withdraw":        "UANNNNNN",
	"POST /api/v1/entries/:id/reopen":          "UFFFFFAA",
	"POST /api/v1/competitions/:id/entries":    "UAFFFFFF",
	"POST /api/v1/competitions":                "UFFFFFAA",
	"PATCH /api/v1/competitions/:id":           "UFFFFFAA",
	"POST /api/v1/competitions/:id/transition": "UFFFFFAA",
	"GET /staff/":                              "UFFFFFAA",
	"GET /staff/outbox":                        "UFFFFFAA",
	"GET /staff/competitions/new":              "UFFFFFAA",
	"POST /staff/competitions":                 "UFFFFFAA",
	"GET /staff/competitions/:id":              "UFFFFFAA",
	"POST /staff/competitions/:id":             "UFFFFFAA",
	"POST /staff/competitions/:id/transition":  "UFFFFFAA",
	"GET /staff/competitions/:id/entries":      "UFFFFFAA",
	"GET /staff/competitions/:id/entries.csv":  "UFFFFFAA",
	"GET /staff/entries/:id":                   "UFFFFFAA",
	"POST /staff/entries/:id/reopen":           "UFFFFFAA",
	"POST /staff/entries/:id/restore":          "UFFFFFAA",
	"POST /api/v1/entries/:id/restore":         "UFFFFFAA",
	"GET /admin/users":                         "UFFFFFFA",
	"POST /admin/users":                        "UFFFFFFA",
	"POST /admin/users/:id/disable":            "UFFFFFFA",
	"POST /admin/users/:id/enable":             "UFFFFFFA",
	"POST /api/v1/users/":                      "UFFFFFFA",
	"POST /api/v1/users/:id/disable":           "UFFFFFFA",
	"POST /api/v1/users/:id/enable":            "UFFFFFFA",
	// The council: leads are staff, admins and the panel's chairs.
	"GET /council/:id":                                        "UFNNNAAA",
	"POST /council/:id/judges":                                "UFNNNFAA",
	"POST /council/:id/judges/:user_id/remove":                "UFNNNFAA",
	"GET /council/:id/rounds/:round":                          "UFNNNAAA",
	"GET /council/:id/rounds/:round/ranking":                  "UFNFAAAA",
	"GET /council/:id/rounds/:round/ranking.csv":              "UFNFAAAA",
	"GET /api/v1/competitions/:id/rounds/:round/ranking":      "UFNFAAAA",
	"POST /council/:id/rounds/:round/assign":                  "UFNNNAAA",
	"POST /council/:id/rounds/:round/release":                 "UFNNNAAA",
	"POST /council/:id/rounds/:round/slots":                   "UFNNNAAA",
	"POST /council/:id/rounds/:round/slots/:aid/:action":      "UFNNNAFF", // :action is override: chairs only
	"GET /api/v1/competitions/:id/judges":                     "UFNNNAAA",
	"POST /api/v1/competitions/:id/judges":                    "UFNNNFAA",
	"DELETE /api/v1/competitions/:id/judges/:user_id":         "UFNNNFAA",
	"POST /api/v1/competitions/:id/rounds/:round/assign":      "UFNNNAAA",
	"POST /api/v1/competitions/:id/rounds/:round/release":     "UFNNNAAA",
	"GET /api/v1/competitions/:id/rounds/:round/assignments":  "UFNNNAAA",
	"POST /api/v1/competitions/:id/rounds/:round/assignments": "UFNNNAAA",
	"DELETE /api/v1/assignments/:id":                          "UFNNNAAA",
	"POST /api/v1/assignments/:id/move":                       "UFNNNAAA",
	// The judge's own work.
	"GET /judge":                            "UFAAAAFF",
	"GET /judge/assignments/:id":            "UFNANNFF",
	"POST /judge/assignments/:id":           "UFNANNFF",
	"POST /judge/assignments/:id/conflict":  "UFNANNFF",
	"GET /judge/assignments/:id/deck":       "UFNANNFF",
	"GET /api/v1/assignments":               "UFAAAAFF",
	"GET /api/v1/assignments/:id/entry":     "UFNANAAA",
	"GET /api/v1/assignments/:id/deck":      "UFNANAAA",
	"GET /api/v1/assignments/:id/reviews":   "UFNFNAAA",
	"PUT /api/v1/assignments/:id/review":    "UFNANNFF",
	"POST /api/v1/assignments/:id/conflict": "UFNANNFF",
	"POST /api/v1/assignments/:id/override": "UFNNNAFF",
}

// matrixLast are routes asked last in a pass, because an allowed caller's
// request ends or changes what later ones need.
var matrixLast = []string{
	"POST /api/v1/assignments/:id/conflict", "POST /judge/assignments/:id/conflict",
	"POST /api/v1/assignments/:id/move", "DELETE /api/v1/assignments/:id",
	"DELETE /api/v1/competitions/:id/judges/:user_id", "POST /council/:id/judges/:user_id/remove",
	"POST /entries/:id/withdraw", "POST /api/v1/entries/:id/withdraw",
	"DELETE /api/v1/tokens/current", "POST /logout",
}

// matrixFixture is one pass's world: a competition with a released round,
// the entry E0 with the assigned judge's assignment A and the conflicted
// judge's assignment C.
type matrixFixture struct {
	f                 *councilFixture
	assigned, coi, ch *councilJudge
	off               *councilJudge
	a, conflictID     string
	spare             string // a user admins may disable
}

func newMatrixFixture(t *testing.T) *matrixFixture {
	f := newCouncil(t, 2, 4)
	f.addPanel(t, 3)
	m := &matrixFixture{f: f, assigned: f.judges[1], coi: f.judges[2], ch: f.judges[3]}
	e0 := f.entries[0].id
	for _, j := range []*councilJudge{m.assigned, m.coi} {
		r := f.staff.jsonReq(http.MethodPost, f.roundPath("/assignments"), map[string]string{"entry_id": e0, "judge_id": j.id}, f.stok)
		expectStatus(t, r, http.StatusCreated)
	}
	expectStatus(t, f.staff.jsonReq(http.MethodPost, f.roundPath("/release"), nil, f.stok), http.StatusOK)
	m.a = models.AssignmentID(f.compID, roundKey, e0, m.assigned.id)
	m.conflictID = models.AssignmentID(f.compID, roundKey, e0, m.coi.id)
	expectStatus(t, m.coi.c.jsonReq(http.MethodPost, apiPrefix+"/assignments/"+m.conflictID+"/conflict", map[string]string{"reason": "Người nhà"}, m.coi.tok), http.StatusOK)
	offUser := makeUser(t, f.a, "ngoai@example.vn", models.RoleJudge)
	oc := newClient(t, f.a)
	m.off = &councilJudge{id: offUser.ID, email: "ngoai@example.vn", tok: token(t, oc, "ngoai@example.vn", goodPassword), c: oc}
	m.spare = makeUser(t, f.a, "du@example.vn", models.RoleMentor).ID
	return m
}

// caller returns the client, token and own-assignment id of a role (the
// admin is created on demand).
func (m *matrixFixture) caller(t *testing.T, role string) (*client, string, string, string) {
	f := m.f
	switch role {
	case "anonymous":
		return newClient(t, f.a), "", "", m.a
	case "applicant":
		return f.loginClient(t, f.entries[0].leaderEmail), f.entries[0].leaderEmail, token(t, newClient(t, f.a), f.entries[0].leaderEmail, goodPassword), m.a
	case "judge-off-panel":
		return f.loginClient(t, m.off.email), m.off.email, m.off.tok, m.a
	case "judge-assigned":
		return f.loginClient(t, m.assigned.email), m.assigned.email, m.assigned.tok, m.a
	case "judge-conflicted":
		return f.loginClient(t, m.coi.email), m.coi.email, m.coi.tok, m.conflictID
	case "chair":
		return f.loginClient(t, m.ch.email), m.ch.email, m.ch.tok, m.a
	case "staff":
		return f.loginClient(t, "canbo@example.vn"), "canbo@example.vn", f.stok, m.a
	default:
		makeUser(t, f.a, "quantri@example.vn", models.RoleAdmin)
		c := f.loginClient(t, "quantri@example.vn")
		return c, "quantri@example.vn", token(t, newClient(t, f.a), "quantri@example.vn", goodPassword), m.a
	}
}

func (f *councilFixture) loginClient(t *testing.T, email string) *client {
	c := newClient(t, f.a)
	expectStatus(t, c.signIn(email, goodPassword), http.StatusSeeOther)
	return c
}

func TestRouteRoleMatrix(t *testing.T) {
	probe := newApp(t)
	var routes []string
	seen := map[string]bool{}
	for _, r := range probe.Handler().GetRoutes(true) {
		if r.Method == http.MethodHead || r.Method == "USE" {
			continue
		}
		k := r.Method + " " + r.Path
		if !seen[k] {
			seen[k] = true
			routes = append(routes, k)
		}
	}
	for _, k := range routes {
		if _, ok := routeMatrix[k]; !ok {
			t.Errorf("route %s has no line in the route × role matrix", k)
		}
	}
	for k := range routeMatrix {
		if !seen[k] {
			t.Errorf("the matrix lists %s, which is not served", k)
		}
	}
	if t.Failed() {
		return
	}
	last := map[string]int{}
	for i, k := range matrixLast {
		last[k] = i + 1
	}
	sort.SliceStable(routes, func(i, j int) bool {
		li, lj := last[routes[i]], last[routes[j]]
		if li != lj {
			return li < lj
		}
		si, sj := strings.HasPrefix(routes[i], "GET "), strings.HasPrefix(routes[j], "GET ")
		return si && !sj
	})
	for ri, role := range matrixRoles {
		t.Run(role, func(t *testing.T) {
			m := newMatrixFixture(t)
			c, _, tok, own := m.caller(t, role)
			for _, k := range routes {
				method, pattern, _ := strings.Cut(k, " ")
				path := m.fill(pattern, own)
				r := m.ask(t, c, method, path, tok)
				want := routeMatrix[k][ri]
				if !matrixClass(want, r) {
					t.Errorf("%s %s as %s: %d (want %c): %.200s", method, path, role, r.StatusCode, want, r.body)
				}
			}
		})
	}
}

// fill puts the fixture's ids into a route pattern.
func (m *matrixFixture) fill(pattern, own string) string {
	f := m.f
	id := f.compID
	switch {
	case strings.Contains(pattern, "/entries/:id"):
		id = f.entries[0].id
	case strings.Contains(pattern, "/assignments/:id"):
		id = own
	case strings.Contains(pattern, "/users/:id"):
		id = m.spare
	}
	uid := m.assigned.id
	if strings.HasPrefix(pattern, "/council/") {
		uid = m.coi.id // the API and the page each take a different judge off
	}
	r := strings.NewReplacer(":token", "no-such-token", ":id", id, ":round", roundKey, ":user_id", uid, ":aid", m.a, ":action", "override")
	return r.Replace(pattern)
}

// ask sends the request as a browser would for a page (session cookie and
// CSRF token) and as an API client would for the API (bearer token), with
// an empty body, so an allowed caller gets a validation answer rather than
// changing much.
func (m *matrixFixture) ask(t *testing.T, c *client, method, path, tok string) *response {
	if strings.HasPrefix(path, "/api/") {
		var body any
		if method != http.MethodGet && method != http.MethodDelete {
			body = map[string]any{}
		}
		return newClient(t, m.f.a).jsonReq(method, path, body, tok)
	}
	if method == http.MethodGet {
		return c.get(path)
	}
	page := "/login"
	if tok != "" {
		page = "/account"
	}
	csrf := c.csrfFrom(page)
	if strings.HasSuffix(path, "/deck") {
		// Deck uploads stream, so their form carries the token in its action.
		path += "?_csrf=" + url.QueryEscape(csrf)
	}
	req := httptest.NewRequest(method, path, strings.NewReader(url.Values{"_csrf": {csrf}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

func matrixClass(want byte, r *response) bool {
	s := r.StatusCode
	if s >= 500 {
		return false
	}
	toLogin := s == http.StatusSeeOther && strings.HasPrefix(r.Header.Get("Location"), "/login")
	switch want {
	case '*':
		return true
	case 'A':
		return s != 401 && s != 403 && s != 404 && !toLogin
	case 'U':
		return s == 401 || toLogin
	case 'F':
		return s == 403
	case 'N':
		return s == 404
	}
	return false
}
