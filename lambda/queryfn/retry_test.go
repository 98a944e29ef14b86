package queryfn

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"syscall"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/rdsiam/rdsiam/lambda/iamdb"
)

// TestRetryPolicy checks, per action and failure, how often the statement
// reached the (stub) driver and what the caller got: reads are run once
// more after a lost connection if no row had arrived, writes only when the
// driver says nothing was sent, and never after they may have been sent.
func TestRetryPolicy(t *testing.T) {
	lost := mysql.ErrInvalidConn // go-sql-driver: the connection died after sending
	denied := &mysql.MySQLError{Number: 1142, Message: "INSERT command denied"}
	whoamiRow := stubAnswer{columns: []string{"CURRENT_USER()", "VERSION()"}, rows: [][]driver.Value{{"app_user@%", "8.0.39"}}}
	cipherRow := stubAnswer{columns: []string{"Variable_name", "Value"}, rows: [][]driver.Value{{"Ssl_cipher", "TLS_AES_128_GCM_SHA256"}}}
	itemRows := [][]driver.Value{{int64(1), "a", created1}, {int64(2), "b", created2}}
	with := func(a stubAnswer, err error, failFirst int) stubAnswer {
		a.err, a.failFirst = err, failFirst
		return a
	}
	tests := []struct {
		name      string
		body      string
		answers   map[string]stubAnswer
		connErr   error
		cancelled bool
		// want
		ok        bool
		sent      map[string]int // how many times each SQL reached the driver
		stats     Stats
		errHas    []string
		errIs     []error
		errNotIs  []error
		diffConns bool // the second send used another connection
	}{
		{name: "read: lost before any row, retried once, succeeds",
			body:    `{"action":"list_items"}`,
			answers: map[string]stubAnswer{sqlListItems: with(stubAnswer{columns: itemCols, rows: itemRows}, lost, 1)},
			ok:      true, sent: map[string]int{sqlListItems: 2}, stats: Stats{ReadRetries: 1}, diffConns: true},
		{name: "read: lost twice, retried only once",
			body:    `{"action":"count_items"}`,
			answers: map[string]stubAnswer{sqlCountItems: {err: lost}},
			sent:    map[string]int{sqlCountItems: 2}, stats: Stats{ReadRetries: 1},
			errHas: []string{"count_items: database: invalid connection (retried once after the connection was lost: invalid connection)"},
			errIs:  []error{mysql.ErrInvalidConn}},
		{name: "read: connection reset before any row, retried",
			body:    `{"action":"get_item","params":{"id":1}}`,
			answers: map[string]stubAnswer{sqlGetItem: with(stubAnswer{columns: itemCols, rows: itemRows[:1]}, syscall.ECONNRESET, 1)},
			ok:      true, sent: map[string]int{sqlGetItem: 2}, stats: Stats{ReadRetries: 1}},
		{name: "read: lost after a row arrived, not retried",
			body:    `{"action":"list_items"}`,
			answers: map[string]stubAnswer{sqlListItems: {columns: itemCols, rows: itemRows[:1], rowsErr: lost}},
			sent:    map[string]int{sqlListItems: 1}, errIs: []error{mysql.ErrInvalidConn}},
		{name: "read: server error, not retried",
			body:    `{"action":"count_items"}`,
			answers: map[string]stubAnswer{sqlCountItems: {err: &mysql.MySQLError{Number: 1146, Message: "no table"}}},
			sent:    map[string]int{sqlCountItems: 1}, errHas: []string{"database refused (1146)"}},
		{name: "read: login refused, not retried here (Connect has its own policy)",
			body:    `{"action":"count_items"}`,
			answers: map[string]stubAnswer{},
			connErr: &iamdb.ConnectError{Endpoint: "db:3306", User: "app_user", Attempts: 1, Err: &mysql.MySQLError{Number: 1045}},
			sent:    map[string]int{}, errHas: []string{"count_items: database: iamdb: connect to db:3306"}, errNotIs: []error{io.EOF}},
		{name: "read: endpoint refuses connections, not retried",
			body:    `{"action":"count_items"}`,
			answers: map[string]stubAnswer{},
			connErr: &iamdb.ConnectError{Endpoint: "db:3306", User: "app_user", Attempts: 1, Err: syscall.ECONNREFUSED},
			sent:    map[string]int{}, errIs: []error{syscall.ECONNREFUSED}},
		{name: "read: connection lost while logging in, retried once",
			body:    `{"action":"count_items"}`,
			answers: map[string]stubAnswer{},
			connErr: &iamdb.ConnectError{Endpoint: "db:3306", User: "app_user", Attempts: 1, Err: mysql.ErrInvalidConn},
			sent:    map[string]int{}, stats: Stats{ReadRetries: 1}, errIs: []error{mysql.ErrInvalidConn},
			errHas: []string{"retried once after the connection was lost"}},
		{name: "read: invocation cancelled, not retried",
			body:      `{"action":"count_items"}`,
			answers:   map[string]stubAnswer{sqlCountItems: {err: lost}},
			cancelled: true, sent: map[string]int{}, errIs: []error{context.Canceled}},
		{name: "whoami: first statement lost, whole request retried",
			body:    `{"action":"whoami"}`,
			answers: map[string]stubAnswer{sqlWhoAmI: with(whoamiRow, lost, 1), sqlTLSCipher: cipherRow},
			ok:      true, sent: map[string]int{sqlWhoAmI: 2, sqlTLSCipher: 1}, stats: Stats{ReadRetries: 1}},
		{name: "whoami: second statement lost before its row, whole request retried on one new session",
			body:    `{"action":"whoami"}`,
			answers: map[string]stubAnswer{sqlWhoAmI: whoamiRow, sqlTLSCipher: with(cipherRow, lost, 1)},
			ok:      true, sent: map[string]int{sqlWhoAmI: 2, sqlTLSCipher: 2}, stats: Stats{ReadRetries: 1}, diffConns: true},
		{name: "whoami: second statement lost after its row, not retried",
			body:    `{"action":"whoami"}`,
			answers: map[string]stubAnswer{sqlWhoAmI: whoamiRow, sqlTLSCipher: {columns: cipherRow.columns, rows: cipherRow.rows, rowsErr: lost}},
			sent:    map[string]int{sqlWhoAmI: 1, sqlTLSCipher: 1}, errIs: []error{mysql.ErrInvalidConn}},

		{name: "write: lost after sending, outcome unknown, not re-sent",
			body:    `{"action":"add_item","params":{"name":"x"}}`,
			answers: map[string]stubAnswer{sqlAddItem: {err: lost}},
			sent:    map[string]int{sqlAddItem: 1}, stats: Stats{OutcomeUnknown: 1},
			errHas: []string{"add_item: outcome unknown", "may or may not have been applied", "invalid connection"},
			errIs:  []error{ErrOutcomeUnknown, mysql.ErrInvalidConn}},
		{name: "write: EOF after sending, outcome unknown",
			body:    `{"action":"delete_item","params":{"id":3}}`,
			answers: map[string]stubAnswer{sqlDeleteItem: {err: io.ErrUnexpectedEOF}},
			sent:    map[string]int{sqlDeleteItem: 1}, stats: Stats{OutcomeUnknown: 1}, errIs: []error{ErrOutcomeUnknown}},
		{name: "write: driver says nothing was sent, run once more on a new connection",
			body:    `{"action":"add_item","params":{"name":"x"}}`,
			answers: map[string]stubAnswer{sqlAddItem: {err: driver.ErrBadConn, failFirst: 1, lastInsertID: 7, rowsAffected: 1}},
			ok:      true, sent: map[string]int{sqlAddItem: 2}, stats: Stats{WriteRetries: 1}, diffConns: true},
		{name: "write: nothing sent twice, gives up without claiming an unknown outcome",
			body:    `{"action":"add_item","params":{"name":"x"}}`,
			answers: map[string]stubAnswer{sqlAddItem: {err: driver.ErrBadConn}},
			sent:    map[string]int{sqlAddItem: 2}, stats: Stats{WriteRetries: 1},
			errIs: []error{driver.ErrBadConn}, errNotIs: []error{ErrOutcomeUnknown}},
		{name: "write: refused by the server, outcome known",
			body:    `{"action":"add_item","params":{"name":"x"}}`,
			answers: map[string]stubAnswer{sqlAddItem: {err: denied}},
			sent:    map[string]int{sqlAddItem: 1}, errHas: []string{"database refused (1142)"}, errNotIs: []error{ErrOutcomeUnknown}},
		{name: "write: no connection, nothing sent",
			body:    `{"action":"add_item","params":{"name":"x"}}`,
			answers: map[string]stubAnswer{},
			connErr: &iamdb.ConnectError{Endpoint: "db:3306", User: "app_user", Attempts: 1, Err: syscall.ECONNREFUSED},
			sent:    map[string]int{}, errIs: []error{syscall.ECONNREFUSED}, errNotIs: []error{ErrOutcomeUnknown}},
		{name: "write: connection lost while logging in, nothing sent, run once more",
			body:    `{"action":"add_item","params":{"name":"x"}}`,
			answers: map[string]stubAnswer{},
			connErr: &iamdb.ConnectError{Endpoint: "db:3306", User: "app_user", Attempts: 1, Err: io.EOF},
			sent:    map[string]int{}, stats: Stats{WriteRetries: 1}, errIs: []error{io.EOF}, errNotIs: []error{ErrOutcomeUnknown}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, stub := openStub(t, tt.answers)
			stub.connectErr = tt.connErr
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.cancelled {
				cancel()
			}
			h := New(db)
			resp, err := h.Handle(ctx, json.RawMessage(tt.body))
			if tt.ok != (err == nil) {
				t.Fatalf("Handle = %+v, %v; want success %v", resp, err, tt.ok)
			}
			calls := stub.recorded()
			sent := map[string]int{}
			for _, c := range calls {
				sent[c.query]++
			}
			if len(sent) != len(tt.sent) {
				t.Errorf("sent %v, want %v", sent, tt.sent)
			}
			for q, n := range tt.sent {
				if sent[q] != n {
					t.Errorf("%q sent %d times, want %d", q, sent[q], n)
				}
			}
			if tt.diffConns && (len(calls) < 2 || calls[0].conn == calls[len(calls)-1].conn) {
				t.Errorf("retry ran on the same connection: %+v", calls)
			}
			if got := h.Stats(); got != tt.stats {
				t.Errorf("Stats = %+v, want %+v", got, tt.stats)
			}
			if err == nil {
				return
			}
			for _, s := range tt.errHas {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
			for _, target := range tt.errIs {
				if !errors.Is(err, target) {
					t.Errorf("error %v does not wrap %v", err, target)
				}
			}
			for _, target := range tt.errNotIs {
				if errors.Is(err, target) {
					t.Errorf("error %v wraps %v", err, target)
				}
			}
		})
	}
}

func TestConnectionLost(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{mysql.ErrInvalidConn, true},
		{driver.ErrBadConn, true},
		{io.EOF, true},
		{io.ErrUnexpectedEOF, true},
		{syscall.ECONNRESET, true},
		{syscall.EPIPE, true},
		{&mysql.MySQLError{Number: 2013}, false},
		{&iamdb.ConnectError{Err: io.EOF}, true},
		{&iamdb.ConnectError{Err: syscall.ECONNREFUSED}, false},
		{&iamdb.ConnectError{Err: &mysql.MySQLError{Number: 1045}}, false},
		{context.DeadlineExceeded, false},
		{errors.New("connection reset by peer"), false}, // text is not evidence
	}
	for _, tt := range tests {
		if got := connectionLost(tt.err); got != tt.want {
			t.Errorf("connectionLost(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
