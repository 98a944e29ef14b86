package usersql

import (
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/rdsiam/rdsiam/lambda/sqlident"
)

// keywords are the only bare words statements may contain: SQL keywords and
// privilege names, all upper case except the plugin name. Names in these
// tests are lower case, so a name that escaped quoting shows up as a bare
// word that is not in this set.
var keywords = func() map[string]bool {
	set := map[string]bool{"AWSAuthenticationPlugin": true}
	for _, w := range strings.Fields(`CREATE DATABASE IF NOT EXISTS USER IDENTIFIED WITH AS
		ALTER REQUIRE SSL GRANT ON TO REVOKE FROM ALL PRIVILEGES OPTION DROP TABLE
		BIGINT NULL AUTO_INCREMENT PRIMARY KEY VARCHAR TIMESTAMP DEFAULT CURRENT_TIMESTAMP`) {
		set[w] = true
	}
	for _, p := range sqlident.AllowedPrivileges() {
		for _, w := range strings.Fields(p) {
			set[w] = true
		}
	}
	return set
}()

// token is one lexical element of a statement.
type token struct {
	kind string // "word", "ident", "string", "number", "punct"
	text string // for ident and string: the unquoted value
}

// lex splits a statement into tokens the way MySQL would, failing on
// anything outside the small grammar the templates use (comments, semicolons,
// unterminated quotes...).
func lex(sql string) ([]token, error) {
	var out []token
	for i := 0; i < len(sql); {
		c := sql[i]
		switch {
		case c == ' ':
			i++
		case c == '`' || c == '\'':
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(sql) {
					return nil, fmt.Errorf("unterminated %c at %d", c, i)
				}
				if sql[j] == '\\' && c == '\'' {
					return nil, fmt.Errorf("backslash in string at %d", j)
				}
				if sql[j] == c {
					if j+1 < len(sql) && sql[j+1] == c {
						b.WriteByte(c)
						j += 2
						continue
					}
					break
				}
				b.WriteByte(sql[j])
				j++
			}
			kind := "ident"
			if c == '\'' {
				kind = "string"
			}
			out = append(out, token{kind, b.String()})
			i = j + 1
		case c == '_' || unicode.IsLetter(rune(c)):
			j := i
			for j < len(sql) && (sql[j] == '_' || unicode.IsLetter(rune(sql[j])) || unicode.IsDigit(rune(sql[j]))) {
				j++
			}
			out = append(out, token{"word", sql[i:j]})
			i = j
		case unicode.IsDigit(rune(c)):
			j := i
			for j < len(sql) && unicode.IsDigit(rune(sql[j])) {
				j++
			}
			out = append(out, token{"number", sql[i:j]})
			i = j
		case strings.IndexByte("(),.*@", c) >= 0:
			out = append(out, token{"punct", string(c)})
			i++
		default:
			return nil, fmt.Errorf("unexpected %q at %d", c, i)
		}
	}
	return out, nil
}

