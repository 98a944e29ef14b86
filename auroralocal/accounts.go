package auroralocal

import (
	"encoding/json"
	"fmt"
	"net"
	"sort"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/mysql_db"
)

// requireSSLAttribute is the key under which REQUIRE SSL is kept in the GMS
// user's attributes JSON. GMS has no ssl_type column, and keeping the flag on
// the user row (rather than in a side map) means DROP USER forgets it and a
// re-created user starts without it, exactly like MySQL.
const requireSSLAttribute = "auroralocal_require_ssl"

// User describes one account as Users reports it.
type User struct {
	// Name and Host form the account name, e.g. app_user and %.
	Name, Host string
	// Plugin is the authentication plugin: mysql_native_password,
	// caching_sha2_password or AWSAuthenticationPlugin.
	Plugin string
	// RequireSSL reports ALTER USER ... REQUIRE SSL (or CREATE USER ...
	// REQUIRE SSL): logins over plain TCP are refused.
	RequireSSL bool
}

// account is a snapshot of the fields login decisions need.
type account struct {
	User, Host, Plugin string
	RequireSSL         bool
}

// lookupAccount finds the account GMS matches for user connecting from
// remote (exact host first, then '%').
func (s *Server) lookupAccount(user string, remote net.Addr) (account, bool) {
	host := remoteHost(remote)
	rd := s.mysqlDb.Reader()
	defer rd.Close()
	u := s.mysqlDb.GetUser(rd, user, host, false)
	if u == nil || u.IsRole {
		return account{}, false
	}
	return account{User: u.User, Host: u.Host, Plugin: u.Plugin, RequireSSL: requireSSL(u)}, true
}

// remoteHost is the client's IP as a string ("" if unknown).
func remoteHost(remote net.Addr) string {
	if remote == nil {
		return ""
	}
	host, _, err := net.SplitHostPort(remote.String())
	if err != nil {
		return remote.String()
	}
	return host
}

// requireSSL reads the REQUIRE SSL flag from a GMS user's attributes.
func requireSSL(u *mysql_db.User) bool {
	if u.Attributes == nil {
		return false
	}
	var attrs map[string]any
	if json.Unmarshal([]byte(*u.Attributes), &attrs) != nil {
		return false
	}
	on, _ := attrs[requireSSLAttribute].(bool)
	return on
}

// withRequireSSL returns a copy of u with the REQUIRE SSL flag set or
// cleared, preserving any other attributes.
func withRequireSSL(u *mysql_db.User, on bool) (*mysql_db.User, error) {
	attrs := map[string]any{}
	if u.Attributes != nil && *u.Attributes != "" {
		if err := json.Unmarshal([]byte(*u.Attributes), &attrs); err != nil {
			return nil, fmt.Errorf("user attributes of '%s'@'%s' are not a JSON object: %w", u.User, u.Host, err)
		}
	}
	if on {
		attrs[requireSSLAttribute] = true
	} else {
		delete(attrs, requireSSLAttribute)
	}
	cp := *u
	cp.Attributes = nil
	if len(attrs) > 0 {
		b, err := json.Marshal(attrs)
		if err != nil {
			return nil, fmt.Errorf("encoding user attributes: %w", err)
		}
		str := string(b)
		cp.Attributes = &str
	}
	return &cp, nil
}

// setRequireSSL sets the REQUIRE SSL flag of the account name@host (exact
// host match, as ALTER USER names an account). It reports whether the
// account exists.
func (s *Server) setRequireSSL(name, host string, on bool) (bool, error) {
	ed := s.mysqlDb.Editor()
	defer ed.Close() // also bumps GMS's cache counter so sessions re-read privileges
	u, ok := ed.GetUser(mysql_db.UserPrimaryKey{Host: host, User: name})
	if !ok || u.IsRole {
		return false, nil
	}
	updated, err := withRequireSSL(u, on)
	if err != nil {
		return true, err
	}
	// PutUser only replaces an entry equal in every field, so remove the
	// old row by primary key first or GMS would hold two rows for the
	// account.
	ed.RemoveUser(mysql_db.UserPrimaryKey{Host: host, User: name})
	ed.PutUser(updated)
	return true, nil
}

