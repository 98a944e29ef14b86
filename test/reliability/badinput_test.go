package reliability

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/rdsiam/rdsiam/internal/standin"
	"github.com/rdsiam/rdsiam/lambda/dbuser"
	"github.com/rdsiam/rdsiam/lambda/queryfn"
)

// noDatabase is a dbuser.Handler.Open that fails the test: bad input must
// be refused before any connection is made.
func noDatabase(t *testing.T) func(context.Context, *mysql.Config) (*sql.DB, error) {
	return func(context.Context, *mysql.Config) (*sql.DB, error) {
		t.Error("the handler opened the database for bad input")
		return nil, errors.New("test: no database for bad input")
	}
}

// staticSecret is a SecretSource that is never the problem in these tests:
// every ARN holds a master login the database is never reached with.
var staticSecret = standin.Secrets{Master: dbuser.MasterSecret{Username: "admin", Password: "not-used-by-bad-input"}}

// TestCustomResourceBadEvents feeds raw event JSON through the path the
// Lambda runtime takes (encoding/json into dbuser.Event, then Handle).
// Every event is refused with an error that names the problem, without a
// panic and without touching the database. Deletes of events that could
// never have created a user succeed, so a stack with a bad resource can
// still be deleted.
func TestCustomResourceBadEvents(t *testing.T) {
	const good = `"SecretArn":"arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!cluster-x","Endpoint":"db.example.com",` +
		`"UserName":"app_user","DatabaseName":"appdb","Privileges":["SELECT"]`
	create := func(props string) string {
		return `{"RequestType":"Create","RequestId":"r1","ResourceProperties":{` + props + `}}`
	}
	tests := []struct {
		name      string
		body      string
		decodeErr string // substring of the runtime's decode error; "" means it decodes
		wantErr   string // substring of Handle's error; "" means success
		property  string // the *dbuser.PropertyError must name this property
		opensDB   bool   // the event may open the database (which then fails)
	}{
		{name: "truncated JSON", body: `{"RequestType":"Create",`, decodeErr: "unexpected end of JSON input"},
		{name: "not an object", body: `["Create"]`, decodeErr: "cannot unmarshal array"},
		{name: "request type a number", body: `{"RequestType":1}`, decodeErr: "cannot unmarshal number"},
		{name: "properties a string", body: `{"RequestType":"Create","ResourceProperties":"x"}`, decodeErr: "cannot unmarshal string"},
		{name: "port beyond float64", body: create(good + `,"Port":1e400`), decodeErr: "cannot unmarshal number 1e400"},

		{name: "empty event", body: `{}`, wantErr: `request type "": allowed Create, Update, Delete`},
		{name: "unknown request type", body: `{"RequestType":"Destroy"}`, wantErr: `request type "Destroy"`},
		{name: "request type in lower case", body: `{"RequestType":"create"}`, wantErr: `request type "create"`},
		{name: "no properties", body: `{"RequestType":"Create"}`, wantErr: "missing (required)", property: "SecretArn"},
		{name: "unknown property", body: create(good + `,"Passwd":"x"`), wantErr: "unknown property", property: "Passwd"},
		{name: "port an object", body: create(good + `,"Port":{"n":1}`), wantErr: "not a whole number", property: "Port"},
		{name: "port zero", body: create(good + `,"Port":"0"`), wantErr: `"0" is out of range (allowed: 1-65535)`, property: "Port"},
		{name: "port too big", body: create(good + `,"Port":65536`), wantErr: "number 65536 is out of range", property: "Port"},
		{name: "port a fraction", body: create(good + `,"Port":3306.5`), wantErr: "not a whole number", property: "Port"},
		{name: "wait too long", body: create(good + `,"WaitSeconds":"901"`), wantErr: "out of range (allowed: 1-900)", property: "WaitSeconds"},
		{name: "wait zero", body: create(good + `,"WaitSeconds":"0"`), wantErr: "out of range", property: "WaitSeconds"},
		{name: "connect timeout negative", body: create(good + `,"ConnectTimeoutSeconds":"-5"`), wantErr: "out of range (allowed: 1-120)", property: "ConnectTimeoutSeconds"},
		{name: "connect timeout text", body: create(good + `,"ConnectTimeoutSeconds":"ten"`), wantErr: "not a whole number", property: "ConnectTimeoutSeconds"},
		{name: "retain not a boolean", body: create(good + `,"RetainOnDelete":"yes"`), wantErr: "not a boolean", property: "RetainOnDelete"},
		{name: "privileges a string", body: strings.Replace(create(good), `["SELECT"]`, `"SELECT"`, 1), wantErr: "not a list of strings", property: "Privileges"},
		{name: "privilege a number", body: strings.Replace(create(good), `["SELECT"]`, `["SELECT",1]`, 1), wantErr: "element 1 is number 1", property: "Privileges"},
		{name: "ALL privileges", body: strings.Replace(create(good), `["SELECT"]`, `["ALL"]`, 1), wantErr: `"ALL"`, property: "Privileges"},
		{name: "no privileges", body: strings.Replace(create(good), `["SELECT"]`, `[]`, 1), property: "Privileges", wantErr: "Privileges"},
		{name: "reserved user", body: strings.Replace(create(good), `"app_user"`, `"root"`, 1), wantErr: `"root"`, property: "UserName"},
		{name: "injection in user", body: strings.Replace(create(good), `"app_user"`, "\"a`; DROP USER x; --\"", 1), wantErr: "UserName", property: "UserName"},
		{name: "system database", body: strings.Replace(create(good), `"appdb"`, `"mysql"`, 1), wantErr: `"mysql"`, property: "DatabaseName"},
		{name: "endpoint with port", body: strings.Replace(create(good), `"db.example.com"`, `"db.example.com:3306"`, 1), wantErr: "not a host name", property: "Endpoint"},
		{name: "endpoint URL", body: strings.Replace(create(good), `"db.example.com"`, `"https://db.example.com"`, 1), wantErr: "not a host name", property: "Endpoint"},
		{name: "secret not an ARN", body: strings.Replace(create(good), `"arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!cluster-x"`, `"my-secret"`, 1),
			wantErr: "not a secret ARN", property: "SecretArn"},
		{name: "update with bad new properties", body: `{"RequestType":"Update","PhysicalResourceId":"dbuser:app_user","ResourceProperties":{` + good + `,"Port":"x"},"OldResourceProperties":{` + good + `}}`,
			wantErr: "not a whole number", property: "Port"},
		// Deletes of properties that never validated created nothing.
		{name: "delete with bad properties", body: `{"RequestType":"Delete","PhysicalResourceId":"dbuser:app_user","ResourceProperties":{"Port":"x"}}`},
		// A failed Create's Delete looks in the registry for an account the
		// Create could not drop; a database it cannot reach must not block
		// the stack's rollback.
		{name: "delete of a failed create", body: `{"RequestType":"Delete","PhysicalResourceId":"Stack-DatabaseUser-XYZ","ResourceProperties":{` + good + `}}`,
			opensDB: true},
		{name: "delete with an invalid user in the id", body: "{\"RequestType\":\"Delete\",\"PhysicalResourceId\":\"dbuser:x`y\",\"ResourceProperties\":{" + good + `}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ev dbuser.Event
			err := json.Unmarshal([]byte(tt.body), &ev)
			if tt.decodeErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.decodeErr) {
					t.Fatalf("decode error = %v, want one containing %q", err, tt.decodeErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			h := &dbuser.Handler{Secrets: staticSecret, Open: noDatabase(t)}
			if tt.opensDB {
				h.Open = func(context.Context, *mysql.Config) (*sql.DB, error) { return nil, errors.New("test: database gone") }
			}
			resp, err := h.Handle(context.Background(), ev)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Handle: %v, want success", err)
				}
				if resp.PhysicalResourceID != ev.PhysicalResourceID {
					t.Errorf("physical id %q, want %q", resp.PhysicalResourceID, ev.PhysicalResourceID)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Handle error = %v, want one containing %q", err, tt.wantErr)
			}
			if tt.property != "" {
				var pe *dbuser.PropertyError
				if !errors.As(err, &pe) || !strings.Contains(err.Error(), "property "+tt.property) {
					t.Errorf("error %q is not a *dbuser.PropertyError naming %s", err, tt.property)
				}
			}
		})
	}
}

// TestQueryBadRequests sends hostile request bodies to a real container:
// each is refused as an invalid request, briefly, before any connection.
// (The request grammar itself is covered by package queryfn's tests and
// FuzzParseRequest; these add size, nesting and encoding extremes.)
func TestQueryBadRequests(t *testing.T) {
	e := startEnv(t)
	c := e.newContainer(t, nil)
	tests := []struct {
		name string
		body string
		want string
	}{
		{"deeply nested params", `{"action":"whoami","params":` + strings.Repeat(`[`, 100_000) + strings.Repeat(`]`, 100_000) + `}`, "at most 16384 allowed"},
		{"nested within the size limit", `{"action":"list_items","params":{"limit":` + strings.Repeat(`[`, 5000) + strings.Repeat(`]`, 5000) + `}}`, "got an array"},
		{"one megabyte", `{"action":"add_item","params":{"name":"` + strings.Repeat("x", 1<<20) + `"}}`, "at most 16384 allowed"},
		{"byte order mark", "\ufeff" + `{"action":"whoami"}`, "must be a JSON object"},
		{"comment", `{"action":"whoami" /* hi */}`, "not valid JSON"},
		{"NUL in action", "{\"action\":\"whoami\\u0000\"}", `unknown action "whoami\x00"`},
		{"action with trailing space", `{"action":"whoami "}`, `unknown action "whoami "`},
		{"id beyond float64", `{"action":"get_item","params":{"id":1e400}}`, "want an integer"},
		{"id negative zero", `{"action":"get_item","params":{"id":-0}}`, "got -0"},
		{"limit with exponent", `{"action":"list_items","params":{"limit":1e2}}`, "got a number (1e2)"},
		{"name of 201 emoji", `{"action":"add_item","params":{"name":"` + strings.Repeat("😀", 201) + `"}}`, "201 characters"},
		{"name with an escaped NUL", `{"action":"add_item","params":{"name":"a\u0000"}}`, "control character"},
		{"SQL in the action", `{"action":"list_items; DROP TABLE items"}`, "unknown action"},
		{"SQL where a number belongs", `{"action":"get_item","params":{"id":"1 OR 1=1"}}`, "got a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.invoke(tt.body)
			if !errors.Is(err, queryfn.ErrInvalidRequest) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %.300v, want an invalid request containing %q", err, tt.want)
			}
			if n := len(err.Error()); n > 600 {
				t.Errorf("error is %d bytes long; client input must be echoed only briefly", n)
			}
		})
	}
	if s := c.conn.Stats(); s.ConnectAttempts != 0 {
		t.Errorf("bad requests opened %d connections", s.ConnectAttempts)
	}
	// The container is still fine afterwards.
	e.createUser(t, "SELECT")
	c.mustInvoke(t, e.srv, `{"action":"whoami"}`)
}
