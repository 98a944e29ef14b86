package auroralocal

import (
	"regexp"
	"strings"

	"github.com/dolthub/vitess/go/mysql"
	"github.com/dolthub/vitess/go/sqltypes"
)

// Database names in database-level grants are patterns in MySQL: in
// `GRANT … ON app_db.*` the `_` matches any one character and `%` any run,
// so the grant also covers app1db; `app\_db` means app_db alone. GMS treats
// the name literally. The stand-in bridges the two for the escaped form rdsiam
// writes (sqlident.QuoteDatabasePattern):
//
//   - a GRANT or REVOKE whose database names `\_` or `\%` has them unescaped
//     before GMS runs it, so GMS grants on exactly that database, as MySQL
//     does for the escaped pattern;
//   - a GRANT or REVOKE whose database holds an unescaped `_` or `%` is
//     refused with error 1235: GMS cannot match it as the wildcard it is on
//     Aurora, and a stand-in that granted it literally would hide the very
//     defect the escape prevents. The real-engine lane (MariaDB) shows the
//     wildcard itself;
//   - SHOW GRANTS prints database-level names escaped again, as MySQL does.

// grantOnDatabase finds the database of `ON <db>.*` in a GRANT or REVOKE,
// quoted (group 1) or bare (group 2).
var grantOnDatabase = regexp.MustCompile("(?i)\\bON\\s+(?:`((?:[^`]|``)*)`|([A-Za-z0-9_$%\\\\]+))\\s*\\.\\s*\\*")

// rewriteGrantPattern returns query with escaped wildcards in a database-level
// GRANT/REVOKE unescaped for GMS, or an error for an unescaped wildcard.
func rewriteGrantPattern(query string) (string, error) {
	if !startsWithKeywords(query, "GRANT") && !startsWithKeywords(query, "REVOKE") {
		return query, nil
	}
	var bad string
	out := grantOnDatabase.ReplaceAllStringFunc(query, func(m string) string {
		sub := grantOnDatabase.FindStringSubmatch(m)
		name, quoted := sub[1], true
		if sub[1] == "" {
			name, quoted = sub[2], false
		}
		var b strings.Builder
		for i := 0; i < len(name); i++ {
			c := name[i]
			switch {
			case c == '\\' && i+1 < len(name) && (name[i+1] == '_' || name[i+1] == '%' || name[i+1] == '\\'):
				b.WriteByte(name[i+1])
				i++
			case c == '_' || c == '%':
				bad = name
				b.WriteByte(c)
			default:
				b.WriteByte(c)
			}
		}
		if quoted {
			return "ON `" + b.String() + "`.*"
		}
		return "ON " + b.String() + ".*"
	})
	if bad != "" {
		return "", mysql.NewSQLError(ErrNumNotSupportedYet, mysql.SSUnknownSQLState,
			"auroralocal does not emulate wildcard database grants: in %q, `_` and `%%` are wildcards on Aurora MySQL; escape them (\\_, \\%%) to grant on one database", bad)
	}
	return out, nil
}

// showGrantsDatabase finds a database-level grant target in SHOW GRANTS output.
var showGrantsDatabase = regexp.MustCompile("\\bON `((?:[^`]|``)*)`\\.\\*")

// escapeShowGrants wraps callback so database-level names in SHOW GRANTS
// rows read as MySQL prints them: `app\_db`.*.
func escapeShowGrants(query string, callback mysql.ResultSpoolFn) mysql.ResultSpoolFn {
	if !startsWithKeywords(query, "SHOW", "GRANTS") {
		return callback
	}
	escaper := strings.NewReplacer(`_`, `\_`, `%`, `\%`)
	return func(res *sqltypes.Result, more bool) error {
		for _, row := range res.Rows {
			for i, v := range row {
				if !v.IsText() {
					continue
				}
				s := showGrantsDatabase.ReplaceAllStringFunc(v.ToString(), func(m string) string {
					name := showGrantsDatabase.FindStringSubmatch(m)[1]
					return "ON `" + escaper.Replace(name) + "`.*"
				})
				row[i] = sqltypes.MakeTrusted(v.Type(), []byte(s))
			}
		}
		return callback(res, more)
	}
}
