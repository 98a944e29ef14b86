package dbuser

import (
	"fmt"
	"strings"

	usersql "github.com/rdsiam/rdsiam/bootstrap-sql"
	"github.com/rdsiam/rdsiam/lambda/sqlident"
)

// grantLine is one line of SHOW GRANTS, parsed. MySQL 8.0 (Aurora MySQL 3),
// MariaDB and the local stand-in print the same shapes:
//
//	GRANT USAGE ON *.* TO `u`@`%`                         (MariaDB appends IDENTIFIED VIA … REQUIRE SSL)
//	GRANT SELECT, INSERT ON `app\_db`.* TO `u`@`%`        (privileges at a level)
//	GRANT SELECT (`c`) ON `db`.`t` TO `u`@`%` WITH GRANT OPTION
//	GRANT EXECUTE ON PROCEDURE `db`.`p` TO `u`@`%`
//	GRANT `r1`@`%`,`r2`@`%` TO `u`@`%`                    (MySQL roles; MariaDB: GRANT `r1` TO …)
//	SET DEFAULT ROLE `r1` FOR `u`@`%`                     (MariaDB)
//	REVOKE INSERT ON `db`.* FROM `u`@`%`                  (MySQL partial revokes)
type grantLine struct {
	kind        lineKind
	privileges  []string // upper case as printed, column lists kept: "SELECT (`c`)"
	level       string   // "*.*", "`app\_db`.*", "PROCEDURE `db`.`p`", as printed
	levelDB     string   // the database part unquoted (escapes kept: app\_db); "" for *.*
	levelTable  string   // "*" for database level, else the object name unquoted
	grantOption bool
	roles       []usersql.Role
	raw         string
}

type lineKind int

const (
	linePrivileges lineKind = iota
	lineRoles
	lineDefaultRole
	linePartialRevoke
)

// token is a lexical token of a SHOW GRANTS line.
type token struct {
	text   string // unquoted text for identifiers and strings, else as written
	quoted bool   // a backtick identifier or a '…' string
}

// lexGrant splits a SHOW GRANTS line into words, quoted names and the
// punctuation , . @ ( ).
func lexGrant(line string) ([]token, error) {
	var out []token
	for i := 0; i < len(line); {
		c := line[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '`' || c == '\'':
			var b strings.Builder
			j := i + 1
			for ; j < len(line); j++ {
				if line[j] == c {
					if j+1 < len(line) && line[j+1] == c {
						b.WriteByte(c)
						j++
						continue
					}
					break
				}
				b.WriteByte(line[j])
			}
			if j >= len(line) {
				return nil, fmt.Errorf("unterminated %c quote", c)
			}
			out = append(out, token{text: b.String(), quoted: true})
			i = j + 1
		case strings.IndexByte(",.@()", c) >= 0:
			out = append(out, token{text: string(c)})
			i++
		default:
			j := i
			for j < len(line) && strings.IndexByte(" \t,.@()`'", line[j]) < 0 {
				j++
			}
			out = append(out, token{text: line[i:j]})
			i = j
		}
	}
	return out, nil
}

// isWord reports whether t is the unquoted keyword w (any case).
func (t token) isWord(w string) bool { return !t.quoted && strings.EqualFold(t.text, w) }

