package iampolicy

import (
	"fmt"
	"strings"
)

// PolicySet is every identity policy attached to one principal. Its order
// does not change decisions; it only decides which statement a Result names
// when several would decide the same way.
type PolicySet []Document

// Decision is the outcome of evaluating a request against a PolicySet.
type Decision int

// The zero Decision is ImplicitDeny, so a Result that was never filled in
// denies.
const (
	// ImplicitDeny: no statement allowed the request (IAM's default).
	ImplicitDeny Decision = iota
	// ExplicitDeny: a Deny statement matched; it overrides any Allow.
	ExplicitDeny
	// Allowed: an Allow statement matched and no Deny did.
	Allowed
)

// String returns "ImplicitDeny", "ExplicitDeny", "Allowed", or
// "Decision(n)" for values outside those.
func (d Decision) String() string {
	switch d {
	case ImplicitDeny:
		return "ImplicitDeny"
	case ExplicitDeny:
		return "ExplicitDeny"
	case Allowed:
		return "Allowed"
	}
	return fmt.Sprintf("Decision(%d)", int(d))
}

// StatementRef identifies one statement within a PolicySet.
type StatementRef struct {
	Policy     int    // index of the Document in the PolicySet
	PolicyName string // that Document's Name (may be empty)
	Statement  int    // index of the statement within Document.Statement
	Sid        string // the statement's Sid (may be empty)
}

// String returns e.g. `policy #1 "RolePolicy" statement #0 (Sid "Connect")`,
// omitting the name and Sid when they are empty.
func (r StatementRef) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "policy #%d", r.Policy)
	if r.PolicyName != "" {
		fmt.Fprintf(&b, " %q", r.PolicyName)
	}
	fmt.Fprintf(&b, " statement #%d", r.Statement)
	if r.Sid != "" {
		fmt.Fprintf(&b, " (Sid %q)", r.Sid)
	}
	return b.String()
}

// Result is a Decision plus the statement that made it.
type Result struct {
	Decision Decision
	// DecidedBy is the first matching Deny statement for ExplicitDeny, the
	// first matching Allow statement for Allowed, and nil for ImplicitDeny.
	DecidedBy *StatementRef
}

// String returns e.g. `Allowed by policy #0 statement #1` or "ImplicitDeny
// (no statement matched)", for test failure messages.
func (r Result) String() string {
	if r.DecidedBy == nil {
		return r.Decision.String() + " (no statement matched)"
	}
	return r.Decision.String() + " by " + r.DecidedBy.String()
}

// Authorize reports whether the principal holding these policies may
// perform action on resource: true only when Evaluate says Allowed. It
// returns false and an error whenever Evaluate does. Its signature lets
// PolicySet.Authorize be used as a func(action, resource string) (bool, error).
func (s PolicySet) Authorize(action, resource string) (bool, error) {
	r, err := s.Evaluate(action, resource)
	if err != nil {
		return false, err
	}
	return r.Decision == Allowed, nil
}

// Evaluate applies IAM's identity-policy logic to one request: a statement
// applies when the action matches (Action, or not NotAction; case-insensitive
// with '*'/'?' wildcards) and the resource matches (Resource, or not
// NotResource; case-sensitive with wildcards). Any applicable Deny gives
// ExplicitDeny; otherwise any applicable Allow gives Allowed; otherwise
// ImplicitDeny.
//
// action must be a concrete "service:name" (no wildcards) and resource must
// be non-empty. Evaluation fails, rather than guessing, when a statement that
// would apply carries a Condition, when a statement whose action applies uses
// an IAM policy variable in its resources (Version 2012-10-17 only), or when
// a Document is malformed; the error names the statement.
func (s PolicySet) Evaluate(action, resource string) (Result, error) {
	if err := validRequest(action, resource); err != nil {
		return Result{}, err
	}
	var firstAllow, firstDeny *StatementRef
	for pi, doc := range s {
		if doc.Version != "" && doc.Version != Version2012 && doc.Version != Version2008 {
			// The version decides whether "${...}" is a policy variable.
			return Result{}, fmt.Errorf("iampolicy: policy #%d %q has Version %q; want %q, %q or empty", pi, doc.Name, doc.Version, Version2012, Version2008)
		}
		for si, st := range doc.Statement {
			ref := StatementRef{Policy: pi, PolicyName: doc.Name, Statement: si, Sid: st.Sid}
			if err := st.validate(); err != nil {
				return Result{}, fmt.Errorf("iampolicy: %s is invalid: %w", ref, err)
			}
			applies, err := st.applies(doc.Version, action, resource)
			if err != nil {
				return Result{}, fmt.Errorf("iampolicy: %s: %w", ref, err)
			}
			if !applies {
				continue
			}
			if len(st.Condition) > 0 {
				return Result{}, fmt.Errorf("iampolicy: %s applies to %s on %q but has Condition operator(s) %s, which this evaluator does not evaluate",
					ref, action, resource, strings.Join(sortedKeys(st.Condition), ", "))
			}
			switch {
			case st.Effect == Deny && firstDeny == nil:
				firstDeny = &ref
			case st.Effect == Allow && firstAllow == nil:
				firstAllow = &ref
			}
		}
	}
	switch {
	case firstDeny != nil:
		return Result{Decision: ExplicitDeny, DecidedBy: firstDeny}, nil
	case firstAllow != nil:
		return Result{Decision: Allowed, DecidedBy: firstAllow}, nil
	}
	return Result{Decision: ImplicitDeny}, nil
}

// validRequest rejects requests that are not concrete: a wildcard in the
// requested action would otherwise be matched literally and mislead.
func validRequest(action, resource string) error {
	service, name, ok := strings.Cut(action, ":")
	if !ok || service == "" || name == "" || strings.ContainsAny(action, "*?") || strings.Contains(name, ":") {
		return fmt.Errorf("iampolicy: requested action %q is invalid; want a concrete \"service:action\" such as \"rds-db:connect\" (no wildcards)", action)
	}
	if resource == "" {
		return fmt.Errorf("iampolicy: requested resource is empty; want an ARN such as \"arn:aws:rds-db:REGION:ACCOUNT:dbuser:CLUSTER_RESOURCE_ID/USER\"")
	}
	return nil
}

// applies reports whether st covers the request, ignoring Effect and
// Condition.
func (st Statement) applies(version, action, resource string) (bool, error) {
	actionHit := anyMatch(st.Action, action, MatchFold)
	if len(st.NotAction) > 0 {
		actionHit = !anyMatch(st.NotAction, action, MatchFold)
	}
	if !actionHit {
		return false, nil
	}
	if version == Version2012 {
		// "${aws:username}" and friends are substituted per request by IAM;
		// matching them literally could wrongly deny or, under NotResource,
		// wrongly allow.
		for _, p := range append(append([]string(nil), st.Resource...), st.NotResource...) {
			if strings.Contains(p, "${") {
				return false, fmt.Errorf("resource pattern %q uses an IAM policy variable, which this evaluator does not substitute", p)
			}
		}
	}
	if len(st.NotResource) > 0 {
		return !anyMatch(st.NotResource, resource, Match), nil
	}
	return anyMatch(st.Resource, resource, Match), nil
}

func anyMatch(patterns []string, value string, match func(pattern, value string) bool) bool {
	for _, p := range patterns {
		if match(p, value) {
			return true
		}
	}
	return false
}
