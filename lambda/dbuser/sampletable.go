package dbuser

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"

	usersql "github.com/rdsiam/rdsiam/bootstrap-sql"
	"github.com/rdsiam/rdsiam/lambda/sqlident"
)

// The sample app's table is a resource of its own
// (userprops.SampleTableResourceType), served by the same provider as the
// users: it belongs to the app that queries it, not to any user, and a
// consumer's users never create it. Its resource runs two fixed statements
// as the admin user (the database and the table, both IF NOT EXISTS); the
// only value it takes from its properties is the database name, validated
// like a user's.

// sampleTableProperties are all properties a sample-table resource accepts.
var sampleTableProperties = []string{PropDatabaseName, PropEndpoint, PropPort, PropSecretArn, propServiceToken}

// sampleTablePhysicalIDPrefix marks sample-table resources.
const sampleTablePhysicalIDPrefix = "sampletable:"

// ParseSampleTableProperties validates a sample-table resource's
// properties: SecretArn, Endpoint, DatabaseName (required) and Port
// (default 3306), as ParseProperties reads them for a user. The error
// joins one *PropertyError per bad property.
func ParseSampleTableProperties(props map[string]any) (Properties, error) {
	var errs []error
	for k := range props {
		if !slices.Contains(sampleTableProperties, k) {
			errs = append(errs, &PropertyError{Property: propertyName(k), Err: fmt.Errorf(
				"unknown property of a sample table (allowed: %s)", strings.Join(sampleTableProperties, ", "))})
		}
	}
	var p Properties
	var err error
	if p.SecretArn, err = requiredString(props, PropSecretArn); err == nil {
		err = checkSecretArn(p.SecretArn)
	}
	errs = append(errs, err)
	if p.Endpoint, err = requiredString(props, PropEndpoint); err == nil {
		err = checkEndpoint(p.Endpoint)
	}
	errs = append(errs, err)
	p.Port, err = optionalInt(props, PropPort, DefaultPort, 1, math.MaxUint16)
	errs = append(errs, err)
	if p.Spec.Database, err = requiredString(props, PropDatabaseName); err == nil {
		err = wrapProp(PropDatabaseName, sqlident.ValidateDatabaseName(p.Spec.Database))
	}
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return Properties{}, err
	}
	return p, nil
}

// sampleTable handles the sample table's events. Create and Update create
// the database and the table if missing, on the cluster the properties
// name (an Update to another database creates it there; the old one is
// kept). Delete keeps both, with their data, and needs no connection; a
// table nobody queries any more costs nothing, and dropping data on a stack
// delete would be the one irreversible step. The physical id is
// "sampletable:<database>".
func (h *Handler) sampleTable(ctx context.Context, ev Event, log *slog.Logger) (Response, error) {
	if ev.RequestType == RequestDelete {
		log.Info("sample table kept with its data (the database is kept too)")
		return Response{PhysicalResourceID: ev.PhysicalResourceID}, nil
	}
	p, err := ParseSampleTableProperties(ev.ResourceProperties)
	if err != nil {
		return Response{}, err
	}
	stmts, err := usersql.SampleTable(p.Spec.Database)
	if err != nil {
		return Response{}, err
	}
	secrets, err := h.secrets()
	if err != nil {
		return Response{}, err
	}
	secret, err := secrets.MasterSecret(ctx, p.SecretArn)
	if err != nil {
		return Response{}, err
	}
	err = h.withConn(ctx, p, secret, false, log, func(conn *sql.Conn) error {
		return runStatements(ctx, conn, "(sample table)", stmts, log)
	})
	if err != nil {
		return Response{}, fmt.Errorf("sample table in %s: %w", p.Spec.Database, err)
	}
	return Response{
		PhysicalResourceID: sampleTablePhysicalIDPrefix + p.Spec.Database,
		Data:               map[string]string{"DatabaseName": p.Spec.Database, "TableName": usersql.SampleTableName},
	}, nil
}
