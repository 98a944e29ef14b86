package dbuser

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
)

// has reports whether the executed statements include one starting with prefix.
func has(stmts []string, prefix string) bool {
	return slices.ContainsFunc(stmts, func(s string) bool { return strings.HasPrefix(s, prefix) })
}

// An account the resource did not create is refused by default, before any
// statement touches it; with ExistingUser it is adopted and, by default,
// kept on Delete.
func TestExistingAccount(t *testing.T) {
	tests := []struct {
		name         string
		existingUser string
		owner        string // registry owner of the existing account; "" unrecorded
		wantErr      error
		wantDropped  bool // after Delete
	}{
		{name: "unrecorded, refused", wantErr: ErrExistingUser},
		{name: "another stack resource's, refused", owner: "arn:aws:cloudformation:eu-west-1:123456789012:stack/other/2/Users", wantErr: ErrExistingUser},
		{name: "adopt, kept on delete", existingUser: "adopt"},
		{name: "adopt-and-drop, dropped on delete", existingUser: "adopt-and-drop", wantDropped: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hn := newHarness()
			hn.db.seedAccount("app_user", "*.*", "SUPER")
			if tt.owner != "" {
				hn.db.registry["app_user"] = fakeRecord{owner: tt.owner}
			}
			props := goodProps()
			if tt.existingUser != "" {
				props = with(props, "ExistingUser", tt.existingUser)
			}
			_, err := hn.h.Handle(context.Background(), event(RequestCreate, props))
			if tt.wantErr != nil {
				var eu *ExistingUserError
				if !errors.Is(err, tt.wantErr) || !errors.As(err, &eu) || !strings.Contains(err.Error(), "`app_user`@'%'") ||
					!strings.Contains(err.Error(), "ExistingUser") || tt.owner != "" && !strings.Contains(err.Error(), tt.owner) {
					t.Fatalf("Create: %v; want %v naming the account, its owner and the ExistingUser switch", err, tt.wantErr)
				}
				if got := hn.db.statements(); len(got) != 0 {
					t.Errorf("refused, yet executed %q", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := hn.db.statements()
			if !has(got, "ALTER USER `app_user`@'%' IDENTIFIED WITH AWSAuthenticationPlugin") || !has(got, "REVOKE ALL PRIVILEGES") {
				t.Errorf("adoption did not switch and reset the account: %q", got)
			}
			if rec := hn.db.registry["app_user"]; !rec.adopted || rec.owner != ownerOf(event(RequestCreate, props)) {
				t.Errorf("registry %+v, want adopted by this resource", rec)
			}
			ev := event(RequestDelete, props)
			ev.PhysicalResourceID = "dbuser:app_user"
			if _, err := hn.h.Handle(context.Background(), ev); err != nil {
				t.Fatal(err)
			}
			if dropped := has(hn.db.statements(), "DROP USER"); dropped != tt.wantDropped {
				t.Errorf("Delete dropped the adopted account: %v, want %v", dropped, tt.wantDropped)
			}
			// A dropped account's record goes with it; a kept one's stays,
			// so a redelivered Delete keeps the account too.
			if _, kept := hn.db.registry["app_user"]; kept == tt.wantDropped {
				t.Errorf("registry record kept: %v, want %v", kept, !tt.wantDropped)
			}
			if _, err := hn.h.Handle(context.Background(), ev); err != nil {
				t.Fatal(err)
			}
			if !tt.wantDropped && !hn.db.accounts["app_user"] {
				t.Error("a redelivered Delete dropped the adopted account")
			}
		})
	}
}

// A Create delivered twice recognises its own account the second time.
func TestCreateRedeliveredIsOurs(t *testing.T) {
	hn := newHarness()
	for i := range 2 {
		if _, err := hn.h.Handle(context.Background(), event(RequestCreate, goodProps())); err != nil {
			t.Fatalf("delivery %d: %v", i+1, err)
		}
	}
	// The record is written before the account exists.
	all := hn.db.all()
	claim := slices.IndexFunc(all, func(s string) bool { return strings.HasPrefix(s, "INSERT INTO `rdsiam`") })
	create := slices.IndexFunc(all, func(s string) bool { return strings.HasPrefix(s, "CREATE USER") })
	if claim < 0 || create < 0 || claim > create {
		t.Errorf("registry claim at %d, CREATE USER at %d: want the claim first", claim, create)
	}
}

// Accounts with the same name at other hosts would take over logins from
// matching addresses; refused even when adopting.
func TestShadowAccountsRefused(t *testing.T) {
	hn := newHarness()
	hn.db.init()
	hn.db.otherHosts = map[string][]string{"app_user": {"10.0.%", "localhost"}}
	_, err := hn.h.Handle(context.Background(), event(RequestCreate, with(goodProps(), "ExistingUser", "adopt")))
	if !errors.Is(err, ErrShadowAccount) || !strings.Contains(err.Error(), "'app_user'@'10.0.%'") || !strings.Contains(err.Error(), "'app_user'@'localhost'") {
		t.Fatalf("Create: %v, want ErrShadowAccount naming both accounts", err)
	}
	if got := hn.db.statements(); len(got) != 0 {
		t.Errorf("refused, yet executed %q", got)
	}
}

// A Create that fails after making the account drops it; if that fails too,
// the Delete for the failed resource (CREATE_FAILED id) drops it through the
// registry. An account that existed before is never dropped that way.
func TestFailedCreateLeavesNoUser(t *testing.T) {
	hn := newHarness()
	grantErr := &mysql.MySQLError{Number: 1044, Message: "Access denied"}
	hn.db.failOn = map[string]error{"GRANT ": grantErr, "DROP USER": errors.New("connection reset")}
	_, err := hn.h.Handle(context.Background(), event(RequestCreate, goodProps()))
	if err == nil || !strings.Contains(err.Error(), "dropping the half-made account failed") {
		t.Fatalf("Create: %v, want the grant error and the failed rollback", err)
	}
	if !hn.db.accounts["app_user"] {
		t.Fatal("test setup: the rollback was meant to fail")
	}
	hn.db.failOn = nil
	del := event(RequestDelete, goodProps())
	del.PhysicalResourceID = "AWSCDK::CustomResourceProviderFramework::CREATE_FAILED"
	if _, err := hn.h.Handle(context.Background(), del); err != nil {
		t.Fatal(err)
	}
	if hn.db.accounts["app_user"] {
		t.Error("the Delete for the failed Create left the account")
	}

	// The same Delete for an account the registry does not give this
	// resource drops nothing.
	hn = newHarness()
	hn.db.seedAccount("app_user", "*.*")
	if _, err := hn.h.Handle(context.Background(), del); err != nil {
		t.Fatal(err)
	}
	if !hn.db.accounts["app_user"] || has(hn.db.statements(), "DROP USER") {
		t.Error("the Delete for a failed Create dropped an account that existed before")
	}
}

// Drift (a role or grant added by hand) is found by the read-back, logged
// and repaired; what a reset cannot remove fails with a VerifyError.
func TestVerifyRepairsDrift(t *testing.T) {
	hn := newHarness()
	if _, err := hn.h.Handle(context.Background(), event(RequestCreate, goodProps())); err != nil {
		t.Fatal(err)
	}
	hn.db.extraLines = map[string][]string{"app_user": {"GRANT `admin`@`%` TO `app_user`@`%`"}}
	hn.db.grants["app_user"]["`otherdb`.*"] = []string{"DELETE"}
	upd := event(RequestUpdate, goodProps())
	upd.OldResourceProperties, upd.PhysicalResourceID = goodProps(), "dbuser:app_user"
	if _, err := hn.h.Handle(context.Background(), upd); err != nil {
		t.Fatal(err)
	}
	got := hn.db.statements()
	for _, want := range []string{"REVOKE `admin`@'%' FROM `app_user`@'%'", "SET DEFAULT ROLE NONE TO `app_user`@'%'", "REVOKE ALL PRIVILEGES"} {
		if !has(got, want) {
			t.Errorf("repair did not run %q: %q", want, got)
		}
	}
	for _, want := range []string{"repairing", "role `admin`@'%'", "DELETE on `otherdb`.*"} {
		if !strings.Contains(hn.logs.String(), want) {
			t.Errorf("logs do not name %q", want)
		}
	}

	// A global privilege that REVOKE ALL does not remove in this fake (as a
	// mandatory role would survive on MySQL) fails the Update, listed.
	hn.db.extraLines = map[string][]string{"app_user": {"GRANT SUPER ON *.* TO `app_user`@`%`"}}
	_, err := hn.h.Handle(context.Background(), upd)
	var ve *VerifyError
	if !errors.As(err, &ve) || !errors.Is(err, ErrGrantsDiffer) || !slices.Contains(ve.Findings, "SUPER on *.*") {
		t.Fatalf("Update: %v, want a VerifyError listing SUPER on *.*", err)
	}
}
