// Package iampolicy decides, the way AWS IAM does for identity-based
// policies, whether one principal may perform an action on a resource, and
// reads the policies a synthesized CloudFormation template attaches to a
// role (RolePolicies). The template itself is read by auroralocal/cfntemplate,
// the project's one template model.
//
// It exists so a local stand-in for Aurora IAM authentication can answer
// "may this role rds-db:connect as this database user?" from the very
// template our CDK stack synthesizes, without calling AWS.
//
// Scope, deliberately narrow:
//   - Only identity policies of a single principal are evaluated: no
//     resource policies, permission boundaries, session policies or SCPs.
//   - Condition blocks and IAM policy variables (${aws:username}) are not
//     evaluated. A statement that would apply but depends on one makes the
//     evaluation fail with an error, never an allow.
//   - CloudFormation intrinsics are resolved (cfntemplate.Resolve) only from
//     values supplied in a cfntemplate.Env; anything unknown is an error
//     naming it, never a guess.
package iampolicy
