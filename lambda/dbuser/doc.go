// Package dbuser is the CloudFormation custom-resource handler that creates,
// updates and deletes the IAM-authenticated MySQL user of an Aurora cluster.
//
// CDK's Provider framework (custom_resources.Provider) invokes [Handler.Handle]
// as its onEvent function and reports the result to CloudFormation. The
// handler reads the cluster's master credentials from Secrets Manager,
// connects over verified TLS (package rdstls), waits for the cluster to
// accept connections, and runs the statements package usersql plans, in
// order, on one connection.
//
// The physical resource id is "dbuser:" + user name. Renaming the user
// therefore replaces the resource: the new user is created by an Update, and
// CloudFormation afterwards sends a Delete with the old id and the old
// properties, which drops the old user.
//
// Deletes are built to let a stack be deleted whatever state it is in: they
// succeed, with a warning log, when the user was never created, the master
// secret is gone, or the cluster no longer resolves or answers.
//
// Secrets never leave this package: the master password is not logged, not
// put into errors, and [MasterSecret] redacts it when formatted. The event's
// pre-signed ResponseURL is not logged either.
package dbuser
