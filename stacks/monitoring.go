package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/rdsiam/rdsiam/lambda/iamdb"
	"github.com/rdsiam/rdsiam/lambda/opsmetrics"
)

// MonitoringProps configures Monitoring. Its zero value (with Cluster and
// Function set) is the app's default: every alarm of AlarmSpecs, without
// actions, and the dashboard, sized from the cluster.
type MonitoringProps struct {
	// Cluster and Function are watched. Required.
	Cluster  *Cluster
	Function *QueryFunction
	// Writer is WriterServerlessV2 or WriterProvisioned: the capacity
	// graph shows ACUs or CPU. Default: "" means the Cluster's writer.
	Writer string
	// MaxConnections is the writer's max_connections; the connections
	// alarm fires at ConnectionsAlarmPercent of it and the graph draws it.
	// Default: 0 means the Cluster's writer's (AuroraMaxConnections of its
	// class or MaxCapacity).
	MaxConnections int
	// NoAlarms leaves the alarms out. Default: false, the alarms are
	// created.
	NoAlarms bool
	// AlarmTopicArn is an existing SNS topic told of every alarm and its
	// recovery. Default: "" (alarms without actions).
	AlarmTopicArn string
	// NoDashboard leaves the dashboard out. Default: false, the dashboard
	// is created.
	NoDashboard bool
	// AuthLogGroup is the exported iam-db-auth-error log group's name, for
	// a log widget on the dashboard. Default: nil means the Cluster's
	// (Cluster.AuthLogGroupName; no widget when it exports none).
	AuthLogGroup *string
}

// ConnectionsAlarmPercent of max_connections in use raises the connections
// alarm: time to act before logins fail with 1040.
const ConnectionsAlarmPercent = 80

// Monitoring is the stack's alarms and dashboard.
type Monitoring struct {
	constructs.Construct
	// Alarms by id (AlarmSpecs' ids); empty when alarms are off.
	Alarms    map[string]awscloudwatch.Alarm
	Dashboard awscloudwatch.Dashboard // nil when off
	props     MonitoringProps
}

// AlarmSpec is one alarm: what it watches, when it fires, and what the
// operator should do. docs/operating.md follows this table.
type AlarmSpec struct {
	ID     string
	Metric func(m *Monitoring) awscloudwatch.IMetric
	// Threshold is reached when the metric is at or above it in
	// DatapointsToAlarm of EvaluationPeriods periods.
	Threshold                            float64
	EvaluationPeriods, DatapointsToAlarm float64
	Description                          string
}

// rdsMetric is one AWS/RDS metric of the cluster, by the DBClusterIdentifier
// dimension (what CDK's DatabaseCluster.metric uses).
func (m *Monitoring) rdsMetric(name, statistic string) awscloudwatch.Metric {
	return m.props.Cluster.DB.Metric(jsii.String(name), &awscloudwatch.MetricOptions{
		Statistic: jsii.String(statistic), Period: awscdk.Duration_Minutes(jsii.Number(1)),
	})
}

// ownMetric is one of the query function's EMF metrics (package opsmetrics).
func (m *Monitoring) ownMetric(metric opsmetrics.Metric) awscloudwatch.Metric {
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:     jsii.String(opsmetrics.Namespace),
		MetricName:    jsii.String(metric.Name()),
		DimensionsMap: &map[string]*string{opsmetrics.DimensionFunction: m.props.Function.Function.FunctionName()},
		Statistic:     jsii.String("Sum"),
		Period:        awscdk.Duration_Minutes(jsii.Number(1)),
	})
}

func fiveMinutes(metric awscloudwatch.Metric) awscloudwatch.IMetric {
	return metric.With(&awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(jsii.Number(5))})
}

// iamFailureAlarm fires when the AWS/RDS metric counts any failure in each
// of periods 5-minute periods in a row.
func iamFailureAlarm(id, metric string, periods float64, description string) AlarmSpec {
	return AlarmSpec{ID: id, Threshold: 1, EvaluationPeriods: periods, DatapointsToAlarm: periods, Description: description,
		Metric: func(m *Monitoring) awscloudwatch.IMetric { return fiveMinutes(m.rdsMetric(metric, "Sum")) }}
}

