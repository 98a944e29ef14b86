package stacks

import (
	"fmt"
	"strings"

	"github.com/rdsiam/rdsiam/lambda/sqlident"
)

// HumanUser is a database user for people (on-call, analysts): created like
// the function's user (AWSAuthenticationPlugin, REQUIRE SSL) on the stack's
// database with its own grants, plus an IAM managed policy named
// HumanUserPolicyName(stack, Name) that allows rds-db:connect as exactly this
// user, for a team to attach to its SSO roles (an IAM Identity Center
// permission set references a customer managed policy by name, so the name
// is fixed). Nobody can log in as it until someone attaches that policy.
type HumanUser struct {
	// Name is the MySQL user: ^[A-Za-z][A-Za-z0-9_]{0,31}$, not a reserved
	// account, not the function's user, unique (case-insensitively).
	Name string `json:"name"`
	// Grants are database-level privileges on the stack's database, as for
	// the "grants" key. A read-only user for people is SELECT (and SHOW VIEW,
	// to read view definitions).
	Grants []string `json:"grants"`
}

// MaxHumanUsers bounds "humanUsers": each is a custom resource and a
// managed policy, and a long list is better served by roles in the database.
const MaxHumanUsers = 10

// DefaultHumanUsers is the default "humanUsers": one read-only user.
func DefaultHumanUsers() []HumanUser {
	return []HumanUser{{Name: "people_ro", Grants: ReadOnlyGrants()}}
}

// humanUsersAllowed describes the key for error messages.
var humanUsersAllowed = fmt.Sprintf(`a JSON array of at most %d objects {"name": "<user>", "grants": ["SELECT", ...]}, `+
	`e.g. [{"name":"people_ro","grants":["SELECT","SHOW VIEW"]}]; [] for none`, MaxHumanUsers)

// HumanUserPolicyName is the name of the managed policy that lets a person
// log in as user: "<stack>-connect-<user>". Names are unique per account,
// and the stack name makes them unique per deployment.
func HumanUserPolicyName(stackName, user string) string {
	return stackName + "-connect-" + user
}

// maxPolicyNameLen is IAM's limit on a managed policy name.
const maxPolicyNameLen = 128

// validateHumanUsers checks every entry of HumanUsers; an error names the
// entry by index and name.
func (c Config) validateHumanUsers() error {
	if len(c.HumanUsers) > MaxHumanUsers {
		return &ConfigError{Key: "humanUsers", Value: c.HumanUsers, Reason: fmt.Sprintf("%d users", len(c.HumanUsers)), Allowed: humanUsersAllowed}
	}
	seen := map[string]string{strings.ToLower(c.UserName): fmt.Sprintf("the function's user (userName %q)", c.UserName)}
	for i, u := range c.HumanUsers {
		key := fmt.Sprintf("humanUsers[%d]", i)
		if err := sqlident.ValidateUserName(u.Name); err != nil {
			return identError(key+".name", u.Name, err)
		}
		if prev, dup := seen[strings.ToLower(u.Name)]; dup {
			return &ConfigError{Key: key + ".name", Value: u.Name, Reason: "the same name (ignoring case) as " + prev,
				Allowed: "a name used by no other database user of this stack"}
		}
		seen[strings.ToLower(u.Name)] = fmt.Sprintf("humanUsers[%d]", i)
		if _, err := sqlident.NormalizePrivileges(u.Grants); err != nil {
			return identError(key+".grants", u.Grants, err)
		}
		if n := HumanUserPolicyName(c.StackName, u.Name); len(n) > maxPolicyNameLen {
			return &ConfigError{Key: key + ".name", Value: u.Name,
				Reason:  fmt.Sprintf("its policy name %q is %d characters", n, len(n)),
				Allowed: fmt.Sprintf("a stackName and user name whose policy name \"<stackName>-connect-<name>\" fits IAM's %d characters", maxPolicyNameLen)}
		}
	}
	if n := BastionSessionPolicyName(c.StackName); c.SSMBastion && len(n) > maxPolicyNameLen {
		return &ConfigError{Key: "stackName", Value: c.StackName, Reason: fmt.Sprintf("with ssmBastion its policy name %q is %d characters", n, len(n)),
			Allowed: fmt.Sprintf("a stackName whose policy name \"<stackName>-bastion-session\" fits IAM's %d characters", maxPolicyNameLen)}
	}
	return nil
}
