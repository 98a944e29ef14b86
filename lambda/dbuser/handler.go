package dbuser

import (
	"context"
	"crypto/x509"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	usersql "github.com/rdsiam/rdsiam/bootstrap-sql"
	"github.com/rdsiam/rdsiam/lambda/userprops"
)

// Time kept free before the Lambda deadline.
const (
	// responseReserve: the handler returns at least this long before the
	// Lambda times out, so the Provider framework always gets an answer
	// (a timed-out onEvent leaves CloudFormation waiting for an hour).
	responseReserve = 3 * time.Second
	// sqlReserve: waiting for the database stops at least this long before
	// the handler's own deadline, leaving time to run the statements.
	sqlReserve = 15 * time.Second
)

// Handler handles custom-resource events for one Lambda function. The zero
// value is not usable: Secrets must be set. A Handler is safe for
// concurrent use if its fields are not changed.
type Handler struct {
	// Secrets reads the master credentials; see SecretsManagerSource.
	Secrets SecretSource
	// RootCAs verify the database's certificate; nil means the Amazon RDS
	// CA bundle embedded in package rdstls. Verification is never skipped.
	RootCAs *x509.CertPool
	// WaitFor bounds how long Create and Update wait for the database to
	// accept connections; 0 means DefaultWaitFor. The WaitSeconds property
	// overrides it, Delete waits at most DeleteWaitFor, and the wait always
	// ends early enough to answer before the Lambda deadline.
	WaitFor time.Duration
	// Logger receives progress and warnings; nil discards them. Nothing
	// secret is ever logged.
	Logger *slog.Logger
	// Open opens the database handle for a driver configuration; nil means
	// OpenMySQL. Tests and local runs can wrap OpenMySQL to adjust cfg (for
	// example the TLS settings of a local server) or return a fake.
	Open func(ctx context.Context, cfg *mysql.Config) (*sql.DB, error)
	// Dial, if set, replaces the driver's TCP dialer (cfg.DialFunc); for
	// tests that simulate network failures.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)

	// backoffBase overrides the first retry delay; tests shorten it.
	backoffBase time.Duration
}

// Handle processes one event and returns the physical resource id and the
// attributes UserName and DatabaseName, or an error whose message
// CloudFormation shows as the failure reason. It serves two resource types
// (ev.ResourceType): userprops.UserResourceType, described here, and
// userprops.SampleTableResourceType (see sampleTable); others are refused.
//
// Create and Update validate the properties, read the master secret, wait
// for the database and converge the account (see converge): an account
// this resource did not create is refused unless ExistingUser says adopt,
// the usersql plan runs, and the grants are read back, repaired once
// if they hold more than the spec, and otherwise reported. A Create (or a
// rename) that fails after creating its account drops it again. Update
// plans from OldResourceProperties to ResourceProperties. The physical id is
// PhysicalID(UserName).
//
// Delete drops the account only if this resource created it (or adopted it
// with ExistingUser adopt-and-drop), per the registry, and not when
// RetainOnDelete is true. It succeeds without dropping, logging why, when
// the properties or the user name do not validate (so no user was created
// from them), the user is the master user, the master secret no longer
// exists, or the endpoint does not resolve or answer within DeleteWaitFor.
// For a failed Create (a physical id this handler did not make) it drops
// only an account the registry still records for this resource.
func (h *Handler) Handle(ctx context.Context, ev Event) (Response, error) {
	log := h.logger().With("request", ev)
	if dl, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl.Add(-responseReserve))
		defer cancel()
	}
	var (
		resp Response
		err  error
	)
	switch {
	case ev.RequestType != RequestCreate && ev.RequestType != RequestUpdate && ev.RequestType != RequestDelete:
		err = fmt.Errorf("request type %q: allowed %s, %s, %s", ev.RequestType, RequestCreate, RequestUpdate, RequestDelete)
	case ev.ResourceType == userprops.SampleTableResourceType:
		resp, err = h.sampleTable(ctx, ev, log)
	case ev.ResourceType != userprops.UserResourceType && ev.ResourceType != "":
		// (CloudFormation always names the type; an event without one is
		// a user's, as before this provider served a second type.)
		err = fmt.Errorf("resource type %q is not served by this provider (allowed: %s, %s)", ev.ResourceType, userprops.UserResourceType, userprops.SampleTableResourceType)
	case ev.RequestType == RequestCreate:
		resp, err = h.create(ctx, ev, log)
	case ev.RequestType == RequestUpdate:
		resp, err = h.update(ctx, ev, log)
	default:
		resp, err = h.delete(ctx, ev, log)
	}
	if err != nil {
		log.Error("request failed", "error", err.Error())
		return Response{}, err
	}
	log.Info("request done", "physicalResourceId", resp.PhysicalResourceID)
	return resp, nil
}