// parseGrantLine parses one SHOW GRANTS line; an error means the line has a
// shape this handler does not know, which verification treats as a finding.
func parseGrantLine(line string) (grantLine, error) {
	g := grantLine{raw: line}
	toks, err := lexGrant(line)
	if err != nil || len(toks) < 3 {
		return g, fmt.Errorf("unrecognised grant line %q", line)
	}
	switch {
	case toks[0].isWord("SET") && toks[1].isWord("DEFAULT") && toks[2].isWord("ROLE"):
		g.kind = lineDefaultRole
		return g, nil
	case toks[0].isWord("REVOKE"):
		g.kind = linePartialRevoke
		return g, nil
	case !toks[0].isWord("GRANT"):
		return g, fmt.Errorf("unrecognised grant line %q", line)
	}
	on, to := -1, -1
	depth := 0
	for i, t := range toks {
		switch {
		case t.text == "(" && !t.quoted:
			depth++
		case t.text == ")" && !t.quoted:
			depth--
		case depth == 0 && on < 0 && t.isWord("ON"):
			on = i
		case depth == 0 && to < 0 && t.isWord("TO"):
			to = i
		}
	}
	if to < 0 {
		return g, fmt.Errorf("unrecognised grant line %q", line)
	}
	for i := to + 1; i+2 < len(toks); i++ {
		if toks[i].isWord("WITH") && toks[i+1].isWord("GRANT") && toks[i+2].isWord("OPTION") {
			g.grantOption = true
		}
	}
	if on < 0 || on > to {
		g.kind = lineRoles
		g.roles, err = parseRoles(toks[1:to])
		if err != nil {
			return g, fmt.Errorf("grant line %q: %w", line, err)
		}
		return g, nil
	}
	g.kind = linePrivileges
	g.privileges = splitPrivileges(toks[1:on])
	g.level, g.levelDB, g.levelTable = parseLevel(toks[on+1 : to])
	if len(g.privileges) == 0 || g.level == "" {
		return g, fmt.Errorf("unrecognised grant line %q", line)
	}
	return g, nil
}

// splitPrivileges joins the tokens between GRANT and ON into privilege
// names split at top-level commas: "SELECT", "SHOW VIEW", "SELECT (`c`)".
func splitPrivileges(toks []token) []string {
	var out []string
	var cur []string
	depth := 0
	flush := func() {
		if len(cur) > 0 {
			out = append(out, strings.Join(cur, " "))
			cur = nil
		}
	}
	for _, t := range toks {
		switch {
		case !t.quoted && t.text == "," && depth == 0:
			flush()
			continue
		case !t.quoted && t.text == "(":
			depth++
		case !t.quoted && t.text == ")":
			depth--
		}
		if t.quoted {
			cur = append(cur, sqlident.QuoteIdentifier(t.text))
		} else {
			cur = append(cur, strings.ToUpper(t.text))
		}
	}
	flush()
	return out
}

// parseLevel reads `db`.*, *.*, `db`.`t`, or PROCEDURE|FUNCTION|TABLE `db`.`x`.
func parseLevel(toks []token) (level, db, object string) {
	var parts []string
	rest := toks
	if len(rest) > 0 && !rest[0].quoted && (rest[0].isWord("PROCEDURE") || rest[0].isWord("FUNCTION") || rest[0].isWord("TABLE")) {
		parts = append(parts, strings.ToUpper(rest[0].text)+" ")
		rest = rest[1:]
	}
	if len(rest) != 3 || rest[1].text != "." || rest[1].quoted {
		return "", "", ""
	}
	name := func(t token) string {
		if t.quoted {
			return sqlident.QuoteIdentifier(t.text)
		}
		return t.text
	}
	db, object = rest[0].text, rest[2].text
	if !rest[0].quoted && db == "*" {
		db = ""
	}
	return strings.Join(parts, "") + name(rest[0]) + "." + name(rest[2]), db, object
}

// parseRoles reads `r1`@`%`,`r2` (MySQL roles carry a host, MariaDB's not).
func parseRoles(toks []token) ([]usersql.Role, error) {
	var out []usersql.Role
	for i := 0; i < len(toks); {
		if !toks[i].quoted {
			return nil, fmt.Errorf("role name %q is not quoted", toks[i].text)
		}
		r := usersql.Role{Name: toks[i].text}
		i++
		if i+1 < len(toks) && toks[i].text == "@" && !toks[i].quoted && toks[i+1].quoted {
			r.Host = toks[i+1].text
			i += 2
		}
		out = append(out, r)
		if i < len(toks) {
			if toks[i].text != "," || toks[i].quoted {
				return nil, fmt.Errorf("unexpected %q after role %s", toks[i].text, r)
			}
			i++
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no role named")
	}
	return out, nil
}
