package dbuser

import (
	"database/sql/driver"
	"fmt"
	"io"
	"slices"
	"strings"
)

// The fake server's model (see fakeDB). Statements come from usersql's
// templates, so their shapes are known: `user`@'%' accounts, "GRANT p, q ON
// level TO account", "REVOKE p ON level FROM account".

// accountUser extracts user from "`user`@'%'" at the end of s.
func accountUser(s string) string {
	i := strings.LastIndex(s, "`@'")
	if i < 0 {
		return ""
	}
	j := strings.LastIndex(s[:i], "`")
	if j < 0 {
		return ""
	}
	return s[j+1 : i]
}

func (f *fakeDB) init() {
	if f.accounts == nil {
		f.accounts = map[string]bool{}
		f.grants = map[string]map[string][]string{}
		f.registry = map[string]fakeRecord{}
	}
}

// seedAccount makes user@'%' exist with privs on level, as an account made
// before the handler ran.
func (f *fakeDB) seedAccount(user, level string, privs ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.init()
	f.accounts[user] = true
	if len(privs) > 0 {
		f.grants[user] = map[string][]string{level: privs}
	}
}

func (f *fakeDB) apply(query string, args []driver.NamedValue) {
	f.init()
	arg := func(i int) string { return fmt.Sprint(args[i].Value) }
	switch {
	case strings.HasPrefix(query, "INSERT INTO `rdsiam`"):
		f.registry[arg(0)] = fakeRecord{owner: arg(2), adopted: arg(3) == "1"}
	case strings.HasPrefix(query, "DELETE FROM `rdsiam`"):
		if f.registry[arg(0)].owner == arg(2) {
			delete(f.registry, arg(0))
		}
	case strings.HasPrefix(query, "CREATE USER IF NOT EXISTS"):
		f.accounts[accountUser(strings.TrimSuffix(query, " IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS'"))] = true
	case strings.HasPrefix(query, "DROP USER IF EXISTS"):
		u := accountUser(query)
		delete(f.accounts, u)
		delete(f.grants, u)
		delete(f.extraLines, u)
	case strings.HasPrefix(query, "REVOKE ALL PRIVILEGES"):
		delete(f.grants, accountUser(query))
	case strings.HasPrefix(query, "GRANT "), strings.HasPrefix(query, "REVOKE ") && strings.Contains(query, " ON "):
		verb, rest, _ := strings.Cut(query, " ")
		privs, rest, _ := strings.Cut(rest, " ON ")
		sep := " TO "
		if verb == "REVOKE" {
			sep = " FROM "
		}
		level, acct, _ := strings.Cut(rest, sep)
		u := accountUser(acct)
		if f.grants[u] == nil {
			f.grants[u] = map[string][]string{}
		}
		for _, p := range strings.Split(privs, ", ") {
			cur := f.grants[u][level]
			if verb == "GRANT" && !slices.Contains(cur, p) {
				f.grants[u][level] = append(cur, p)
			} else if verb == "REVOKE" {
				f.grants[u][level] = slices.DeleteFunc(cur, func(x string) bool { return x == p })
			}
		}
	case strings.HasPrefix(query, "REVOKE "), strings.HasPrefix(query, "SET DEFAULT ROLE"):
		delete(f.extraLines, accountUser(query))
	}
}

func (f *fakeDB) answer(query string, args []driver.NamedValue) (driver.Rows, error) {
	f.init()
	switch {
	case strings.HasPrefix(query, "SELECT VERSION()"):
		return &fakeRows{cols: []string{"v", "l"}, rows: [][]driver.Value{{"8.0.39-fake", int64(0)}}}, nil
	case strings.HasPrefix(query, "SELECT `owner`"):
		r := &fakeRows{cols: []string{"owner", "adopted"}}
		if rec, ok := f.registry[fmt.Sprint(args[0].Value)]; ok {
			r.rows = [][]driver.Value{{rec.owner, rec.adopted}}
		}
		return r, nil
	case strings.HasPrefix(query, "SELECT `Host`"):
		user := fmt.Sprint(args[0].Value)
		r := &fakeRows{cols: []string{"Host", "plugin", "ssl_type"}}
		if f.accounts[user] {
			r.rows = append(r.rows, []driver.Value{"%", iamPlugin, "ANY"})
		}
		for _, h := range f.otherHosts[user] {
			r.rows = append(r.rows, []driver.Value{h, "mysql_native_password", ""})
		}
		return r, nil
	case strings.HasPrefix(query, "SHOW GRANTS FOR"):
		u := accountUser(query)
		acct := "`" + u + "`@`%`"
		r := &fakeRows{cols: []string{"Grants"}, rows: [][]driver.Value{{"GRANT USAGE ON *.* TO " + acct}}}
		levels := make([]string, 0, len(f.grants[u]))
		for l := range f.grants[u] {
			levels = append(levels, l)
		}
		slices.Sort(levels)
		for _, l := range levels {
			if privs := f.grants[u][l]; len(privs) > 0 {
				r.rows = append(r.rows, []driver.Value{"GRANT " + strings.Join(privs, ", ") + " ON " + l + " TO " + acct})
			}
		}
		for _, line := range f.extraLines[u] {
			r.rows = append(r.rows, []driver.Value{line})
		}
		return r, nil
	}
	return nil, fmt.Errorf("fake: unexpected query %q", query)
}

type fakeRows struct {
	cols []string
	rows [][]driver.Value
}

func (r *fakeRows) Columns() []string { return r.cols }
func (r *fakeRows) Close() error      { return nil }
func (r *fakeRows) Next(dest []driver.Value) error {
	if len(r.rows) == 0 {
		return io.EOF
	}
	copy(dest, r.rows[0])
	r.rows = r.rows[1:]
	return nil
}