// Every name reaches SQL only inside backticks, and the only string literals
// are the fixed host and plugin argument.
func TestStatementsQuoteEveryIdentifier(t *testing.T) {
	const user, db, oldDB = "zq_user", "zq_db", "zq_old"
	// "user" and "items" are non-reserved names that collide with words the
	// templates use; quoting must still set them apart.
	specs := []Spec{
		{User: user, Database: db, Privileges: []string{"SELECT", "INSERT", "CREATE TEMPORARY TABLES"},
			Tables: []sqlident.TableGrant{{Table: "zq_tbl", Privileges: []string{"UPDATE"}}}},
		{User: "user", Database: "items", Privileges: []string{"SELECT"}},
		{User: "user", Database: "items", Tables: []sqlident.TableGrant{{Table: "user", Privileges: []string{"SELECT"}}}},
	}
	// Database-level GRANT and REVOKE name the database as an escaped
	// pattern (TestGrantsEscapeWildcards).
	// Table-level ones name it as it is (TestTableGrantsDoNotEscape).
	allowedIdents := []string{user, db, oldDB, `zq\_db`, `zq\_old`, "zq_tbl", "user", "items", "id", "name", "created_at"}
	var plans [][]Statement
	for _, s := range specs {
		c, err := Create(s)
		if err != nil {
			t.Fatal(err)
		}
		u1, err := Update(Spec{User: s.User, Database: s.Database, Privileges: []string{"DELETE", "SELECT"}}, s)
		if err != nil {
			t.Fatal(err)
		}
		u2, err := Update(Spec{User: s.User, Database: oldDB, Privileges: []string{"UPDATE"},
			Tables: []sqlident.TableGrant{{Table: "zq_tbl", Privileges: []string{"INSERT"}}}}, s)
		if err != nil {
			t.Fatal(err)
		}
		d, err := Delete(s)
		if err != nil {
			t.Fatal(err)
		}
		plans = append(plans, c, u1, u2, d)
	}
	for _, plan := range plans {
		for _, st := range plan {
			toks, err := lex(st.SQL)
			if err != nil {
				t.Errorf("%s: %v", st.SQL, err)
				continue
			}
			for _, tok := range toks {
				switch tok.kind {
				case "word":
					if !keywords[tok.text] {
						t.Errorf("%s: bare word %q is not a keyword (unquoted name?)", st.SQL, tok.text)
					}
				case "ident":
					if !slices.Contains(allowedIdents, tok.text) {
						t.Errorf("%s: unexpected identifier %q", st.SQL, tok.text)
					}
				case "string":
					if tok.text != "%" && tok.text != "RDS" {
						t.Errorf("%s: unexpected string literal %q", st.SQL, tok.text)
					}
				}
			}
		}
	}
}

// In a database-level GRANT or REVOKE, `_` and `%` in the database name are
// wildcards on MySQL and MariaDB: `app_db`.* also matches app1db. Every
// such statement must name the database escaped, and nothing else may.
func TestGrantsEscapeWildcards(t *testing.T) {
	s := Spec{User: "app_user", Database: "app_db", Privileges: []string{"SELECT", "CREATE", "DROP"}}
	c, err := Create(s)
	if err != nil {
		t.Fatal(err)
	}
	u, err := Update(Spec{User: "app_user", Database: "old_db", Privileges: []string{"SELECT"}}, s)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Reset(s, Held{}, MySQL)
	if err != nil {
		t.Fatal(err)
	}
	var grants int
	for _, st := range slices.Concat(c, u, r) {
		isGrant := strings.HasPrefix(st.SQL, "GRANT ") || strings.HasPrefix(st.SQL, "REVOKE ") && strings.Contains(st.SQL, " ON ")
		isGrant = isGrant && strings.Contains(st.SQL, ".* ")
		switch {
		case isGrant:
			grants++
			if !strings.Contains(st.SQL, " ON `app\\_db`.* ") && !strings.Contains(st.SQL, " ON `old\\_db`.* ") {
				t.Errorf("%s: database not escaped as a pattern", st.SQL)
			}
		case strings.Contains(st.SQL, `\_`):
			t.Errorf("%s: only GRANT/REVOKE take the escaped pattern", st.SQL)
		}
	}
	if grants != 4 { // Create's grant, Update's grant and revoke, Reset's grant
		t.Errorf("checked %d GRANT/REVOKE statements, want 4", grants)
	}
}

// The lexer must itself reject what the test relies on it to catch.
func TestLexRejectsUnsafeSQL(t *testing.T) {
	for _, sql := range []string{"DROP USER x; --", "`unterminated", "'a\\'", "SELECT 1 -- c", "/* c */"} {
		if toks, err := lex(sql); err == nil {
			t.Errorf("lex(%q) = %v, want error", sql, toks)
		}
	}
}

// Every embedded template renders one statement: no template syntax left, a
// single line, no statement separator.
func TestTemplatesRenderOneStatement(t *testing.T) {
	files, err := fs.Glob(sqlFiles, "*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no embedded .sql files: %v", err)
	}
	v := valuesFor(Spec{User: "app_user", Database: "appdb"}, []string{"SELECT"})
	v.Table = sqlident.QuoteIdentifier("items")
	for _, f := range files {
		sql, err := render(f, v)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if sql == "" || strings.ContainsAny(sql, "{};\n\r") || strings.Contains(sql, "<no value>") {
			t.Errorf("%s renders %q, want one statement on one line", f, sql)
		}
	}
	if _, err := render("missing.sql", v); err == nil {
		t.Error("render of a missing template succeeded")
	}
}
