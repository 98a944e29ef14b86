package stacks

import (
	"fmt"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"

	"github.com/rdsiam/rdsiam/lambda/iamdb"
)

// Scale to zero (Aurora Serverless v2 auto-pause).
const (
	// AutoPauseMinEngineVersion: minCapacity 0 needs Aurora MySQL 3.08.0
	// or later (Aurora User Guide, "Scaling to Zero ACUs with automatic
	// pause and resume").
	AutoPauseMinEngineVersion = "3.08.0"
	// ResumeSeconds is what a first login after a pause may wait for the
	// writer to resume: about 15 s after a short pause and about 30 s
	// after one longer than a day, per the same guide. The connector's
	// dial budget (dialTimeoutSeconds) must cover it.
	ResumeSeconds = 30
	// AutoPause bounds, CloudFormation's SecondsUntilAutoPause.
	MinAutoPauseSeconds = 300
	MaxAutoPauseSeconds = 86400
	// MaxDialTimeoutSeconds is iamdb.MaxDialTimeout, which the query
	// function's connector enforces.
	MaxDialTimeoutSeconds = int(iamdb.MaxDialTimeout / time.Second)
)

// logRetention maps the retentions CloudWatch Logs accepts, in days, to CDK's.
var logRetention = map[int]awslogs.RetentionDays{
	1: awslogs.RetentionDays_ONE_DAY, 3: awslogs.RetentionDays_THREE_DAYS, 5: awslogs.RetentionDays_FIVE_DAYS,
	7: awslogs.RetentionDays_ONE_WEEK, 14: awslogs.RetentionDays_TWO_WEEKS, 30: awslogs.RetentionDays_ONE_MONTH,
	60: awslogs.RetentionDays_TWO_MONTHS, 90: awslogs.RetentionDays_THREE_MONTHS, 120: awslogs.RetentionDays_FOUR_MONTHS,
	150: awslogs.RetentionDays_FIVE_MONTHS, 180: awslogs.RetentionDays_SIX_MONTHS, 365: awslogs.RetentionDays_ONE_YEAR,
	400: awslogs.RetentionDays_THIRTEEN_MONTHS, 545: awslogs.RetentionDays_EIGHTEEN_MONTHS, 731: awslogs.RetentionDays_TWO_YEARS,
	1096: awslogs.RetentionDays_THREE_YEARS, 1827: awslogs.RetentionDays_FIVE_YEARS, 2192: awslogs.RetentionDays_SIX_YEARS,
	2557: awslogs.RetentionDays_SEVEN_YEARS, 2922: awslogs.RetentionDays_EIGHT_YEARS, 3288: awslogs.RetentionDays_NINE_YEARS,
	3653: awslogs.RetentionDays_TEN_YEARS,
}

// validateOperations checks how the keys of monitoring, the connection
// budget and scale to zero combine; Validate calls it after each key's own
// rule, so every field it relies on is already in range.
func (c Config) validateOperations() error {
	if err := c.validateAutoPause(); err != nil {
		return err
	}
	budget, err := c.connectionBudget()
	if err != nil {
		return err
	}
	if c.FunctionReservedConcurrency == 0 {
		// Without a reservation the fleet is bounded only by the
		// account's concurrency (1000 by default): no pool size is safe.
		fit := (budget.MaxConnections - budget.Provider - budget.Headroom) / c.MaxConnections
		return &ConfigError{Key: "functionReservedConcurrency", Value: 0,
			Reason:  fmt.Sprintf("without a reserved concurrency the query function's containers, each with maxConnections (%d), are bounded only by the account's concurrency and can exhaust max_connections %d of %s", c.MaxConnections, budget.MaxConnections, budget.Source),
			Allowed: fmt.Sprintf("1 to %d with this configuration", max(fit, 0))}
	}
	if err := budget.Check(); err != nil {
		return err
	}
	if c.Readers > 0 {
		readers, err := c.readerBudget()
		if err != nil {
			return err
		}
		if err := readers.Check(); err != nil {
			return err
		}
	}
	if c.AlarmTopicArn != "" && !c.Alarms {
		return &ConfigError{Key: "alarmTopicArn", Value: c.AlarmTopicArn, Allowed: `"" while alarms is false (there would be no alarm to notify)`}
	}
	return nil
}

// validateAutoPause: minCapacity 0 needs a Serverless v2 writer on
// AutoPauseMinEngineVersion or later, and a first request after a pause must be able to wait for the
// resume: the dial budget covers ResumeSeconds, and the function's timeout
// covers that dial and a statement after it.
func (c Config) validateAutoPause() error {
	if c.Writer != WriterServerlessV2 || c.MinCapacity != 0 {
		return nil
	}
	if !engineVersionAtLeast(c.EngineVersion, AutoPauseMinEngineVersion) {
		return &ConfigError{Key: "minCapacity", Value: c.MinCapacity,
			Reason:  fmt.Sprintf("0 ACU (auto-pause) needs Aurora MySQL %s or later; engineVersion is %q", AutoPauseMinEngineVersion, c.EngineVersion),
			Allowed: minCapacityRule.allowed}
	}
	if c.DialTimeoutSeconds < ResumeSeconds {
		return &ConfigError{Key: "dialTimeoutSeconds", Value: c.DialTimeoutSeconds,
			Reason:  fmt.Sprintf("with minCapacity 0 the first login after a pause waits for the writer to resume (up to about %d s)", ResumeSeconds),
			Allowed: fmt.Sprintf("%d to %d seconds with minCapacity 0 (or minCapacity 0.5 or more)", ResumeSeconds, MaxDialTimeoutSeconds)}
	}
	if need := c.DialTimeoutSeconds + c.ReadTimeoutSeconds; c.FunctionTimeoutSeconds <= need {
		return &ConfigError{Key: "functionTimeoutSeconds", Value: c.FunctionTimeoutSeconds,
			Reason: fmt.Sprintf("with minCapacity 0 the first request after a pause must outlast a resuming login (dialTimeoutSeconds %d) and a statement after it (readTimeoutSeconds %d)",
				c.DialTimeoutSeconds, c.ReadTimeoutSeconds),
			Allowed: fmt.Sprintf("more than %d seconds (up to %d)", need, MaxFunctionTimeoutSeconds)}
	}
	return nil
}
