package dbuser

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	usersql "github.com/rdsiam/rdsiam/bootstrap-sql"
	"github.com/rdsiam/rdsiam/lambda/userprops"
)

// Ownership: the registry (schema rdsiam, see usersql.RegistrySetup)
// records which stack resource created or adopted each account. Create and
// Update consult it before touching an account, so that
//
//   - a redelivered Create recognises the account it made;
//   - an account the resource did not create (made by hand, by another
//     stack, left by a retained stack) is refused unless ExistingUser says
//     adopt, instead of silently losing its password and grants;
//   - Delete drops only an account this resource created (or adopted with
//     adopt-and-drop), never one that existed before.

// ErrExistingUser is wrapped by the error returned when the account exists
// and this resource did not create it.
var ErrExistingUser = errors.New("account exists and this resource did not create it")

// ExistingUserError names the account and the switch that allows taking it
// over.
type ExistingUserError struct {
	Account string // `user`@'%'
	Owner   string // the stack resource that manages it, or "" if unrecorded
}

func (e *ExistingUserError) Error() string {
	who := "it is not recorded as created by rdsiam"
	if e.Owner != "" {
		who = "it is managed by another stack resource, " + e.Owner
	}
	return fmt.Sprintf("account %s already exists and this resource did not create it (%s). "+
		"rdsiam refuses to take it over: adopting switches it to IAM authentication (its password stops working), "+
		"revokes every role and privilege it holds and grants exactly the configured ones. "+
		"To adopt it, set property %s to %q or %q (context key existingUser; DatabaseUserProps.ExistingUser), "+
		"or choose another user name", e.Account, who, PropExistingUser, userprops.ExistingUserAdopt, userprops.ExistingUserAdoptAndDrop)
}

func (e *ExistingUserError) Unwrap() error { return ErrExistingUser }

// ErrShadowAccount is wrapped by the error returned when accounts with the
// same user name exist at other hosts.
var ErrShadowAccount = errors.New("accounts with the same user name exist at other hosts")

// ShadowAccountError lists accounts such as 'app_user'@'10.0.%'. MySQL
// matches a login to the most specific host first, so a login from a
// matching address would authenticate as that account, with its plugin and
// privileges, instead of as the managed user@'%'.
type ShadowAccountError struct {
	User  string
	Hosts []string
}

func (e *ShadowAccountError) Error() string {
	var accts []string
	for _, h := range e.Hosts {
		accts = append(accts, fmt.Sprintf("'%s'@'%s'", e.User, h))
	}
	return fmt.Sprintf("accounts %s exist besides '%s'@'%%': a login from a matching address would use one of them, "+
		"with its own authentication and privileges, instead of the managed account; drop them or choose another user name",
		strings.Join(accts, ", "), e.User)
}

func (e *ShadowAccountError) Unwrap() error { return ErrShadowAccount }

// ownerOf identifies the stack resource an event is for.
func ownerOf(ev Event) string { return ev.StackID + "/" + ev.LogicalResourceID }

// record is the registry's row for an account.
type record struct {
	found   bool
	owner   string
	adopted bool
}

// Registry errors that mean "no record": the registry was never created on
// this cluster (accounts made by rdsiam versions before it).
const (
	errBadDB        = 1049 // ER_BAD_DB_ERROR
	errNoSuchTable  = 1146 // ER_NO_SUCH_TABLE
	errUnknownTable = 1109 // ER_UNKNOWN_TABLE
)

func lookupRecord(ctx context.Context, conn *sql.Conn, user string) (record, error) {
	q, err := usersql.RegistryLookup(user)
	if err != nil {
		return record{}, err
	}
	var r record
	err = conn.QueryRowContext(ctx, q.SQL, q.Args...).Scan(&r.owner, &r.adopted)
	switch n := mysqlErrNumber(err); {
	case err == nil:
		r.found = true
		return r, nil
	case errors.Is(err, sql.ErrNoRows), n == errBadDB, n == errNoSuchTable, n == errUnknownTable:
		return record{}, nil
	}
	return record{}, fmt.Errorf("user %q: %s: %w", user, q.Purpose, err)
}

// plans are the statements for an account that exists and for one that
// does not.
type plans struct{ existing, missing []usersql.Statement }

// claimMode says which accounts converge may take without ExistingUser.
type claimMode int

const (
	// claimNew: only an account that does not exist yet, or that the
	// registry already records for this resource (a redelivered event).
	claimNew claimMode = iota
	// claimLegacy additionally records, for this resource, an account the
	// registry does not know: an Update of the same user on the same
	// cluster, whose account this resource created before rdsiam kept a
	// registry.
	claimLegacy
)

