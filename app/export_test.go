package app_test

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/sprout-vn/sprout/app/apptest"
)

// TestExportMyData: the ZIP holds the account (without the password
// hash), the entries led with their team, every deck version byte for
// byte, the mail sent to the person and the audit about them, with a
// README; and nobody else's data.
func TestExportMyData(t *testing.T) {
	j := newJourney(t)
	r := j.appl.jsonReq(http.MethodPost, apiPrefix+"/competitions/"+j.compID+"/entries", entryBody(), j.atok)
	expectStatus(t, r, http.StatusCreated)
	var ent struct{ ID string }
	r.json(t, &ent)
	pdf := apptest.Fixture(t, "valid-deck.pdf")
	expectStatus(t, j.appl.upload(http.MethodPut, apiPrefix+"/entries/"+ent.ID+"/deck", j.atok, "ban-dau.pdf", pdf), http.StatusCreated)
	second := pdfWithAuthor("mai", "mai@example.vn")
	expectStatus(t, j.appl.upload(http.MethodPut, apiPrefix+"/entries/"+ent.ID+"/deck", j.atok, "ban-sua.pdf", second), http.StatusCreated)
	// Someone else's data must not appear.
	o := newClient(t, j.a)
	register(t, o, "nguoikhac@example.vn")

	r = j.appl.jsonReq(http.MethodGet, apiPrefix+"/me/export", nil, j.atok)
	expectStatus(t, r, http.StatusOK)
	if r.Header.Get("Content-Type") != "application/zip" || !strings.Contains(r.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("headers %v", r.Header)
	}
	zr, err := zip.NewReader(bytes.NewReader(r.body), int64(len(r.body)))
	if err != nil {
		t.Fatalf("not a ZIP: %v", err)
	}
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		files[f.Name] = b
	}
	for _, name := range []string{"README.txt", "user.json", "entries.json", "reviews.json", "messages.json", "activity.json"} {
		if _, ok := files[name]; !ok {
			t.Errorf("%s missing from the export (has %v)", name, keysOfFiles(files))
		}
	}
	var acct map[string]any
	if err := json.Unmarshal(files["user.json"], &acct); err != nil || acct["email"] != "mai@example.vn" || acct["consents"] == nil {
		t.Fatalf("account.json: %s (%v)", files["user.json"], err)
	}
	all := ""
	for _, b := range files {
		all += string(b)
	}
	if strings.Contains(all, "argon2") || strings.Contains(all, "password_hash") {
		t.Fatal("the export holds the password hash")
	}
	if strings.Contains(all, "nguoikhac@example.vn") {
		t.Fatal("the export holds someone else's data")
	}
	if !strings.Contains(string(files["entries.json"]), "Lù Văn Sinh") || !strings.Contains(string(files["activity.json"]), "login:ok") {
		t.Fatalf("entries or activity incomplete:\n%s\n%s", files["entries.json"], files["activity.json"])
	}
	want := map[string]bool{sum(pdf): false, sum(second): false}
	for name, b := range files {
		if strings.HasPrefix(name, "decks/"+ent.ID+"/") {
			if _, ok := want[sum(b)]; ok {
				want[sum(b)] = true
			}
		}
	}
	for s, found := range want {
		if !found {
			t.Errorf("deck version %s missing from the export (%v)", s[:12], keysOfFiles(files))
		}
	}
	if n := auditCountJ(t, j, "personal:exported"); n != 1 {
		t.Fatalf("export audited %d times", n)
	}
	// The page's button: the same archive for a signed-in browser.
	expectStatus(t, j.appl.signIn("mai@example.vn", goodPassword), http.StatusSeeOther)
	if p := j.appl.get("/account"); !strings.Contains(p.text(), `href="/account/export"`) {
		t.Fatal("no export button on /account")
	}
	if z := j.appl.get("/account/export"); z.StatusCode != 200 || !bytes.HasPrefix(z.body, []byte("PK")) {
		t.Fatalf("/account/export: %d", z.StatusCode)
	}
}

func sum(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func keysOfFiles(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func auditCountJ(t *testing.T, j *journey, action string) int64 {
	t.Helper()
	n, err := j.a.Store().DB().Collection("audit").CountDocuments(t.Context(), map[string]any{"action": action})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
