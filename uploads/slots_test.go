package uploads

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime/multipart"
	"testing"
	"time"
)

// A full set of slots makes Receive wait, and give up when the request is
// cancelled, before anything is recorded or stored.
func TestReceiveWaitsForASlot(t *testing.T) {
	d := &Decks{Slots: NewSlots(1)}
	d.Slots <- struct{}{} // the only slot is taken
	body, ct := slotTestBody()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := d.Receive(ctx, body, ct, 1<<20, "u")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want to wait for a slot until the deadline", err)
	}
}
func slotTestBody() (io.Reader, string) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	fw, _ := w.CreateFormFile("deck", "d.pdf")
	_, _ = fw.Write([]byte("%PDF-1.7\nhello"))
	_ = w.Close()
	return &buf, w.FormDataContentType()
}