// clearPrivileges removes every privilege (all scopes, with GRANT OPTION)
// of the account name@host.
func (s *Server) clearPrivileges(name, host string) error {
	ed := s.mysqlDb.Editor()
	defer ed.Close()
	pk := mysql_db.UserPrimaryKey{Host: host, User: name}
	u, ok := ed.GetUser(pk)
	if !ok || u.IsRole {
		return fmt.Errorf("no account '%s'@'%s'", name, host)
	}
	cp := *u
	cp.PrivilegeSet = mysql_db.NewPrivilegeSet()
	ed.RemoveUser(pk)
	ed.PutUser(&cp)
	return nil
}

// accountExists reports whether name@host exists (exact host match).
func (s *Server) accountExists(name, host string) bool {
	rd := s.mysqlDb.Reader()
	defer rd.Close()
	u, ok := rd.GetUser(mysql_db.UserPrimaryKey{Host: host, User: name})
	return ok && !u.IsRole
}

// hasGlobalPrivilege reports whether the logged-in account of a connection
// (name@host as matched at login) holds priv globally.
func (s *Server) hasGlobalPrivilege(name, host string, priv sql.PrivilegeType) bool {
	rd := s.mysqlDb.Reader()
	defer rd.Close()
	u, ok := rd.GetUser(mysql_db.UserPrimaryKey{Host: host, User: name})
	if !ok {
		return false
	}
	return u.PrivilegeSet.Has(priv) || u.PrivilegeSet.Has(sql.PrivilegeType_Super)
}

// Users lists every account (not roles) from GMS's user table, sorted by
// name then host. It fails only after Close.
func (s *Server) Users() ([]User, error) {
	if s.isClosed() {
		return nil, errClosed
	}
	var users []User
	rd := s.mysqlDb.Reader()
	rd.VisitUsers(func(u *mysql_db.User) {
		if u.IsRole {
			return
		}
		users = append(users, User{Name: u.User, Host: u.Host, Plugin: u.Plugin, RequireSSL: requireSSL(u)})
	})
	rd.Close()
	sort.Slice(users, func(i, j int) bool {
		if users[i].Name != users[j].Name {
			return users[i].Name < users[j].Name
		}
		return users[i].Host < users[j].Host
	})
	return users, nil
}

// Grants returns the privileges held by the account user@host (exact host,
// e.g. "%"), one line per privilege and scope, sorted:
//
//	"SELECT ON *.*"            global
//	"SELECT ON appdb.*"        database
//	"SELECT ON appdb.items"    table
//	"GRANT OPTION ON appdb.*"  WITH GRANT OPTION at that scope
//
// Privilege names are MySQL's upper-case names; database and table names are
// as GMS stores them (lower case). An account without privileges yields an
// empty slice. An unknown account is an error naming it.
func (s *Server) Grants(user, host string) ([]string, error) {
	if s.isClosed() {
		return nil, errClosed
	}
	rd := s.mysqlDb.Reader()
	defer rd.Close()
	u, ok := rd.GetUser(mysql_db.UserPrimaryKey{Host: host, User: user})
	if !ok || u.IsRole {
		return nil, fmt.Errorf("auroralocal: no account '%s'@'%s'", user, host)
	}
	lines := []string{}
	add := func(privs []sql.PrivilegeType, scope string) {
		for _, p := range privs {
			lines = append(lines, p.String()+" ON "+scope)
		}
	}
	add(u.PrivilegeSet.ToSlice(), "*.*")
	for _, dbSet := range u.PrivilegeSet.GetDatabases() {
		add(dbSet.ToSlice(), dbSet.Name()+".*")
		for _, tblSet := range dbSet.GetTables() {
			add(tblSet.ToSlice(), dbSet.Name()+"."+tblSet.Name())
		}
	}
	sort.Strings(lines)
	return lines, nil
}
