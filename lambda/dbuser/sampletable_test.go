package dbuser

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/rdsiam/rdsiam/lambda/userprops"
)

func sampleTableProps() map[string]any {
	p := goodProps()
	for _, k := range []string{PropUserName, PropPrivileges} {
		delete(p, k)
	}
	return p
}

// The sample table's own resource: Create and Update run the database and
// table statements and nothing of a user's; Delete keeps the table and
// needs no database; bad properties and other resource types are refused.
func TestSampleTableResource(t *testing.T) {
	const (
		createDB    = "CREATE DATABASE IF NOT EXISTS `appdb`"
		createTable = "CREATE TABLE IF NOT EXISTS `appdb`.`items` ("
	)
	tests := []struct {
		name         string
		resourceType string
		request      string
		props        map[string]any
		wantSQL      []string // prefixes, in order
		wantID       string
		wantErr      []string
	}{
		{name: "create", request: RequestCreate, props: sampleTableProps(),
			wantSQL: []string{createDB, createTable}, wantID: "sampletable:appdb"},
		{name: "update to another database", request: RequestUpdate, props: with(sampleTableProps(), PropDatabaseName, "shop"),
			wantSQL: []string{"CREATE DATABASE IF NOT EXISTS `shop`", "CREATE TABLE IF NOT EXISTS `shop`.`items` ("}, wantID: "sampletable:shop"},
		{name: "delete keeps the table", request: RequestDelete, props: sampleTableProps(), wantID: "sampletable:appdb"},
		{name: "a user's property", request: RequestCreate, props: with(sampleTableProps(), PropUserName, "app_user"),
			wantErr: []string{"property UserName", "unknown property of a sample table", "allowed: DatabaseName, Endpoint, Port, SecretArn"}},
		{name: "bad database", request: RequestCreate, props: with(sampleTableProps(), PropDatabaseName, "mysql"),
			wantErr: []string{"property DatabaseName", `"mysql"`, "system schema"}},
		{name: "no endpoint", request: RequestCreate, props: without(sampleTableProps(), PropEndpoint),
			wantErr: []string{"property Endpoint", "missing"}},
		{name: "another resource type", resourceType: "Custom::Other", request: RequestCreate, props: sampleTableProps(),
			wantErr: []string{`resource type "Custom::Other"`, "allowed: Custom::DatabaseUser, Custom::SampleTable"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hn := newHarness()
			ev := event(tt.request, tt.props)
			ev.ResourceType = userprops.SampleTableResourceType
			if tt.resourceType != "" {
				ev.ResourceType = tt.resourceType
			}
			if tt.request != RequestCreate {
				ev.PhysicalResourceID = "sampletable:appdb"
				ev.OldResourceProperties = sampleTableProps()
			}
			resp, err := hn.h.Handle(context.Background(), ev)
			if len(tt.wantErr) > 0 {
				for _, w := range tt.wantErr {
					if err == nil || !strings.Contains(err.Error(), w) {
						t.Errorf("error %v does not contain %q", err, w)
					}
				}
				if n := len(hn.db.all()); n != 0 {
					t.Errorf("ran %d statements for a refused event", n)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if resp.PhysicalResourceID != tt.wantID {
				t.Errorf("physical id %q, want %q", resp.PhysicalResourceID, tt.wantID)
			}
			got := hn.db.all()
			ok := len(got) == len(tt.wantSQL)
			for i := 0; ok && i < len(got); i++ {
				ok = strings.HasPrefix(got[i], tt.wantSQL[i])
			}
			if !ok {
				t.Errorf("executed %q, want statements starting %q", got, tt.wantSQL)
			}
			if tt.request == RequestDelete && hn.db.connects != 0 {
				t.Errorf("Delete connected to the database")
			}
		})
	}
}

// A user's events never create the sample table.
func TestUserCreatesNoSampleTable(t *testing.T) {
	hn := newHarness()
	if _, err := hn.h.Handle(context.Background(), event(RequestCreate, goodProps())); err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(hn.db.all(), func(s string) bool { return strings.HasPrefix(s, "CREATE TABLE IF NOT EXISTS `appdb`") }) {
		t.Errorf("a user's Create made the sample table: %q", hn.db.all())
	}
}

// An event without a ResourceType is a user's, as before the provider
// served a second type (hand-made events, older tools).
func TestNoResourceTypeIsAUser(t *testing.T) {
	hn := newHarness()
	ev := event(RequestCreate, goodProps())
	ev.ResourceType = ""
	resp, err := hn.h.Handle(context.Background(), ev)
	if err != nil || resp.PhysicalResourceID != PhysicalID("app_user") || !has(hn.db.statements(), "CREATE USER IF NOT EXISTS `app_user`") {
		t.Fatalf("Create without ResourceType = %+v, %v; statements %q", resp, err, hn.db.statements())
	}
}
