package stacks

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rdsiam/rdsiam/lambda/iamdb"
	"github.com/rdsiam/rdsiam/lambda/sqlident"
	"github.com/rdsiam/rdsiam/lambda/userprops"
)

// The rules a single value must follow, shared by the key table
// (configkeys.go) and the constructs' props checks. Limits the query
// function's connector enforces again at run time come from package iamdb,
// so the synth and the Lambda cannot disagree about them.

// Lambda's own limits on a function's memory and timeout.
const (
	MinFunctionMemoryMB       = 128
	MaxFunctionMemoryMB       = 10240
	MaxFunctionTimeoutSeconds = 900
)

// MinEngineVersion is the oldest Aurora MySQL version the app accepts:
// Aurora MySQL 2 (MySQL 5.7) is past end of standard support, and 3.04 is the
// first long-term-support release of version 3.
const MinEngineVersion = "3.04.0"

// Writer kinds.
const (
	WriterServerlessV2 = "serverless-v2"
	WriterProvisioned  = "provisioned"
)

// rule is what a value of one key or prop may be: allowed says it in words
// (for the docs table and for errors), check refuses a value (nil: any value
// of the type is allowed). A problem without Allowed gets allowed.
type rule[T any] struct {
	allowed string
	check   func(T) *problem
}

// apply runs r on v; the problem, if any, carries r's allowed text.
func (r rule[T]) apply(v T) *problem {
	if r.check == nil {
		return nil
	}
	p := r.check(v)
	if p != nil && p.Allowed == "" {
		p.Allowed = r.allowed
	}
	return p
}

// intRange is an inclusive range of whole numbers.
type intRange struct {
	min, max int
	unit     string // "MB", "seconds", ...
	note     string // why, in parentheses after the range
}

func (r intRange) String() string {
	s := fmt.Sprintf("%d to %d", r.min, r.max)
	if r.unit != "" {
		s += " " + r.unit
	}
	if r.note != "" {
		s += " (" + r.note + ")"
	}
	return s
}

func (r intRange) check(v int) *problem {
	if v < r.min || v > r.max {
		return &problem{Allowed: r.String(), outOfRange: true}
	}
	return nil
}

func (r intRange) rule() rule[int] { return rule[int]{allowed: r.String(), check: r.check} }

// seconds is d in whole seconds, for limits iamdb states as durations.
func seconds(d time.Duration) int { return int(d / time.Second) }

// The ranges both layers check: the app's context keys and the constructs'
// props.
var (
	functionMemoryRange  = intRange{min: MinFunctionMemoryMB, max: MaxFunctionMemoryMB, unit: "MB"}
	functionTimeoutRange = intRange{min: 1, max: MaxFunctionTimeoutSeconds, unit: "seconds"}
	maxConnectionsRange  = intRange{min: 1, max: iamdb.MaxOpenConnsLimit, unit: "connections per container"}
	newConnsRange        = intRange{min: 1, max: iamdb.MaxNewConnsPerSecondLimit, unit: "per second per container",
		note: fmt.Sprintf("Aurora throttles IAM logins at about %d a second", iamdb.MaxNewConnsPerSecondLimit)}
	accessDeniedRetryRange = intRange{min: 0, max: seconds(iamdb.MaxAccessDeniedRetryFor), unit: "seconds", note: "0: no retry"}
	readTimeoutRange       = intRange{min: 1, max: seconds(iamdb.MaxReadTimeout), unit: "seconds"}
	dialTimeoutRange       = intRange{min: 1, max: MaxDialTimeoutSeconds, unit: "seconds"}
	autoPauseRange         = intRange{min: MinAutoPauseSeconds, max: MaxAutoPauseSeconds, unit: "seconds"}
	readersRange           = intRange{min: 0, max: MaxReaders, unit: "reader instances", note: "Aurora's limit per cluster"}
	backupRetentionRange   = intRange{min: 1, max: 35, unit: "days"}
	headroomRange          = intRange{min: 0, max: 16000, unit: "connections"}
	// 1000 is the default account concurrency. 0 is refused with the
	// connection budget's arithmetic (validateOperations), not here.
	reservedConcurrencyRange = intRange{min: 1, max: 1000, note: "required: it bounds the fleet's connections"}
)