// AlarmSpecs returns the alarms Monitoring creates, in order (a new slice
// each call).
func AlarmSpecs() []AlarmSpec {
	return []AlarmSpec{
		iamFailureAlarm("IamAuthThrottled", "IamDbAuthConnectionFailureThrottling", 1,
			fmt.Sprintf("Aurora refused IAM logins for throttling (about %d new IAM connections a second). Lower maxNewConnectionsPerSecond or functionReservedConcurrency, keep pools warm (maxConnections), or move callers behind one pool.", iamdb.MaxNewConnsPerSecondLimit)),
		iamFailureAlarm("IamAuthDenied", "IamDbAuthConnectionFailureInsufficientPermissions", 2,
			"IAM logins refused for missing permission for 10 minutes (longer than policy propagation). Check the caller's rds-db:connect policy names this cluster's resource id and the user; see the iam-db-auth-error log."),
		iamFailureAlarm("IamAuthInvalidToken", "IamDbAuthConnectionFailureInvalidToken", 1,
			"IAM logins with an invalid or expired token: a client signing for the wrong host, port, region or user, a skewed clock, or credentials that expired. See the iam-db-auth-error log for the reason."),
		iamFailureAlarm("IamAuthServerError", "IamDbAuthConnectionFailureServerError", 2,
			"Aurora's IAM authentication failed internally for 10 minutes: nothing to fix in the stack; check the AWS Health Dashboard and open a support case if it persists."),
		{ID: "ConnectionsNearLimit", EvaluationPeriods: 3, DatapointsToAlarm: 3,
			Metric: func(m *Monitoring) awscloudwatch.IMetric {
				return m.rdsMetric("DatabaseConnections", "Maximum")
			},
			Description: fmt.Sprintf("The writer has held %d%% of max_connections for 3 minutes; at 100%% logins fail with 1040. Find who holds connections (SHOW PROCESSLIST); lower functionReservedConcurrency or maxConnections, or raise maxCapacity / instanceClass (the synth re-checks the budget).", ConnectionsAlarmPercent)},
		{ID: "FunctionErrors", Threshold: 1, EvaluationPeriods: 1, DatapointsToAlarm: 1,
			Metric: func(m *Monitoring) awscloudwatch.IMetric {
				return m.props.Function.Function.MetricErrors(&awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: awscdk.Duration_Minutes(jsii.Number(5))})
			},
			Description: "The query function returned errors. Its log has one \"request failed\" line per error with the connector's counters; the IAM alarms and the dashboard say whether logins are the cause."},
		{ID: "FunctionThrottled", Threshold: 1, EvaluationPeriods: 1, DatapointsToAlarm: 1,
			Metric: func(m *Monitoring) awscloudwatch.IMetric {
				return m.props.Function.Function.MetricThrottles(&awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: awscdk.Duration_Minutes(jsii.Number(5))})
			},
			Description: "Invocations were refused at the reserved concurrency (functionReservedConcurrency), the cap that keeps the fleet inside max_connections. Raise it only with the connection budget the synth checks."},
		{ID: "OutcomeUnknownWrites", Threshold: 1, EvaluationPeriods: 1, DatapointsToAlarm: 1,
			Metric: func(m *Monitoring) awscloudwatch.IMetric {
				return fiveMinutes(m.ownMetric(opsmetrics.OutcomeUnknownWrites))
			},
			Description: "A write's connection died after the write was sent: it may or may not have committed, and the caller got ErrOutcomeUnknown. Reconcile those writes (the function's log names the request ids)."},
	}
}

// NewMonitoring creates the alarms and the dashboard props ask for.
func NewMonitoring(scope constructs.Construct, id string, props MonitoringProps) (*Monitoring, error) {
	if props.Cluster == nil || props.Function == nil {
		return nil, fmt.Errorf("monitoring %s: Cluster and Function are required", id)
	}
	orDefault(&props.Writer, props.Cluster.writer)
	orDefault(&props.MaxConnections, props.Cluster.maxConnections)
	orDefault(&props.AuthLogGroup, props.Cluster.AuthLogGroupName())
	var errs propChecks
	checkProp(&errs, "MonitoringProps.Writer", props.Writer, writerRule)
	checkProp(&errs, "MonitoringProps.MaxConnections", props.MaxConnections, intRange{min: 1, max: headroomRange.max, unit: "connections", note: "0: the Cluster's"}.rule())
	checkProp(&errs, "MonitoringProps.AlarmTopicArn", props.AlarmTopicArn, alarmTopicArnRule)
	if err := errs.err("monitoring " + id); err != nil {
		return nil, err
	}
	m := &Monitoring{Construct: constructs.NewConstruct(scope, jsii.String(id)), Alarms: map[string]awscloudwatch.Alarm{}, props: props}
	if !props.NoAlarms {
		m.addAlarms()
	}
	if !props.NoDashboard {
		m.addDashboard()
	}
	return m, nil
}

