package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

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

// suppress records rules on exactly the construct c (not its children).
func suppress(c constructs.IConstruct, rules ...nagRule) {
	s := make([]*cdknag.NagPackSuppression, 0, len(rules))
	for _, r := range rules {
		ns := &cdknag.NagPackSuppression{Id: jsii.String(r.ID), Reason: jsii.String(r.Reason)}
		var applies []any
		for _, a := range r.AppliesTo {
			applies = append(applies, a)
		}
		if r.AppliesToRegex != "" {
			applies = append(applies, &cdknag.RegexAppliesTo{Regex: jsii.String("/" + r.AppliesToRegex + "/")})
		}
		if len(applies) > 0 {
			ns.AppliesTo = &applies
		}
		s = append(s, ns)
	}
	cdknag.NagSuppressions_AddResourceSuppressions(c, &s, jsii.Bool(false))
}

// Reasons shared by both Go functions.
var (
	nagSynchronousOnly = nagRule{ID: "Serverless-LambdaDLQ",
		Reason: "Invoked synchronously only (by CloudFormation's provider framework or by a caller waiting for the answer); a dead-letter queue applies to asynchronous invocations and would never receive anything."}
	nagNoTracing = nagRule{ID: "Serverless-LambdaTracing",
		Reason: "The functions run in isolated subnets with no X-Ray endpoint; tracing would need another interface endpoint and xray:PutTraceSegments on *. Structured JSON logs carry the request ids instead."}
)
