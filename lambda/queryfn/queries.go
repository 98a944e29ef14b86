package queryfn

import (
	"context"
	"database/sql"
	"errors"
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

// whoAmI reads the user, version and TLS cipher. Both statements run on one
// pinned connection: with a pool, two separate queries could be answered by
// two different sessions, and the cipher would not describe the session
// that reported the user.
func whoAmI(ctx context.Context, db *sql.DB) (Response, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return Response{}, err
	}
	defer conn.Close()

	resp := Response{Action: ActionWhoAmI}
	if err := conn.QueryRowContext(ctx, sqlWhoAmI).Scan(&resp.User, &resp.ServerVersion); err != nil {
		return Response{}, err
	}
	var name string
	err = conn.QueryRowContext(ctx, sqlTLSCipher).Scan(&name, &resp.TLSCipher)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return Response{}, err
	}
	return resp, nil
}

func listItems(ctx context.Context, db *sql.DB, limit int) (Response, error) {
	rows, err := db.QueryContext(ctx, sqlListItems, limit)
	if err != nil {
		return Response{}, err
	}
	defer rows.Close()
	items := make([]Item, 0, limit) // non-nil: an empty table lists as []
	for rows.Next() {
		var it Item
		if err := rows.Scan(&it.ID, &it.Name, &it.CreatedAt); err != nil {
			return Response{}, err
		}
		items = append(items, it)
	}
	if err := rows.Err(); err != nil {
		return Response{}, err
	}
	return Response{Action: ActionListItems, Items: items}, nil
}

func getItem(ctx context.Context, db *sql.DB, id int64) (Response, error) {
	var it Item
	err := db.QueryRowContext(ctx, sqlGetItem, id).Scan(&it.ID, &it.Name, &it.CreatedAt)
	found := err == nil
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return Response{Action: ActionGetItem, Found: &found}, nil
	case err != nil:
		return Response{}, err
	}
	return Response{Action: ActionGetItem, Item: &it, Found: &found}, nil
}

func countItems(ctx context.Context, db *sql.DB) (Response, error) {
	var n int64
	if err := db.QueryRowContext(ctx, sqlCountItems).Scan(&n); err != nil {
		return Response{}, err
	}
	return Response{Action: ActionCountItems, Count: &n}, nil
}

func addItem(ctx context.Context, db *sql.DB, name string) (Response, error) {
	res, err := db.ExecContext(ctx, sqlAddItem, name)
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

func deleteItem(ctx context.Context, db *sql.DB, id int64) (Response, error) {
	res, err := db.ExecContext(ctx, sqlDeleteItem, id)
	if err != nil {
		return Response{}, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return Response{}, err
	}
	return Response{Action: ActionDeleteItem, Affected: &n}, nil
}
