// Package userprops names the resource types the database-user provider
// serves, their properties and fixed values: the CDK construct (package stacks) writes
// them and the custom-resource handler (package dbuser) reads them, so both
// import them from here rather than repeating string literals.
package userprops

// Property names in the resource's properties. CloudFormation property names
// are case-sensitive, and so is the handler.
const (
	SecretArn             = "SecretArn"
	Endpoint              = "Endpoint"
	Port                  = "Port"
	UserName              = "UserName"
	DatabaseName          = "DatabaseName"
	Privileges            = "Privileges"
	RetainOnDelete        = "RetainOnDelete"
	ConnectTimeoutSeconds = "ConnectTimeoutSeconds"
	WaitSeconds           = "WaitSeconds"
	ExistingUser          = "ExistingUser"
	// TableGrants is a list of table-level grants on tables of
	// DatabaseName, each an object with the keys TableGrantTable and
	// TableGrantPrivileges. Optional; Privileges may then be left out.
	TableGrants = "TableGrants"
)

// Resource types the provider serves. The handler dispatches on the
// event's ResourceType.
const (
	// UserResourceType is a database user: SecretArn, Endpoint, Port,
	// UserName, DatabaseName, Privileges, TableGrants and the options above.
	UserResourceType = "Custom::DatabaseUser"
	// SampleTableResourceType is the sample app's table `items` in
	// DatabaseName (created with the database if missing, kept on delete):
	// SecretArn, Endpoint, Port and DatabaseName only.
	SampleTableResourceType = "Custom::SampleTable"
)

// Keys of one TableGrants entry: {"Table": "items", "Privileges": ["SELECT"]}.
const (
	TableGrantTable      = "Table"
	TableGrantPrivileges = "Privileges"
)

// ExistingUser values: what the resource does when its account already
// exists and the resource did not create it (a password user made by hand,
// an account another stack manages, one a retained stack left behind).
const (
	// ExistingUserRefuse fails the deployment, naming the account and this
	// property. The default: taking over an account silently would remove
	// its password, revoke what it held and, later, drop it.
	ExistingUserRefuse = "refuse"
	// ExistingUserAdopt takes the account over fully (IAM authentication,
	// REQUIRE SSL, every granted role and privilege revoked, then exactly
	// the configured grants) and keeps it when the resource is deleted.
	ExistingUserAdopt = "adopt"
	// ExistingUserAdoptAndDrop adopts like ExistingUserAdopt and drops the
	// account when the resource is deleted.
	ExistingUserAdoptAndDrop = "adopt-and-drop"
)

// ExistingUserValues lists the allowed ExistingUser values, the default
// first.
func ExistingUserValues() []string {
	return []string{ExistingUserRefuse, ExistingUserAdopt, ExistingUserAdoptAndDrop}
}
