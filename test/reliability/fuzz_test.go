package reliability

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	usersql "github.com/rdsiam/rdsiam/bootstrap-sql"
	"github.com/rdsiam/rdsiam/lambda/dbuser"
)

// FuzzParseProperties feeds arbitrary ResourceProperties JSON through the
// custom resource's decoding path. For any input: no panic; a rejection is
// made of *dbuser.PropertyError parts, each naming a property, and neither
// Create nor Delete reaches the database with it (Delete succeeds: nothing
// can have been created from such properties); an accepted input is in
// range, plans valid SQL, and reads back the same after a round trip
// through the strings CloudFormation would send. Seeds live in
// testdata/fuzz/FuzzParseProperties; explore further with
//
//	go test -run='^$' -fuzz=FuzzParseProperties ./test/reliability
func FuzzParseProperties(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		var props map[string]any
		if json.Unmarshal(body, &props) != nil {
			return // the Lambda runtime refuses it before the handler runs
		}
		p, err := dbuser.ParseProperties(props)
		if err != nil {
			checkRejection(t, props, err)
			return
		}
		checkAccepted(t, props, p)
	})
}

// checkRejection: every part of err names a property, and the handler
// refuses Create and succeeds Delete without opening the database.
func checkRejection(t *testing.T, props map[string]any, err error) {
	t.Helper()
	parts := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		parts = j.Unwrap()
	}
	for _, part := range parts {
		var pe *dbuser.PropertyError
		if !errors.As(part, &pe) || pe.Property == "" {
			t.Fatalf("rejection part %q is not a *dbuser.PropertyError naming a property", part)
		}
	}
	h := &dbuser.Handler{
		Secrets: staticSecret,
		Open: func(context.Context, *mysql.Config) (*sql.DB, error) {
			t.Fatal("the handler opened the database for properties that do not validate")
			return nil, nil
		},
	}
	ctx := context.Background()
	if _, err := h.Handle(ctx, dbuser.Event{RequestType: dbuser.RequestCreate, ResourceProperties: props}); err == nil {
		t.Fatal("Create accepted properties that ParseProperties rejects")
	}
	resp, err := h.Handle(ctx, dbuser.Event{RequestType: dbuser.RequestDelete, PhysicalResourceID: dbuser.PhysicalID(appUser), ResourceProperties: props})
	if err != nil || resp.PhysicalResourceID != dbuser.PhysicalID(appUser) {
		t.Fatalf("Delete of properties that never validated = %+v, %v; want success", resp, err)
	}
}

// checkAccepted: p is in range, its plans build, and it survives a round
// trip through CloudFormation's string form.
func checkAccepted(t *testing.T, props map[string]any, p dbuser.Properties) {
	t.Helper()
	if p.Port < 1 || p.Port > 65535 || p.ConnectTimeout < 0 || p.ConnectTimeout > 120*time.Second || p.Wait < 0 || p.Wait > 900*time.Second {
		t.Fatalf("accepted out-of-range values: %+v from %v", p, props)
	}
	if err := p.Spec.Validate(); err != nil {
		t.Fatalf("accepted spec %v does not validate: %v", p.Spec, err)
	}
	for name, plan := range map[string]func() ([]usersql.Statement, error){
		"Create": func() ([]usersql.Statement, error) { return usersql.Create(p.Spec) },
		"Update": func() ([]usersql.Statement, error) { return usersql.Update(p.Spec, p.Spec) },
		"Delete": func() ([]usersql.Statement, error) { return usersql.Delete(p.Spec) },
	} {
		if _, err := plan(); err != nil {
			t.Fatalf("%s plan for accepted %v: %v", name, p.Spec, err)
		}
	}
	privs := make([]any, len(p.Spec.Privileges))
	for i, s := range p.Spec.Privileges {
		privs[i] = s
	}
	again := map[string]any{
		"SecretArn": p.SecretArn, "Endpoint": p.Endpoint, "Port": strconv.Itoa(p.Port),
		"UserName": p.Spec.User, "DatabaseName": p.Spec.Database, "Privileges": privs,
		"RetainOnDelete": strconv.FormatBool(p.RetainOnDelete),
	}
	if p.ConnectTimeout > 0 {
		again["ConnectTimeoutSeconds"] = strconv.Itoa(int(p.ConnectTimeout / time.Second))
	}
	if p.Wait > 0 {
		again["WaitSeconds"] = strconv.Itoa(int(p.Wait / time.Second))
	}
	p2, err := dbuser.ParseProperties(again)
	if err != nil {
		t.Fatalf("round trip of %+v: %v", p, err)
	}
	if !reflect.DeepEqual(p, p2) {
		t.Fatalf("round trip changed %+v into %+v", p, p2)
	}
}
