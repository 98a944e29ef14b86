package sqlident

import (
	"slices"
	"strings"
)

// reservedAccounts are accounts that exist on (or are managed by) Amazon RDS
// and Aurora MySQL, or that an operator expects to be the administrator.
// Taking one over would switch it to IAM authentication and revoke its
// privileges, locking out the administrator or breaking the managed service.
//
// "admin" is the master user name CDK and the RDS console suggest; the Lambda
// additionally refuses whatever master name the cluster's secret holds.
// mysql.sys, mysql.session and mysql.infoschema are not listed because the
// '.' already fails the name pattern.
var reservedAccounts = []string{
	"admin",
	"mysql",
	"rds_superuser_role", // Aurora MySQL 3 role granted to the master user
	"rdsadmin",           // RDS management account
	"rdsproxyadmin",
	"rdsrepladmin", // RDS replication account
	"rdstopmgr",    // RDS Multi-AZ cluster topology manager
	"root",
}

// reservedAccountPrefixes are name prefixes AWS uses for its own accounts
// and roles (e.g. AWS_LOAD_S3_ACCESS, AWS_LAMBDA_ACCESS on Aurora MySQL 3).
// Reserving the prefix rather than today's names keeps new service roles safe.
var reservedAccountPrefixes = []string{"aws_", "rds_"}

// ReservedAccounts returns the user names ValidateUserName refuses, in lower
// case and sorted. The result is a new slice the caller may modify.
func ReservedAccounts() []string { return slices.Clone(reservedAccounts) }

// ReservedAccountPrefixes returns the user name prefixes ValidateUserName
// refuses, in lower case. The result is a new slice the caller may modify.
func ReservedAccountPrefixes() []string { return slices.Clone(reservedAccountPrefixes) }

// reservedAccountReason returns why name is reserved, or "" if it is not.
func reservedAccountReason(name string) string {
	lower := strings.ToLower(name)
	if slices.Contains(reservedAccounts, lower) {
		return "is a reserved account"
	}
	for _, p := range reservedAccountPrefixes {
		if strings.HasPrefix(lower, p) {
			return "starts with reserved prefix " + p
		}
	}
	return ""
}

// systemSchemas are schemas that MySQL or RDS own. Granting an application
// user rights on one of them would give it control over accounts or server
// state.
var systemSchemas = []string{
	"information_schema",
	"innodb",
	"mysql",
	"performance_schema",
	RegistrySchema,
	"sys",
	"tmp",
}

// RegistrySchema is the schema in which the user custom resource records
// which accounts it created or adopted, and for which stack resource (see
// package dbuser). No application user is ever granted anything on it.
const RegistrySchema = "rdsiam"

// SystemSchemas returns the database names ValidateDatabaseName refuses, in
// lower case and sorted. The result is a new slice the caller may modify.
func SystemSchemas() []string { return slices.Clone(systemSchemas) }

func isSystemSchema(name string) bool {
	return slices.Contains(systemSchemas, strings.ToLower(name))
}