func (m *Monitoring) addAlarms() {
	var action awscloudwatch.IAlarmAction
	if m.props.AlarmTopicArn != "" {
		action = awscloudwatchactions.NewSnsAction(awssns.Topic_FromTopicArn(m.Construct, jsii.String("AlarmTopic"), jsii.String(m.props.AlarmTopicArn)))
	}
	stackName := *awscdk.Stack_Of(m.Construct).StackName()
	for _, spec := range AlarmSpecs() {
		threshold := spec.Threshold
		if spec.ID == "ConnectionsNearLimit" {
			threshold = float64(m.props.MaxConnections * ConnectionsAlarmPercent / 100)
		}
		alarm := awscloudwatch.NewAlarm(m.Construct, jsii.String(spec.ID), &awscloudwatch.AlarmProps{
			AlarmName:          jsii.String(stackName + "-" + spec.ID),
			AlarmDescription:   jsii.String(spec.Description),
			Metric:             spec.Metric(m),
			Threshold:          jsii.Number(threshold),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			EvaluationPeriods:  jsii.Number(spec.EvaluationPeriods),
			DatapointsToAlarm:  jsii.Number(spec.DatapointsToAlarm),
			// No data is no failure: a paused writer and an idle
			// function publish nothing.
			TreatMissingData: awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
		if action != nil {
			alarm.AddAlarmAction(action)
			alarm.AddOkAction(action)
		}
		m.Alarms[spec.ID] = alarm
	}
}

func (m *Monitoring) addDashboard() {
	stack := awscdk.Stack_Of(m.Construct)
	graph := func(title string, left []awscloudwatch.IMetric, annotations ...*awscloudwatch.HorizontalAnnotation) awscloudwatch.IWidget {
		p := &awscloudwatch.GraphWidgetProps{Title: jsii.String(title), Left: &left, Width: jsii.Number(12), Height: jsii.Number(6)}
		if len(annotations) > 0 {
			p.LeftAnnotations = &annotations
		}
		return awscloudwatch.NewGraphWidget(p)
	}
	rds := func(statistic string, names ...string) []awscloudwatch.IMetric {
		out := make([]awscloudwatch.IMetric, 0, len(names))
		for _, n := range names {
			out = append(out, m.rdsMetric(n, statistic))
		}
		return out
	}
	var own []awscloudwatch.IMetric
	for _, metric := range opsmetrics.All() {
		own = append(own, m.ownMetric(metric))
	}
	limit := []*awscloudwatch.HorizontalAnnotation{
		{Value: jsii.Number(float64(m.props.MaxConnections)), Label: jsii.String("max_connections")},
		{Value: jsii.Number(float64(m.props.MaxConnections * ConnectionsAlarmPercent / 100)), Label: jsii.String("alarm")},
	}
	capacity := graph("Writer CPU (%)", rds("Average", "CPUUtilization"))
	if m.props.Writer == WriterServerlessV2 {
		capacity = graph("Writer capacity (ACU)", rds("Maximum", "ServerlessDatabaseCapacity"))
	}
	fn := m.props.Function.Function
	rows := [][]awscloudwatch.IWidget{
		{
			graph("IAM logins", rds("Sum", "IamDbAuthConnectionRequests", "IamDbAuthConnectionSuccess", "IamDbAuthConnectionFailure")),
			graph("IAM login failures by cause", rds("Sum", "IamDbAuthConnectionFailureThrottling", "IamDbAuthConnectionFailureInsufficientPermissions",
				"IamDbAuthConnectionFailureInvalidToken", "IamDbAuthConnectionFailureServerError")),
		},
		{
			graph("Connections", rds("Maximum", "DatabaseConnections"), limit...),
			capacity,
		},
		{
			graph("Query function: invocations, errors, throttles", []awscloudwatch.IMetric{
				fn.MetricInvocations(&awscloudwatch.MetricOptions{Statistic: jsii.String("Sum")}),
				fn.MetricErrors(&awscloudwatch.MetricOptions{Statistic: jsii.String("Sum")}),
				fn.MetricThrottles(&awscloudwatch.MetricOptions{Statistic: jsii.String("Sum")}),
			}),
			graph("Query function: duration (ms)", []awscloudwatch.IMetric{
				fn.MetricDuration(&awscloudwatch.MetricOptions{Statistic: jsii.String("p50")}),
				fn.MetricDuration(&awscloudwatch.MetricOptions{Statistic: jsii.String("p99")}),
				fn.MetricDuration(&awscloudwatch.MetricOptions{Statistic: jsii.String("Maximum")}),
			}),
		},
		{graph("Query function: its own logins, tokens and retries ("+opsmetrics.Namespace+")", own)},
	}
	if m.props.AuthLogGroup != nil {
		rows = append(rows, []awscloudwatch.IWidget{awscloudwatch.NewLogQueryWidget(&awscloudwatch.LogQueryWidgetProps{
			Title:         jsii.String("Latest IAM authentication errors (" + IamAuthErrorLog + ")"),
			LogGroupNames: &[]*string{m.props.AuthLogGroup},
			QueryLines:    jsii.Strings("fields @timestamp, @message", "sort @timestamp desc", "limit 50"),
			Width:         jsii.Number(24), Height: jsii.Number(6),
		})})
	}
	widgets := make([]*[]awscloudwatch.IWidget, len(rows))
	for i := range rows {
		widgets[i] = &rows[i]
	}
	m.Dashboard = awscloudwatch.NewDashboard(m.Construct, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		DashboardName: jsii.String(*stack.StackName() + "-rdsiam"),
		Widgets:       &widgets,
	})
}
