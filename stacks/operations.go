package stacks

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
)

// Scale to zero (Aurora Serverless v2 auto-pause).
const (
	// AutoPauseMinEngineMinor: minCapacity 0 needs Aurora MySQL 3.08.0 or
	// later (Aurora User Guide, "Scaling to Zero ACUs with automatic pause
	// and resume").
	AutoPauseMinEngineMinor = 8
	// ResumeSeconds is what a first login after a pause may wait for the
	// writer to resume: about 15 s after a short pause and about 30 s
	// after one longer than a day, per the same guide. The connector's
	// dial budget (dialTimeoutSeconds) must cover it.
	ResumeSeconds = 30
	// AutoPause bounds, CloudFormation's SecondsUntilAutoPause.
	MinAutoPauseSeconds = 300
	MaxAutoPauseSeconds = 86400
	// MaxDialTimeoutSeconds is iamdb.MaxDialTimeout.
	MaxDialTimeoutSeconds = 60
)

// LogRetentionDays are the retentions CloudWatch Logs accepts.
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

var snsTopicArnPattern = regexp.MustCompile(`^arn:aws(-[a-z]+)*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$`)

// validateOperations checks the keys of monitoring, the connection budget
// and scale to zero; Validate calls it after every other check, so the
// fields it relies on are already valid.
func (c Config) validateOperations() error {
	if c.ConnectionHeadroom < 0 || c.ConnectionHeadroom > 16000 {
		return &ConfigError{Key: "connectionHeadroom", Value: c.ConnectionHeadroom, Allowed: "0 to 16000 connections kept free for people and maintenance"}
	}
	if c.DialTimeoutSeconds < 1 || c.DialTimeoutSeconds > MaxDialTimeoutSeconds {
		return &ConfigError{Key: "dialTimeoutSeconds", Value: c.DialTimeoutSeconds, Allowed: fmt.Sprintf("1 to %d seconds", MaxDialTimeoutSeconds)}
	}
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
	if _, ok := logRetention[c.LogRetentionDays]; !ok {
		days := make([]int, 0, len(logRetention))
		for d := range logRetention {
			days = append(days, d)
		}
		slices.Sort(days)
		return &ConfigError{Key: "logRetentionDays", Value: c.LogRetentionDays, Allowed: "one of CloudWatch Logs' retentions: " + fmt.Sprint(days)}
	}
	if c.AlarmTopicArn != "" && !snsTopicArnPattern.MatchString(c.AlarmTopicArn) {
		return &ConfigError{Key: "alarmTopicArn", Value: c.AlarmTopicArn, Allowed: `"" (alarms without an action) or an existing SNS topic ARN like "arn:aws:sns:eu-west-1:123456789012:ops"`}
	}
	if c.AlarmTopicArn != "" && !c.Alarms {
		return &ConfigError{Key: "alarmTopicArn", Value: c.AlarmTopicArn, Allowed: `"" while alarms is false (there would be no alarm to notify)`}
	}
	return nil
}

// validateAutoPause: minCapacity 0 needs a Serverless v2 writer on 3.08.0 or
// later, and a first request after a pause must be able to wait for the
// resume: the dial budget covers ResumeSeconds, and the function's timeout
// covers that dial and a statement after it.
func (c Config) validateAutoPause() error {
	if c.AutoPauseSeconds < MinAutoPauseSeconds || c.AutoPauseSeconds > MaxAutoPauseSeconds {
		return &ConfigError{Key: "autoPauseSeconds", Value: c.AutoPauseSeconds,
			Allowed: fmt.Sprintf("%d to %d seconds idle before a paused writer (used with minCapacity 0)", MinAutoPauseSeconds, MaxAutoPauseSeconds)}
	}
	if c.Writer != WriterServerlessV2 || c.MinCapacity != 0 {
		return nil
	}
	m := engineVersionPattern.FindStringSubmatch(c.EngineVersion)
	minor, _ := strconv.Atoi(m[1])
	if minor < AutoPauseMinEngineMinor {
		return &ConfigError{Key: "minCapacity", Value: c.MinCapacity,
			Reason:  fmt.Sprintf("0 ACU (auto-pause) needs Aurora MySQL 3.08.0 or later; engineVersion is %q", c.EngineVersion),
			Allowed: "0.5 to 256 ACUs, or 0 with engineVersion 3.08.0 or later"}
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
			Allowed: fmt.Sprintf("more than %d seconds (up to 900)", need)}
	}
	return nil
}
