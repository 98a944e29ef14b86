package queryfn

import (
	"context"
	"database/sql"
	"fmt"
)

// The only SQL this package runs. Request values are bound to the ?
// placeholders by the driver; nothing from a request is ever spliced into
// these strings. The table is unqualified: it lives in the connection's
// default database.
const (
	sqlWhoAmI     = "SELECT CURRENT_USER(), VERSION()"
	sqlTLSCipher  = "SHOW SESSION STATUS LIKE 'Ssl_cipher'"
	sqlListItems  = "SELECT id, name, created_at FROM items ORDER BY id LIMIT ?"
	sqlGetItem    = "SELECT id, name, created_at FROM items WHERE id = ?"
	sqlCountItems = "SELECT COUNT(*) FROM items"
	sqlAddItem    = "INSERT INTO items (name) VALUES (?)"
	sqlDeleteItem = "DELETE FROM items WHERE id = ?"
)

// querier is what the read queries need: a *sql.DB or a pinned *sql.Conn.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// progress records how many rows the statement in flight has received, so
// the retry policy can tell a connection that died before the statement
// answered from one that died mid-answer.
type progress struct {
	rows int
}

// eachRow runs query and calls scan for every row, counting them in p,
// which it resets first. It returns the first error from the query, a scan,
// the row stream or the final close (which reads the end of the result from
// the wire).
func eachRow(ctx context.Context, q querier, p *progress, query string, args []any, scan func(*sql.Rows) error) error {
	p.rows = 0
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		p.rows++
		if err := scan(rows); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return rows.Close()
}

// whoAmI reads the user, version and TLS cipher. Both statements run on one
// pinned connection: with a pool, two separate queries could be answered by
// two different sessions, and the cipher would not describe the session
// that reported the user.
func whoAmI(ctx context.Context, db *sql.DB, _ Request, p *progress) (Response, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return Response{}, err
	}
	defer conn.Close()

	resp := Response{Action: ActionWhoAmI}
	err = eachRow(ctx, conn, p, sqlWhoAmI, nil, func(r *sql.Rows) error {
		return r.Scan(&resp.User, &resp.ServerVersion)
	})
	if err != nil {
		return Response{}, err
	}
	if p.rows != 1 {
		return Response{}, fmt.Errorf("%s returned %d rows, want 1", sqlWhoAmI, p.rows)
	}
	// No Ssl_cipher row leaves TLSCipher empty, as an unencrypted session
	// does; the response then omits it.
	var name string
	err = eachRow(ctx, conn, p, sqlTLSCipher, nil, func(r *sql.Rows) error {
		return r.Scan(&name, &resp.TLSCipher)
	})
	if err != nil {
		return Response{}, err
	}
	return resp, nil
}

func listItems(ctx context.Context, db *sql.DB, req Request, p *progress) (Response, error) {
	items := make([]Item, 0, req.Limit) // non-nil: an empty table lists as []
	err := eachRow(ctx, db, p, sqlListItems, []any{req.Limit}, func(r *sql.Rows) error {
		var it Item
		if err := r.Scan(&it.ID, &it.Name, &it.CreatedAt); err != nil {
			return err
		}
		items = append(items, it)
		return nil
	})
	if err != nil {
		return Response{}, err
	}
	return Response{Action: ActionListItems, Items: items}, nil
}

func getItem(ctx context.Context, db *sql.DB, req Request, p *progress) (Response, error) {
	var it Item
	err := eachRow(ctx, db, p, sqlGetItem, []any{req.ID}, func(r *sql.Rows) error {
		return r.Scan(&it.ID, &it.Name, &it.CreatedAt)
	})
	if err != nil {
		return Response{}, err
	}
	found := p.rows > 0
	resp := Response{Action: ActionGetItem, Found: &found}
	if found {
		resp.Item = &it
	}
	return resp, nil
}

func countItems(ctx context.Context, db *sql.DB, _ Request, p *progress) (Response, error) {
	var n int64
	err := eachRow(ctx, db, p, sqlCountItems, nil, func(r *sql.Rows) error { return r.Scan(&n) })
	if err != nil {
		return Response{}, err
	}
	if p.rows != 1 {
		return Response{}, fmt.Errorf("%s returned %d rows, want 1", sqlCountItems, p.rows)
	}
	return Response{Action: ActionCountItems, Count: &n}, nil
}

// addItem and deleteItem run on a pinned connection so that the write
// policy can tell where a failure happened: getting the connection (nothing
// sent), or executing (see writeOutcome).
func addItem(ctx context.Context, conn *sql.Conn, req Request) (Response, error) {
	res, err := conn.ExecContext(ctx, sqlAddItem, req.Name)
	if err != nil {
		return Response{}, err
	}
	id, err := res.LastInsertId()
	if err != nil {
		return Response{}, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return Response{}, err
	}
	return Response{Action: ActionAddItem, ID: id, Affected: &n}, nil
}

func deleteItem(ctx context.Context, conn *sql.Conn, req Request) (Response, error) {
	res, err := conn.ExecContext(ctx, sqlDeleteItem, req.ID)
	if err != nil {
		return Response{}, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return Response{}, err
	}
	return Response{Action: ActionDeleteItem, Affected: &n}, nil
}
