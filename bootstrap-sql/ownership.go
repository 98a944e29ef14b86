package usersql

import (
	"fmt"

	"github.com/rdsiam/rdsiam/lambda/sqlident"
)

// Dialect is the SQL dialect of the server, where MySQL 8.0 (Aurora MySQL 3)
// and MariaDB differ in what rdsiam runs.
type Dialect int

const (
	// MySQL is MySQL 8.0, and so Aurora MySQL 3.
	MySQL Dialect = iota
	// MariaDB is MariaDB 10.11, the engine of the local real-engine lane.
	MariaDB
)

// Role is a role granted to an account, as SHOW GRANTS names it. Host is
// empty for MariaDB, whose roles have no host part.
type Role struct {
	Name, Host string
}

// quoted returns r for a REVOKE statement: `name`@'host', or `name`.
func (r Role) quoted() string {
	if r.Host == "" {
		return sqlident.QuoteIdentifier(r.Name)
	}
	return sqlident.QuoteIdentifier(r.Name) + "@" + sqlident.QuoteString(r.Host)
}

// String shows r as SHOW GRANTS does, for messages.
func (r Role) String() string { return r.quoted() }

// Held is what an existing account holds beyond its privileges: the roles
// granted to it and whether a default role is set. Reset revokes them.
type Held struct {
	Roles       []Role
	DefaultRole bool
}

// Reset returns the statements that take an existing account to exactly the
// state s describes: switch it to IAM authentication, require TLS, revoke
// every role it holds (REVOKE ALL PRIVILEGES does not), activate no role at
// login, revoke every privilege at every level, then grant s.Privileges on
// s.Database and s.Tables on their tables. It is Create's order with the role steps added; the database
// step is Create's business, so Reset assumes it ran.
// Between the revoke and the grant the account holds nothing, so Reset is
// for adopting an account and repairing drift, not for ordinary updates.
func Reset(s Spec, held Held, d Dialect) ([]Statement, error) {
	n, err := s.Normalize()
	if err != nil {
		return nil, fmt.Errorf("plan reset: %w", err)
	}
	steps := []step{alterUserIAM(), requireSSL()}
	for _, r := range held.Roles {
		steps = append(steps, step{file: "revoke_role.sql", purpose: "revoke role " + r.String(), role: r.quoted()})
	}
	if len(held.Roles) > 0 || held.DefaultRole {
		steps = append(steps, step{file: "default_role_none.sql", purpose: "set default role none", mariaDB: d == MariaDB})
	}
	steps = append(steps, revokeAll())
	steps = append(steps, grantsOn(n, n.Database)...)
	return build(n, steps)
}

// Registry statements. The registry (schema sqlident.RegistrySchema) records
// which stack resource created or adopted each account, so that a redelivered
// Create recognises its own account, an account that existed before is not
// taken over silently, and Delete drops only what the resource created.

// RegistrySetup returns the statements that create the registry if missing.
func RegistrySetup() ([]Statement, error) {
	return build(Spec{}, []step{
		{file: "registry_schema.sql", purpose: "create registry schema " + sqlident.RegistrySchema},
		{file: "registry_table.sql", purpose: "create registry table " + sqlident.RegistrySchema + ".managed_users"},
	})
}

// RegistryLookup returns the query for the owner and adopted flag of user's
// account; no row means the registry does not know it.
func RegistryLookup(user string) (Statement, error) {
	return argStatement("registry_lookup.sql", "look up owner of user "+user, user, AccountHost)
}

// RegistryClaim returns the statement that records owner as the owner of
// user's account, adopted or created.
func RegistryClaim(user, owner string, adopted bool) (Statement, error) {
	a := 0
	if adopted {
		a = 1
	}
	return argStatement("registry_claim.sql", "record owner of user "+user, user, AccountHost, owner, a)
}

// RegistryRelease returns the statement that forgets owner's record of user.
func RegistryRelease(user, owner string) (Statement, error) {
	return argStatement("registry_release.sql", "forget owner of user "+user, user, AccountHost, owner)
}

// AccountHosts returns the query for every account named user, at any host,
// with its plugin and ssl_type.
func AccountHosts(user string) (Statement, error) {
	return argStatement("account_hosts.sql", "list accounts named "+user, user)
}

// ShowGrants returns SHOW GRANTS for user's managed account. user must pass
// sqlident.ValidateUserName.
func ShowGrants(user string) (Statement, error) {
	if err := sqlident.ValidateUserName(user); err != nil {
		return Statement{}, fmt.Errorf("plan show grants: %w", err)
	}
	out, err := build(Spec{User: user}, []step{{file: "show_grants.sql", purpose: "read back grants of user " + user}})
	if err != nil {
		return Statement{}, err
	}
	return out[0], nil
}

// argStatement renders a template whose only quoted name is the registry's,
// with placeholder arguments for the values.
func argStatement(file, purpose string, args ...any) (Statement, error) {
	out, err := build(Spec{}, []step{{file: file, purpose: purpose}})
	if err != nil {
		return Statement{}, err
	}
	out[0].Args = args
	return out[0], nil
}
