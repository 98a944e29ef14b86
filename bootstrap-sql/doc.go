// Package usersql builds the SQL statements that the database-user custom
// resource (Custom::DatabaseUser, and the sample app's Custom::SampleTable)
// runs against Aurora MySQL to create, update and delete an
// IAM-authenticated database user.
//
// The folder is bootstrap-sql, as the project layout fixes it; the package
// is named for what it holds, the user resource's SQL, because "bootstrap"
// already means the CDK bootstrap and the Lambda bootstrap executable.
// Import it as usersql "github.com/rdsiam/rdsiam/bootstrap-sql".
//
// The statements live in the .sql files of this folder, one statement per
// file, embedded into the binary and rendered with text/template. Templates
// only ever receive values that package sqlident has already validated and
// quoted (see sqlValues), so a template cannot splice raw configuration into
// SQL by mistake. Each statement is executed on its own: the driver runs
// without multi-statement support, which is one more barrier against
// injection.
//
// Planning is pure: nothing here talks to a database. The dbuser Lambda runs
// the returned statements in order on one connection and ignores the MySQL
// errors each statement lists in TolerateErrors.
package usersql
