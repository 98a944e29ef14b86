package queryfn

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

var (
	created1 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	created2 = time.Date(2025, 3, 2, 8, 30, 15, 0, time.UTC)
	itemCols = []string{"id", "name", "created_at"}
)

func TestHandle(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		answers   map[string]stubAnswer
		wantCalls []stubCall // conn is ignored
		wantJSON  string
	}{
		{
			name: "whoami",
			body: `{"action":"whoami"}`,
			answers: map[string]stubAnswer{
				sqlWhoAmI:    {columns: []string{"CURRENT_USER()", "VERSION()"}, rows: [][]driver.Value{{"app_user@%", "8.0.39"}}},
				sqlTLSCipher: {columns: []string{"Variable_name", "Value"}, rows: [][]driver.Value{{"Ssl_cipher", "TLS_AES_128_GCM_SHA256"}}},
			},
			wantCalls: []stubCall{{query: sqlWhoAmI}, {query: sqlTLSCipher}},
			wantJSON:  `{"action":"whoami","user":"app_user@%","tls_cipher":"TLS_AES_128_GCM_SHA256","server_version":"8.0.39","endpoint":"writer"}`,
		},
		{
			name: "whoami on an unencrypted session",
			body: `{"action":"whoami"}`,
			answers: map[string]stubAnswer{
				sqlWhoAmI:    {columns: []string{"CURRENT_USER()", "VERSION()"}, rows: [][]driver.Value{{"app_user@%", "8.0.39"}}},
				sqlTLSCipher: {columns: []string{"Variable_name", "Value"}, rows: [][]driver.Value{{"Ssl_cipher", ""}}},
			},
			wantCalls: []stubCall{{query: sqlWhoAmI}, {query: sqlTLSCipher}},
			wantJSON:  `{"action":"whoami","user":"app_user@%","server_version":"8.0.39","endpoint":"writer"}`,
		},
		{
			name: "whoami without Ssl_cipher status",
			body: `{"action":"whoami"}`,
			answers: map[string]stubAnswer{
				sqlWhoAmI:    {columns: []string{"CURRENT_USER()", "VERSION()"}, rows: [][]driver.Value{{"u@%", "5.7"}}},
				sqlTLSCipher: {columns: []string{"Variable_name", "Value"}},
			},
			wantCalls: []stubCall{{query: sqlWhoAmI}, {query: sqlTLSCipher}},
			wantJSON:  `{"action":"whoami","user":"u@%","server_version":"5.7","endpoint":"writer"}`,
		},
		{
			name: "list_items default limit",
			body: `{"action":"list_items"}`,
			answers: map[string]stubAnswer{sqlListItems: {columns: itemCols, rows: [][]driver.Value{
				{int64(1), "first", created1},
				{int64(2), "second", created2},
			}}},
			wantCalls: []stubCall{{query: sqlListItems, args: []any{int64(DefaultListLimit)}}},
			wantJSON:  `{"action":"list_items","items":[{"id":1,"name":"first","created_at":"2025-03-01T12:00:00Z"},{"id":2,"name":"second","created_at":"2025-03-02T08:30:15Z"}]}`,
		},
		{
			name:      "list_items empty table",
			body:      `{"action":"list_items","params":{"limit":3}}`,
			answers:   map[string]stubAnswer{sqlListItems: {columns: itemCols}},
			wantCalls: []stubCall{{query: sqlListItems, args: []any{int64(3)}}},
			wantJSON:  `{"action":"list_items","items":[]}`,
		},
		{
			name:      "get_item found",
			body:      `{"action":"get_item","params":{"id":2}}`,
			answers:   map[string]stubAnswer{sqlGetItem: {columns: itemCols, rows: [][]driver.Value{{int64(2), "second", created2}}}},
			wantCalls: []stubCall{{query: sqlGetItem, args: []any{int64(2)}}},
			wantJSON:  `{"action":"get_item","item":{"id":2,"name":"second","created_at":"2025-03-02T08:30:15Z"},"found":true}`,
		},
		{
			name:      "get_item missing",
			body:      `{"action":"get_item","params":{"id":99}}`,
			answers:   map[string]stubAnswer{sqlGetItem: {columns: itemCols}},
			wantCalls: []stubCall{{query: sqlGetItem, args: []any{int64(99)}}},
			wantJSON:  `{"action":"get_item","found":false}`,
		},
		{
			name:      "count_items zero",
			body:      `{"action":"count_items"}`,
			answers:   map[string]stubAnswer{sqlCountItems: {columns: []string{"COUNT(*)"}, rows: [][]driver.Value{{int64(0)}}}},
			wantCalls: []stubCall{{query: sqlCountItems}},
			wantJSON:  `{"action":"count_items","count":0}`,
		},
		{
			name:      "count_items",
			body:      `{"action":"count_items"}`,
			answers:   map[string]stubAnswer{sqlCountItems: {columns: []string{"COUNT(*)"}, rows: [][]driver.Value{{int64(12)}}}},
			wantCalls: []stubCall{{query: sqlCountItems}},
			wantJSON:  `{"action":"count_items","count":12}`,
		},
		{
			name:      "add_item binds the name as an argument",
			body:      `{"action":"add_item","params":{"name":"x'); DROP TABLE items;--"}}`,
			answers:   map[string]stubAnswer{sqlAddItem: {lastInsertID: 41, rowsAffected: 1}},
			wantCalls: []stubCall{{query: sqlAddItem, args: []any{"x'); DROP TABLE items;--"}}},
			wantJSON:  `{"action":"add_item","id":41,"affected":1}`,
		},
		{
			name:      "delete_item nothing deleted",
			body:      `{"action":"delete_item","params":{"id":5}}`,
			answers:   map[string]stubAnswer{sqlDeleteItem: {rowsAffected: 0}},
			wantCalls: []stubCall{{query: sqlDeleteItem, args: []any{int64(5)}}},
			wantJSON:  `{"action":"delete_item","affected":0}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, stub := openStub(t, tt.answers)
			resp, err := New(db).Handle(context.Background(), json.RawMessage(tt.body))
			if err != nil {
				t.Fatalf("Handle: %v", err)
			}
			got, err := json.Marshal(resp)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.wantJSON {
				t.Errorf("response\n got %s\nwant %s", got, tt.wantJSON)
			}
			calls := stub.recorded()
			if len(calls) != len(tt.wantCalls) {
				t.Fatalf("ran %d statements %+v, want %+v", len(calls), calls, tt.wantCalls)
			}
			for i, c := range calls {
				w := tt.wantCalls[i]
				if c.query != w.query || !reflect.DeepEqual(c.args, w.args) {
					t.Errorf("statement %d = %q %v, want %q %v", i, c.query, c.args, w.query, w.args)
				}
				if c.conn != calls[0].conn {
					t.Errorf("statement %d ran on connection %d, statement 0 on %d; want one connection", i, c.conn, calls[0].conn)
				}
			}
		})
	}
}

func TestHandleDatabaseErrors(t *testing.T) {
	denied := &mysql.MySQLError{Number: 1142, SQLState: [5]byte{'4', '2', '0', '0', '0'}, Message: "DELETE command denied to user 'app_user'@'%' for table 'items'"}
	tests := []struct {
		name    string
		body    string
		answers map[string]stubAnswer
		want    string
		mysql   uint16 // wrapped MySQL error number; 0: none
	}{
		{
			name:    "server refuses",
			body:    `{"action":"delete_item","params":{"id":1}}`,
			answers: map[string]stubAnswer{sqlDeleteItem: {err: denied}},
			want:    "delete_item: database refused (1142): DELETE command denied to user 'app_user'@'%' for table 'items'",
			mysql:   1142,
		},
		{
			name:    "missing table",
			body:    `{"action":"count_items"}`,
			answers: map[string]stubAnswer{sqlCountItems: {err: &mysql.MySQLError{Number: 1146, Message: "Table 'app.items' doesn't exist"}}},
			want:    "count_items: database refused (1146): Table 'app.items' doesn't exist",
			mysql:   1146,
		},
		{
			name:    "connection failure",
			body:    `{"action":"list_items"}`,
			answers: map[string]stubAnswer{sqlListItems: {err: errors.New("connection reset by peer")}},
			want:    "list_items: database: connection reset by peer",
		},
		{
			name: "whoami second statement fails",
			body: `{"action":"whoami"}`,
			answers: map[string]stubAnswer{
				sqlWhoAmI:    {columns: []string{"a", "b"}, rows: [][]driver.Value{{"u", "v"}}},
				sqlTLSCipher: {err: &mysql.MySQLError{Number: 1227, Message: "Access denied; you need the PROCESS privilege"}},
			},
			want:  "whoami: database refused (1227): Access denied",
			mysql: 1227,
		},
		{
			name:    "unexpected column type",
			body:    `{"action":"get_item","params":{"id":1}}`,
			answers: map[string]stubAnswer{sqlGetItem: {columns: itemCols, rows: [][]driver.Value{{int64(1), "n", []byte("2025-01-01 00:00:00")}}}},
			want:    "get_item: database: sql: Scan error on column index 2",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, _ := openStub(t, tt.answers)
			resp, err := New(db).Handle(context.Background(), json.RawMessage(tt.body))
			if err == nil {
				t.Fatalf("Handle = %+v, want an error", resp)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error %q does not start with %q", err, tt.want)
			}
			var me *mysql.MySQLError
			if got := errors.As(err, &me); got != (tt.mysql != 0) || got && me.Number != tt.mysql {
				t.Errorf("errors.As(*mysql.MySQLError) = %v (%v), want number %d", got, me, tt.mysql)
			}
			if errors.Is(err, ErrInvalidRequest) {
				t.Error("a database error is reported as an invalid request")
			}
		})
	}
}

func TestHandleInvalidRequestSkipsDatabase(t *testing.T) {
	db, stub := openStub(t, nil)
	for _, body := range []string{``, `{"action":"nope"}`, `{"action":"get_item"}`, `{"action":"add_item","params":{"name":""}}`} {
		_, err := New(db).Handle(context.Background(), json.RawMessage(body))
		if !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("Handle(%q) error = %v, want ErrInvalidRequest", body, err)
		}
	}
	if calls := stub.recorded(); len(calls) != 0 {
		t.Errorf("invalid requests ran SQL: %+v", calls)
	}
}

func TestDoValidatesHandBuiltRequests(t *testing.T) {
	db, stub := openStub(t, nil)
	_, err := New(db).Do(context.Background(), Request{Action: ActionListItems, Limit: 1000})
	if !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("Do with limit 1000: error = %v, want ErrInvalidRequest", err)
	}
	if len(stub.recorded()) != 0 {
		t.Error("an invalid hand-built request reached the database")
	}
}

func TestHandlerWithoutDatabase(t *testing.T) {
	for _, h := range []*Handler{New(nil), nil} {
		_, err := h.Handle(context.Background(), json.RawMessage(`{"action":"count_items"}`))
		if err == nil || !strings.Contains(err.Error(), "handler has no database") {
			t.Errorf("Handle on %#v: error = %v, want 'handler has no database'", h, err)
		}
	}
}