func (h *Handler) create(ctx context.Context, ev Event, log *slog.Logger) (Response, error) {
	p, err := ParseProperties(ev.ResourceProperties)
	if err != nil {
		return Response{}, err
	}
	stmts, err := usersql.Create(p.Spec)
	if err != nil {
		return Response{}, err
	}
	log.Info("creating user", "spec", p.Spec.String(), "endpoint", p.Endpoint)
	if err := h.apply(ctx, ev, p, plans{existing: stmts, missing: stmts}, claimNew, log); err != nil {
		return Response{}, err
	}
	return success(p), nil
}

func (h *Handler) update(ctx context.Context, ev Event, log *slog.Logger) (Response, error) {
	p, err := ParseProperties(ev.ResourceProperties)
	if err != nil {
		return Response{}, err
	}
	old := oldSpec(ev.OldResourceProperties, p)
	stmts, err := usersql.Update(old, p.Spec)
	if err != nil {
		return Response{}, err
	}
	fresh, err := usersql.Create(p.Spec)
	if err != nil {
		return Response{}, err
	}
	// The same account on the same cluster: this resource created it, even
	// if before the registry existed. A new name or cluster is a new account
	// and gets Create's ownership check.
	mode := claimNew
	if old.User == p.Spec.User {
		mode = claimLegacy
	}
	log.Info("updating user", "old", old.String(), "new", p.Spec.String(), "endpoint", p.Endpoint)
	if err := h.apply(ctx, ev, p, plans{existing: stmts, missing: fresh}, mode, log); err != nil {
		return Response{}, err
	}
	return success(p), nil
}

// apply reads the master secret and converges the account for Create and
// Update.
func (h *Handler) apply(ctx context.Context, ev Event, p Properties, pl plans, mode claimMode, log *slog.Logger) error {
	secrets, err := h.secrets()
	if err != nil {
		return err
	}
	secret, err := secrets.MasterSecret(ctx, p.SecretArn)
	if err != nil {
		return err
	}
	if isMaster(p.Spec.User, secret) {
		return &PropertyError{Property: PropUserName, Err: fmt.Errorf(
			"user name %q is the cluster's master user (from the master secret); choose another name", p.Spec.User)}
	}
	return h.withConn(ctx, p, secret, false, log, func(conn *sql.Conn) error {
		return h.converge(ctx, conn, p, ownerOf(ev), pl, mode, log)
	})
}

