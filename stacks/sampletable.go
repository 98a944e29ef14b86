package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/rdsiam/rdsiam/lambda/sqlident"
	"github.com/rdsiam/rdsiam/lambda/userprops"
)

// SampleTableProps configures SampleTable.
type SampleTableProps struct {
	// Provider runs the custom resource; it fixes the cluster. Required.
	Provider *UserProvider
	// DatabaseName is where the table is created (with the database, if
	// missing). Required.
	DatabaseName string
}

// SampleTable is the sample app's table `items`, which the query
// function's actions (lambda/queryfn) read and write: a custom resource of
// its own (Custom::SampleTable), served by the users' provider, so that it
// belongs to the app that queries it and no DatabaseUser creates tables.
// Create and Update create the database and the table if missing; Delete
// keeps both, with their data. A function that queries it should depend
// on it (fn.Node().AddDependency(t.Construct)), and so should a
// DatabaseUser with TableGrants on it: MySQL grants on a table only once
// it exists.
type SampleTable struct {
	constructs.Construct
	DatabaseName string
	Resource     awscdk.CustomResource
}

// NewSampleTable validates the props and adds the table's custom resource.
func NewSampleTable(scope constructs.Construct, id string, props SampleTableProps) (*SampleTable, error) {
	if props.Provider == nil {
		return nil, fmt.Errorf("sample table %s: Provider is required (create one with NewUserProvider)", id)
	}
	if err := sqlident.ValidateDatabaseName(props.DatabaseName); err != nil {
		return nil, fmt.Errorf("sample table %s: %w", id, err)
	}
	p := props.Provider
	c := constructs.NewConstruct(scope, jsii.String(id))
	t := &SampleTable{Construct: c, DatabaseName: props.DatabaseName}
	t.Resource = awscdk.NewCustomResource(c, jsii.String("Resource"), &awscdk.CustomResourceProps{
		ServiceToken: p.Provider.ServiceToken(),
		ResourceType: jsii.String(userprops.SampleTableResourceType),
		Properties: &map[string]any{
			userprops.SecretArn:    p.secret.SecretArn(),
			userprops.Endpoint:     p.Cluster.ClusterEndpoint().Hostname(),
			userprops.Port:         p.portString(),
			userprops.DatabaseName: props.DatabaseName,
		},
	})
	// As for a user: the whole cluster, so the first login finds a server.
	t.Resource.Node().AddDependency(p.Cluster)
	return t, nil
}
