package queryfn

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// FuzzParseRequest checks, for any body, that ParseRequest does not panic,
// that every rejection is a short "invalid request: ..." error, and that
// every accepted request validates and survives a JSON round trip
// unchanged. Seeds live in
// testdata/fuzz/FuzzParseRequest; run with
// go test -fuzz=FuzzParseRequest ./lambda/queryfn to explore further.
func FuzzParseRequest(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := ParseRequest(body)
		if err != nil {
			if !errors.Is(err, ErrInvalidRequest) || !strings.HasPrefix(err.Error(), "invalid request: ") {
				t.Fatalf("rejection is not an invalid-request error: %v", err)
			}
			// Client input is echoed only in shortened form.
			if n := len(err.Error()); n > 512 {
				t.Fatalf("error message is %d bytes long: %.200q...", n, err.Error())
			}
			if r != (Request{}) {
				t.Fatalf("rejected body returned request %+v", r)
			}
			return
		}
		if err := r.Validate(); err != nil {
			t.Fatalf("accepted request %+v does not validate: %v", r, err)
		}
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("Marshal(%+v): %v", r, err)
		}
		again, err := ParseRequest(b)
		if err != nil {
			t.Fatalf("re-parsing %s: %v", b, err)
		}
		if again != r {
			t.Fatalf("round trip changed the request: %+v became %+v", r, again)
		}
	})
}
