package dbuser

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"

	"github.com/go-sql-driver/mysql"

	usersql "github.com/rdsiam/rdsiam/bootstrap-sql"
)

// runStatements executes stmts in order on conn, stopping at the first
// failure. Using one connection keeps the statements in one session, in
// order, and makes a half-applied plan easy to read from the logs.
//
// A MySQL error whose number the statement lists in TolerateErrors counts as
// success. Errors name the user, the statement's purpose and, for server
// errors, the MySQL error number. The SQL itself holds only quoted names and
// keywords, so it is logged at debug level.
func runStatements(ctx context.Context, conn *sql.Conn, user string, stmts []usersql.Statement, log *slog.Logger) error {
	for i, st := range stmts {
		log.Debug("executing statement", "step", i+1, "of", len(stmts), "purpose", st.Purpose, "sql", st.SQL)
		_, err := conn.ExecContext(ctx, st.SQL, st.Args...)
		if err == nil {
			log.Info("statement done", "step", i+1, "of", len(stmts), "purpose", st.Purpose)
			continue
		}
		var me *mysql.MySQLError
		if !errors.As(err, &me) {
			return fmt.Errorf("user %q: %s (step %d of %d): %w", user, st.Purpose, i+1, len(stmts), err)
		}
		if st.Tolerates(me.Number) {
			log.Info("statement failed with a tolerated error; its goal is already met",
				"step", i+1, "of", len(stmts), "purpose", st.Purpose, "mysqlError", me.Number)
			continue
		}
		if hint := st.Hint(me.Number); hint != "" {
			return fmt.Errorf("user %q: %s (step %d of %d): %s: MySQL error %d: %w",
				user, st.Purpose, i+1, len(stmts), hint, me.Number, err)
		}
		return fmt.Errorf("user %q: %s (step %d of %d): MySQL error %d: %w",
			user, st.Purpose, i+1, len(stmts), me.Number, err)
	}
	return nil
}