// oneOf allows exactly values.
func oneOf(values ...string) rule[string] {
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = strconv.Quote(v)
	}
	allowed := strings.Join(quoted, ", ")
	if n := len(quoted); n > 1 {
		allowed = strings.Join(quoted[:n-1], ", ") + " or " + quoted[n-1]
	}
	return rule[string]{allowed: allowed, check: func(v string) *problem {
		if !slices.Contains(values, v) {
			return &problem{}
		}
		return nil
	}}
}

// matching allows strings matching re ("" too when empty is allowed).
func matching(re *regexp.Regexp, allowEmpty bool, allowed string) rule[string] {
	return rule[string]{allowed: allowed, check: func(v string) *problem {
		if (v == "" && allowEmpty) || re.MatchString(v) {
			return nil
		}
		return &problem{}
	}}
}

// eachMatching allows lists whose every element matches re; a problem
// names the first element that does not.
func eachMatching(re *regexp.Regexp, allowed string) rule[[]string] {
	return rule[[]string]{allowed: allowed, check: func(v []string) *problem {
		for _, s := range v {
			if !re.MatchString(s) {
				return &problem{Reason: fmt.Sprintf("%q is malformed", s)}
			}
		}
		return nil
	}}
}

var (
	stackNamePattern     = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,127}$`)
	engineVersionPattern = regexp.MustCompile(`^3\.(\d{2})\.(\d+)$`)
	instanceClassPattern = regexp.MustCompile(`^db\.([a-z][a-z0-9-]*)\.([a-z0-9]+)$`)
	vpcIDPattern         = regexp.MustCompile(`^vpc-[0-9a-f]{8,17}$`)
	subnetIDPattern      = regexp.MustCompile(`^subnet-[0-9a-f]{8,17}$`)
	azPattern            = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d[a-z]$`)
	snsTopicArnPattern   = regexp.MustCompile(`^arn:aws(-[a-z]+)*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$`)
)

// engineVersionRule allows Aurora MySQL 3 versions "3.MM.P" at or above
// MinEngineVersion.
var engineVersionRule = rule[string]{
	allowed: fmt.Sprintf(`an Aurora MySQL 3 version "3.MM.P" at or above %s (for example "3.08.2")`, MinEngineVersion),
	check: func(v string) *problem {
		if !engineVersionAtLeast(v, MinEngineVersion) {
			return &problem{}
		}
		return nil
	},
}

// engineVersionAtLeast reports whether v is a "3.MM.P" version at or above
// floor (itself "3.MM.P"); a malformed v is not.
func engineVersionAtLeast(v, floor string) bool {
	parse := func(s string) (minor, patch int, ok bool) {
		m := engineVersionPattern.FindStringSubmatch(s)
		if m == nil {
			return 0, 0, false
		}
		minor, _ = strconv.Atoi(m[1])
		patch, err := strconv.Atoi(m[2])
		return minor, patch, err == nil
	}
	minor, patch, ok := parse(v)
	floorMinor, floorPatch, _ := parse(floor)
	return ok && (minor > floorMinor || minor == floorMinor && patch >= floorPatch)
}

// iamUnsupportedClasses are writer classes that cannot use IAM database
// authentication (per the Aurora user guide: db.t2.small and db.t3.small).
var iamUnsupportedClasses = map[string]string{
	"db.t2.small": "IAM database authentication is not supported on this class",
	"db.t3.small": "IAM database authentication is not supported on this class",
}

