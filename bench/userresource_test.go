package bench

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/rdsiam/rdsiam/lambda/dbuser"
)

// BenchmarkUserResource measures the custom resource: the real dbuser.Handler
// handling a Create (database, IAM user, REQUIRE SSL, grants; the sample
// table is a resource of its own since issue 11)
// and an Update (grants changed: INSERT replaced by UPDATE and back) against
// the stand-in. Each event reads the master secret (from memory here, from
// Secrets Manager in AWS), opens one master connection over TLS and runs the
// user SQL plan. A deploy pays this once per user; it is measured so a
// slow plan shows up before it becomes a slow deploy.
func BenchmarkUserResource(b *testing.B) {
	s := startStandIn(b)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	b.Run("create", func(b *testing.B) {
		lat := newLatencies(b.N)
		b.ResetTimer()
		for i := range b.N {
			// A new user each time: a Create of an existing user would be
			// an idempotent re-delivery, a different (cheaper) path.
			user := fmt.Sprintf("bench_%d_%d", time.Now().UnixNano()%1e9, i)
			start := time.Now()
			resp, err := s.users.Handle(ctx, s.userEvent("Create", user, "", grants, nil))
			if err != nil {
				b.Fatalf("Create %s: %v", user, err)
			}
			lat.add(time.Since(start))
			if resp.PhysicalResourceID != dbuser.PhysicalID(user) {
				b.Fatalf("Create %s: physical id %q", user, resp.PhysicalResourceID)
			}
		}
		lat.report(b)
	})

	// Table-level grants cost one GRANT per table and a longer read-back;
	// ten tables, on tables that exist (MySQL refuses a grant on a missing
	// one).
	b.Run("create-10-table-grants", func(b *testing.B) {
		master := s.openPool(b, s.srv.MasterUser(), s.srv.MasterPassword())
		var tables []any
		for i := range 10 {
			name := fmt.Sprintf("bench_t%d", i)
			if _, err := master.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS "+database+"."+name+" (id INT PRIMARY KEY)"); err != nil {
				b.Fatal(err)
			}
			tables = append(tables, map[string]any{"Table": name, "Privileges": []any{"SELECT", "INSERT"}})
		}
		master.Close()
		lat := newLatencies(b.N)
		b.ResetTimer()
		for i := range b.N {
			user := fmt.Sprintf("bench_t_%d_%d", time.Now().UnixNano()%1e9, i)
			ev := s.userEvent("Create", user, "", grants, nil)
			delete(ev.ResourceProperties, dbuser.PropPrivileges)
			ev.ResourceProperties[dbuser.PropTableGrants] = tables
			start := time.Now()
			if _, err := s.users.Handle(ctx, ev); err != nil {
				b.Fatalf("Create %s: %v", user, err)
			}
			lat.add(time.Since(start))
		}
		lat.report(b)
	})

	b.Run("update", func(b *testing.B) {
		current, other := grants, []string{"SELECT", "UPDATE"}
		lat := newLatencies(b.N)
		b.ResetTimer()
		for range b.N {
			start := time.Now()
			if _, err := s.users.Handle(ctx, s.userEvent("Update", iamUser, dbuser.PhysicalID(iamUser), other, current)); err != nil {
				b.Fatalf("Update %s: %v", iamUser, err)
			}
			lat.add(time.Since(start))
			current, other = other, current
		}
		lat.report(b)
	})
}