// converge brings the account to p.Spec on conn: it checks ownership, runs
// plan, reads the account back and repairs it once if it holds anything
// beyond the spec (roles, other grants, a stray privilege added by hand). A
// Create or rename that fails after creating the account drops it again, so
// no half-made user with an IAM login is left behind.
//
// plans.existing runs when the account exists, plans.missing when it does
// not (an Update whose account was dropped by hand is built anew).
func (h *Handler) converge(ctx context.Context, conn *sql.Conn, p Properties, owner string, plans plans,
	mode claimMode, log *slog.Logger) (err error) {
	user := p.Spec.User
	srv, err := readServer(ctx, conn)
	if err != nil {
		return err
	}
	setup, err := usersql.RegistrySetup()
	if err != nil {
		return err
	}
	if err := runStatements(ctx, conn, user, setup, log); err != nil {
		return err
	}
	acct, err := readAccount(ctx, conn, user)
	if err != nil {
		return err
	}
	if len(acct.otherHosts) > 0 {
		return &ShadowAccountError{User: user, Hosts: acct.otherHosts}
	}
	rec, err := lookupRecord(ctx, conn, user)
	if err != nil {
		return err
	}
	claim := func(adopted bool) error {
		st, err := usersql.RegistryClaim(user, owner, adopted)
		if err != nil {
			return err
		}
		return runStatements(ctx, conn, user, []usersql.Statement{st}, log)
	}
	created := false
	switch adopt := p.ExistingUser != userprops.ExistingUserRefuse; {
	case !acct.exists:
		// Recorded before the account exists: if this Lambda dies after
		// CREATE USER, the record still lets a later Delete drop it.
		if err := claim(false); err != nil {
			return err
		}
		created = true
	case rec.found && rec.owner == owner:
		log.Info("account already recorded for this resource (a redelivered or repeated event)", "adopted", rec.adopted)
	case !rec.found && mode == claimLegacy:
		log.Info("account not in the registry; recording it for this resource, which created it before the registry existed")
		if err := claim(false); err != nil {
			return err
		}
	case adopt:
		log.Warn("adopting an existing account: its password, roles and privileges are replaced", "existingUser", p.ExistingUser,
			"previousOwner", rec.owner)
		if err := claim(true); err != nil {
			return err
		}
	default:
		return &ExistingUserError{Account: usersql.QuoteAccount(user), Owner: rec.owner}
	}
	if created {
		defer func() {
			if err != nil {
				err = h.rollback(ctx, conn, user, owner, err, log)
			}
		}()
	}
	plan := plans.existing
	if !acct.exists {
		plan = plans.missing
	}
	if err := runStatements(ctx, conn, user, plan, log); err != nil {
		return err
	}
	return h.verifyAndRepair(ctx, conn, p.Spec, srv, log)
}

// verifyAndRepair reads the account back; if it differs from spec, it logs
// each difference, resets the account to exactly spec (revoking roles and
// every privilege, then granting) and checks again. Repairing rather than
// only failing keeps drift from failing a stack update, and its rollback,
// forever; what a reset cannot fix fails with a *VerifyError.
func (h *Handler) verifyAndRepair(ctx context.Context, conn *sql.Conn, spec usersql.Spec, srv server, log *slog.Logger) error {
	rb, err := h.readBack(ctx, conn, spec.User)
	if err != nil {
		return err
	}
	found := rb.findings(spec, srv)
	if len(found) == 0 {
		log.Info("grants read back match the spec", "user", spec.User)
		return nil
	}
	log.Warn("account holds more or other than its spec; repairing", "user", spec.User, "findings", found)
	reset, err := usersql.Reset(spec, rb.held(), srv.dialect)
	if err != nil {
		return err
	}
	if err := runStatements(ctx, conn, spec.User, reset, log); err != nil {
		return fmt.Errorf("repair of %s (%s): %w", usersql.QuoteAccount(spec.User), strings.Join(found, "; "), err)
	}
	if rb, err = h.readBack(ctx, conn, spec.User); err != nil {
		return err
	}
	if found := rb.findings(spec, srv); len(found) > 0 {
		return &VerifyError{Account: usersql.QuoteAccount(spec.User), Findings: found}
	}
	log.Info("account repaired; grants read back match the spec", "user", spec.User)
	return nil
}

// rollback drops the account this event created and forgets it, after cause
// failed the event. If that fails too, the registry still names this
// resource as the owner, so the Delete CloudFormation sends for the failed
// resource drops it.
func (h *Handler) rollback(ctx context.Context, conn *sql.Conn, user, owner string, cause error, log *slog.Logger) error {
	drop, err := usersql.Delete(usersql.Spec{User: user})
	if err == nil {
		var release usersql.Statement
		release, err = usersql.RegistryRelease(user, owner)
		if err == nil {
			err = runStatements(ctx, conn, user, append(drop, release), log)
		}
	}
	if err != nil {
		log.Error("could not drop the account this failed event created; it remains until the resource is deleted",
			"user", user, "error", err.Error())
		return fmt.Errorf("%w (and dropping the half-made account failed: %v)", cause, err)
	}
	log.Warn("dropped the account this failed event created", "user", user)
	return fmt.Errorf("%w (the account this event created was dropped again)", cause)
}

// dropIfOwned runs Delete's decision on conn: drop the account if the
// registry records it as created by owner (or adopted with adopt-and-drop),
// or, for a resource whose physical id says it created the account
// (legacy), if the registry does not know it at all.
func (h *Handler) dropIfOwned(ctx context.Context, conn *sql.Conn, user, owner string, p Properties, legacy bool, log *slog.Logger) error {
	rec, err := lookupRecord(ctx, conn, user)
	if err != nil {
		return err
	}
	switch {
	case rec.found && rec.owner != owner:
		log.Warn("account is managed by another stack resource; keeping it", "user", user, "owner", rec.owner)
		return nil
	case rec.found && rec.adopted && p.ExistingUser != userprops.ExistingUserAdoptAndDrop:
		// The record stays, so a redelivered Delete keeps the account too,
		// and a later stack that wants it must adopt it in turn.
		log.Info("account existed before this resource adopted it; keeping it", "user", user)
		return nil
	case !rec.found && !legacy:
		log.Info("no account recorded for this resource; nothing to drop", "user", user)
		return nil
	case !rec.found:
		log.Info("account not in the registry (created before rdsiam kept one); dropping it as this resource created it", "user", user)
	}
	stmts, err := usersql.Delete(usersql.Spec{User: user})
	if err != nil {
		return err
	}
	if rec.found {
		release, err := usersql.RegistryRelease(user, owner)
		if err != nil {
			return err
		}
		stmts = append(stmts, release)
	}
	return runStatements(ctx, conn, user, stmts, log)
}
