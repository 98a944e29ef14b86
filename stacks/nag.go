package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// ApplyNag is the only function here that calls cdk-nag (see suppress).

// ApplyNag adds the cdk-nag AwsSolutions and Serverless rule packs to every
// construct of app. A finding that is an error fails `cdk synth`.
//
// The suppressions are not added here but by each construct, next to the
// resource they concern, so the template is the same with or without nag
// and every suppression names one resource and says why.
func ApplyNag(app awscdk.App) {
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{}), nil)
	awscdk.Aspects_Of(app).Add(cdknag.NewServerlessChecks(&cdknag.NagPackProps{}), nil)
}

// nagRule is one accepted finding: the rule, what it applies to (for IAM5
// the exact wildcard, so other wildcards still fail) and the reason a
// reviewer can check.
type nagRule struct {
	ID        string
	AppliesTo []string
	// AppliesToRegex matches a finding whose text holds a logical id (and so
	// a hash CDK computes): the pattern pins everything else.
	AppliesToRegex string
	Reason         string
}

// suppress records rules on exactly the construct c (not its children): on
// its CloudFormation resource (c itself or its default child), as the
// "cdk_nag" metadata cdk-nag reads when its packs run.
//
// It writes that metadata itself, in the format of cdk-nag's
// NagSuppressions.addResourceSuppressions (nagMetadata), instead of calling
// it: calling any cdk-nag function makes jsii load the cdk-nag package into
// Node, ~0.2 s on every synth even with nag=false. ApplyNag alone loads it,
// and only when asked. Like cdk-nag, a construct without a CloudFormation
// resource gets nothing; an invalid rule is an error annotation that fails
// the synth.
func suppress(c constructs.IConstruct, rules ...nagRule) {
	target := c
	if d := c.Node().DefaultChild(); d != nil {
		target = d
	}
	res, ok := target.(awscdk.CfnResource)
	if !ok {
		return
	}
	md, err := nagMetadata(res.GetMetadata(jsii.String(nagMetadataKey)), rules)
	if err != nil {
		awscdk.Annotations_Of(c).AddError(jsii.String(err.Error()))
		return
	}
	res.AddMetadata(jsii.String(nagMetadataKey), md)
}

// Reasons shared by both Go functions.
var (
	nagSynchronousOnly = nagRule{ID: "Serverless-LambdaDLQ",
		Reason: "Invoked synchronously only (by CloudFormation's provider framework or by a caller waiting for the answer); a dead-letter queue applies to asynchronous invocations and would never receive anything."}
	nagNoTracing = nagRule{ID: "Serverless-LambdaTracing",
		Reason: "The functions run in isolated subnets with no X-Ray endpoint; tracing would need another interface endpoint and xray:PutTraceSegments on *. Structured JSON logs carry the request ids instead."}
)
