package queryfn

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// BenchmarkParseRequest measures ParseRequest on plain requests, reordered
// and escaped ones, and an invalid one.
func BenchmarkParseRequest(b *testing.B) {
	for _, bench := range []struct{ name, body string }{
		{"get_item", `{"action":"get_item","params":{"id":1}}`},
		{"add_item", `{"action":"add_item","params":{"name":"widget"}}`},
		{"get_item_params_first", `{"params":{"id":1},"action":"get_item"}`},
		{"add_item_escaped", `{"action":"add_item","params":{"name":"wid\u0067et"}}`},
		{"invalid/id_zero", `{"action":"get_item","params":{"id":0}}`},
	} {
		body := []byte(bench.body)
		_, err := ParseRequest(body)
		wantErr := strings.HasPrefix(bench.name, "invalid/")
		if (err != nil) != wantErr {
			b.Fatalf("ParseRequest(%s): %v", body, err)
		}
		b.Run(bench.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ParseRequest(body)
			}
		})
	}
}

// BenchmarkMarshalResponse measures encoding a get_item response as the
// Lambda runtime does.
func BenchmarkMarshalResponse(b *testing.B) {
	found := true
	resp := Response{Action: ActionGetItem, Found: &found, Item: &Item{
		ID: 1, Name: "first", CreatedAt: time.Date(2025, 11, 25, 14, 37, 50, 0, time.UTC),
	}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(resp); err != nil {
			b.Fatal(err)
		}
	}
}