func (h *Handler) delete(ctx context.Context, ev Event, log *slog.Logger) (Response, error) {
	done := Response{PhysicalResourceID: ev.PhysicalResourceID}
	p, err := ParseProperties(ev.ResourceProperties)
	if err != nil {
		log.Warn("properties do not validate, so no user can have been created from them; nothing to delete", "error", err.Error())
		return done, nil
	}
	user, ours := userFromPhysicalID(ev.PhysicalResourceID)
	if !ours {
		// The Create failed. It drops the account it made before failing;
		// if that failed too, the registry still names this resource.
		log.Info("physical resource id was not made by this handler (the Create failed); dropping only an account the registry records for this resource")
		user = p.Spec.User
	} else if user != p.Spec.User {
		// The physical id records what this resource created; trust it.
		log.Warn("physical resource id names a different user than UserName; dropping the one in the id",
			"idUser", user, "propertyUser", p.Spec.User)
	}
	if _, err := usersql.Delete(usersql.Spec{User: user}); err != nil {
		log.Warn("user name in the physical resource id is not valid, so this handler cannot have created it; nothing to delete", "error", err.Error())
		return done, nil
	}
	if p.RetainOnDelete {
		log.Info("RetainOnDelete is true; keeping the user", "user", user)
		return done, nil
	}
	secrets, err := h.secrets()
	if err != nil {
		return Response{}, err
	}
	secret, err := secrets.MasterSecret(ctx, p.SecretArn)
	if errors.Is(err, ErrSecretNotFound) {
		log.Warn("master secret no longer exists, so neither does the cluster; nothing to delete", "user", user, "error", err.Error())
		return done, nil
	}
	if err != nil {
		return Response{}, fmt.Errorf("delete user %q: %w", user, err)
	}
	if isMaster(user, secret) {
		log.Warn("refusing to drop the cluster's master user", "user", user)
		return done, nil
	}
	err = h.withConn(ctx, p, secret, true, log, func(conn *sql.Conn) error {
		return h.dropIfOwned(ctx, conn, user, ownerOf(ev), p, ours, log)
	})
	var unreachable *UnreachableError
	switch {
	case err == nil:
		return done, nil
	case !ours:
		// Only a leftover of a failed Create could be dropped here; failing
		// this Delete would block the stack's rollback for it.
		log.Warn("could not check for an account the failed Create left behind; if one exists, drop it by hand",
			"user", user, "error", err.Error())
		return done, nil
	case hostNotFound(err):
		log.Warn("database endpoint does not resolve; assuming the cluster was deleted", "user", user, "error", err.Error())
		return done, nil
	case errors.As(err, &unreachable):
		log.Warn("database not reachable; the user may remain in the database", "user", user, "error", err.Error())
		return done, nil
	}
	return Response{}, err
}

// withConn connects as the master user, waiting as long as waitBudget
// allows, and calls run with the one connection everything runs on. When
// deleting, the wait is shorter and an unresolvable host ends it at once.
func (h *Handler) withConn(ctx context.Context, p Properties, secret MasterSecret, deleting bool,
	log *slog.Logger, run func(*sql.Conn) error) error {
	cfg, err := mysqlConfig(p, secret, h.RootCAs, log)
	if err != nil {
		return err
	}
	if h.Dial != nil {
		cfg.DialFunc = h.Dial
	}
	open := h.Open
	if open == nil {
		open = OpenMySQL
	}
	db, err := open(ctx, cfg)
	if err != nil {
		return fmt.Errorf("open database at %s: %w", cfg.Addr, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // everything runs on the one connection

	backoff := h.backoffBase
	if backoff <= 0 {
		backoff = defaultBackoffBase
	}
	conn, err := waitForConn(ctx, db, waitOptions{
		addr:            cfg.Addr,
		budget:          h.waitBudget(ctx, p, deleting),
		attemptTimeout:  connectTimeout(p),
		backoffBase:     backoff,
		hostGoneIsFinal: deleting,
	}, log)
	if err != nil {
		return err
	}
	defer conn.Close()
	return run(conn)
}

// waitBudget is how long to wait for the database: the WaitSeconds
// property, else h.WaitFor, else DefaultWaitFor; at most DeleteWaitFor on
// Delete; and never so long that the statements cannot run before ctx ends.
func (h *Handler) waitBudget(ctx context.Context, p Properties, isDelete bool) time.Duration {
	budget := h.WaitFor
	if budget <= 0 {
		budget = DefaultWaitFor
	}
	if p.Wait > 0 {
		budget = p.Wait
	}
	if isDelete {
		budget = min(budget, DeleteWaitFor)
	}
	if dl, ok := ctx.Deadline(); ok {
		budget = min(budget, max(time.Until(dl)-sqlReserve, 0))
	}
	return budget
}

// isMaster reports whether user is the master user in secret. MySQL user
// names are case-sensitive, but refusing a case variant costs nothing and
// avoids a look-alike of the administrator.
func isMaster(user string, secret MasterSecret) bool {
	return strings.EqualFold(user, secret.Username)
}

func success(p Properties) Response {
	return Response{
		PhysicalResourceID: PhysicalID(p.Spec.User),
		Data:               map[string]string{"UserName": p.Spec.User, "DatabaseName": p.Spec.Database},
	}
}

func (h *Handler) secrets() (SecretSource, error) {
	if h.Secrets == nil {
		return nil, errors.New("dbuser: Handler.Secrets is not set")
	}
	return h.Secrets, nil
}

func (h *Handler) logger() *slog.Logger {
	if h.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return h.Logger
}