// instanceClassRule allows provisioned writer classes that support IAM
// authentication, without the micro and small burstable sizes Aurora MySQL 3
// does not offer at all.
var instanceClassRule = rule[string]{
	allowed: `an Aurora MySQL instance class "db.<family>.<size>" that supports IAM authentication (for example db.r6g.large, db.r7g.xlarge, db.t4g.medium); not db.t2.small or db.t3.small, not micro or small sizes`,
	check: func(class string) *problem {
		m := instanceClassPattern.FindStringSubmatch(class)
		if m == nil {
			return &problem{}
		}
		if reason, bad := iamUnsupportedClasses[class]; bad {
			return &problem{Reason: reason}
		}
		if m[2] == "micro" || m[2] == "small" || m[1] == "t2" || m[1] == "serverless" {
			return &problem{}
		}
		return nil
	},
}

// Serverless v2 capacities, in ACUs: steps of 0.5 up to 256.
var (
	minCapacityRule = rule[float64]{
		allowed: "0.5 to 256 ACUs in steps of 0.5, or 0 (auto-pause, engineVersion " + AutoPauseMinEngineVersion + " or later)",
		check: func(v float64) *problem {
			if (v < 0.5 && v != 0) || !validACU(v) {
				return &problem{}
			}
			return nil
		},
	}
	maxCapacityRule = rule[float64]{
		allowed: "1 to 256 ACUs in steps of 0.5, at least minCapacity",
		check: func(v float64) *problem {
			if v < 1 || !validACU(v) {
				return &problem{}
			}
			return nil
		},
	}
)

func validACU(v float64) bool { return v >= 0 && v <= 256 && v*2 == float64(int(v*2)) }

// The network's rules: the vpcId, subnetIds and availabilityZones keys',
// and NetworkProps' fields.
var (
	vpcIDRule             = matching(vpcIDPattern, true, `"" (create a VPC) or a VPC id like "vpc-0123456789abcdef0"`)
	subnetIDsRule         = eachMatching(subnetIDPattern, `subnet ids like "subnet-0123456789abcdef0": at least two with vpcId, none without`)
	availabilityZonesRule = eachMatching(azPattern, `availability zone names like "eu-west-1a", one per subnet id in the same order; none without vpcId`)
)

var (
	writerRule        = oneOf(WriterServerlessV2, WriterProvisioned)
	removalPolicyRule = oneOf("snapshot", "retain", "destroy")
	existingUserRule  = oneOf(userprops.ExistingUserValues()...)
	alarmTopicArnRule = matching(snsTopicArnPattern, true, `"" (alarms without an action) or an existing SNS topic ARN like "arn:aws:sns:eu-west-1:123456789012:ops"`)
	logRetentionRule  = rule[int]{
		allowed: "one of CloudWatch Logs' retentions: " + fmt.Sprint(slices.Sorted(maps.Keys(logRetention))),
		check: func(v int) *problem {
			if _, ok := logRetention[v]; !ok {
				return &problem{}
			}
			return nil
		},
	}
)

// identRule allows what check (a sqlident validator) accepts; allowed is
// the docs' wording, the error uses sqlident's own.
func identRule[T any](allowed string, check func(T) error) rule[T] {
	return rule[T]{allowed: allowed, check: func(v T) *problem {
		if err := check(v); err != nil {
			return identProblem(v, err)
		}
		return nil
	}}
}

// grantsRule allows [] too: whether the user may have no database-level
// privilege depends on tableGrants, so validateUserGrants decides that.
var grantsRule = identRule("database-level privileges: "+strings.Join(sqlident.AllowedPrivileges(), ", ")+
	" (a JSON array or a comma-separated string); not ALL, not GRANT OPTION; `[]` only with `tableGrants`",
	func(v []string) error {
		if len(v) == 0 {
			return nil
		}
		_, err := sqlident.NormalizePrivileges(v)
		return err
	})

// propChecks collects the props fields a construct refuses, each worded for
// its field ("ClusterProps.Readers"), so a caller sees every mistake at once.
type propChecks []error

// checkProp applies r to the value of field.
func checkProp[T any](errs *propChecks, field string, v T, r rule[T]) {
	if p := r.apply(v); p != nil {
		*errs = append(*errs, p.forProp(field, v))
	}
}

// err is nil, or every refusal joined, wrapped with what was being built.
func (errs propChecks) err(what string) error {
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%s: %w", what, errors.Join(errs...))
}
