package test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/rdsiam/rdsiam/lambda/opsmetrics"
	"github.com/rdsiam/rdsiam/stacks"
)

// The variants of the operations work (registered with the others in
// template_test.go's variants by init, so TestMain synthesizes them once).
func init() {
	// Scale to zero, alarms notifying an existing topic.
	variants["paused-with-topic"] = func(c *stacks.Config) {
		c.MinCapacity = 0
		c.AutoPauseSeconds = 600
		c.DialTimeoutSeconds = stacks.ResumeSeconds
		c.FunctionTimeoutSeconds = 40
		c.AlarmTopicArn = "arn:aws:sns:eu-west-1:123456789012:ops"
	}
	// Everything of monitoring switched off.
	variants["monitoring-off"] = func(c *stacks.Config) {
		c.IamAuthLogExport, c.Alarms, c.Dashboard = false, false, false
	}
}

// monitoringSnapshot is what an operator relies on: each alarm's metric,
// dimensions, statistic and threshold, the log export and its retention,
// and the dashboard's widgets.
func monitoringSnapshot(tp *template) any {
	out := map[string]any{}
	for _, id := range tp.OfType("AWS::CloudWatch::Alarm") {
		p := tp.Resources[id].Properties
		out[id] = map[string]any{
			"name": p["AlarmName"], "namespace": p["Namespace"], "metric": p["MetricName"], "dimensions": p["Dimensions"],
			"statistic": p["Statistic"], "period": p["Period"], "threshold": p["Threshold"], "comparison": p["ComparisonOperator"],
			"evaluationPeriods": p["EvaluationPeriods"], "datapointsToAlarm": p["DatapointsToAlarm"],
			"missingData": p["TreatMissingData"], "actions": p["AlarmActions"],
		}
	}
	for _, id := range tp.OfType("AWS::RDS::DBCluster") {
		out[id] = map[string]any{"EnableCloudwatchLogsExports": tp.Resources[id].Properties["EnableCloudwatchLogsExports"],
			"ServerlessV2ScalingConfiguration": tp.Resources[id].Properties["ServerlessV2ScalingConfiguration"]}
	}
	for _, id := range tp.OfType("Custom::LogRetention") {
		out[id] = map[string]any{"LogGroupName": tp.Resources[id].Properties["LogGroupName"], "RetentionInDays": tp.Resources[id].Properties["RetentionInDays"]}
	}
	for _, id := range tp.OfType("AWS::CloudWatch::Dashboard") {
		out[id] = map[string]any{"DashboardName": tp.Resources[id].Properties["DashboardName"], "widgets": dashboardTitles(tp, id)}
	}
	return out
}

// dashboardBody joins the dashboard's body with its intrinsics replaced by
// a marker, so it parses as JSON.
func dashboardBody(tp *template, id string) map[string]any {
	body := tp.Resources[id].Properties["DashboardBody"]
	var s strings.Builder
	if j, ok := body.(map[string]any)["Fn::Join"].([]any); ok {
		for _, part := range j[1].([]any) {
			if str, ok := part.(string); ok {
				s.WriteString(str)
			} else {
				s.WriteString("TOKEN")
			}
		}
	} else if str, ok := body.(string); ok {
		s.WriteString(str)
	}
	var out map[string]any
	_ = json.Unmarshal([]byte(s.String()), &out)
	return out
}

func dashboardTitles(tp *template, id string) []string {
	var titles []string
	widgets, _ := dashboardBody(tp, id)["widgets"].([]any)
	for _, w := range widgets {
		props, _ := w.(map[string]any)["properties"].(map[string]any)
		title, _ := props["title"].(string)
		titles = append(titles, title)
	}
	return titles
}

func TestAlarms(t *testing.T) {
	tp := tmpl(t, "default")
	want := map[string]string{ // alarm name suffix -> metric
		"IamAuthThrottled":     "IamDbAuthConnectionFailureThrottling",
		"IamAuthDenied":        "IamDbAuthConnectionFailureInsufficientPermissions",
		"IamAuthInvalidToken":  "IamDbAuthConnectionFailureInvalidToken",
		"IamAuthServerError":   "IamDbAuthConnectionFailureServerError",
		"ConnectionsNearLimit": "DatabaseConnections",
		"FunctionErrors":       "Errors",
		"FunctionThrottled":    "Throttles",
		"OutcomeUnknownWrites": opsmetrics.OutcomeUnknownWrites.Name(),
	}
	clusterID, _ := tp.only(t, "AWS::RDS::DBCluster")
	fnID, _ := tp.byPrefix(t, "AWS::Lambda::Function", "QueryFunction")
	seen := map[string]bool{}
	for _, id := range tp.OfType("AWS::CloudWatch::Alarm") {
		p := tp.Resources[id].Properties
		name, _ := p["AlarmName"].(string)
		suffix := strings.TrimPrefix(name, "RdsIam-")
		metric, ok := want[suffix]
		if !ok {
			t.Errorf("unexpected alarm %s", name)
			continue
		}
		seen[suffix] = true
		if p["MetricName"] != metric {
			t.Errorf("%s watches %v, want %s", name, p["MetricName"], metric)
		}
		if p["AlarmActions"] != nil {
			t.Errorf("%s has actions without alarmTopicArn: %v", name, p["AlarmActions"])
		}
		if desc, _ := p["AlarmDescription"].(string); len(desc) < 80 {
			t.Errorf("%s: description %q does not say what to do", name, desc)
		}
		dims := asJSON(p["Dimensions"])
		switch p["Namespace"] {
		case "AWS/RDS":
			if want := asJSON([]any{map[string]any{"Name": "DBClusterIdentifier", "Value": ref(clusterID)}}); dims != want {
				t.Errorf("%s dimensions %s, want %s", name, dims, want)
			}
		case "AWS/Lambda", opsmetrics.Namespace:
			if !strings.Contains(dims, `"Name":"FunctionName"`) || !strings.Contains(dims, fnID) {
				t.Errorf("%s dimensions %s, want the query function's name", name, dims)
			}
		default:
			t.Errorf("%s: namespace %v", name, p["Namespace"])
		}
		// max_connections of the default 2 ACU is 90: the alarm is at 80%.
		if suffix == "ConnectionsNearLimit" && p["Threshold"] != float64(72) {
			t.Errorf("connections alarm threshold %v, want 72 (80%% of 90)", p["Threshold"])
		}
	}
	if len(seen) != len(want) {
		t.Errorf("alarms %v, want %d", seen, len(want))
	}

	// The topic, when given, is told of alarms and recoveries.
	topic := "arn:aws:sns:eu-west-1:123456789012:ops"
	for _, id := range tmpl(t, "paused-with-topic").OfType("AWS::CloudWatch::Alarm") {
		p := tmpl(t, "paused-with-topic").Resources[id].Properties
		if !jsonEqual(p["AlarmActions"], []any{topic}) || !jsonEqual(p["OKActions"], []any{topic}) {
			t.Errorf("%v: actions %v / %v, want the topic", p["AlarmName"], p["AlarmActions"], p["OKActions"])
		}
	}
}

func TestLogExportAndDashboard(t *testing.T) {
	tp := tmpl(t, "default")
	_, cluster := tp.only(t, "AWS::RDS::DBCluster")
	if !jsonEqual(cluster.Properties["EnableCloudwatchLogsExports"], []any{stacks.IamAuthErrorLog}) {
		t.Errorf("log exports %v", cluster.Properties["EnableCloudwatchLogsExports"])
	}
	_, retention := tp.only(t, "Custom::LogRetention")
	if retention.Properties["RetentionInDays"] != float64(365) || !strings.Contains(asJSON(retention.Properties["LogGroupName"]), "/"+stacks.IamAuthErrorLog) {
		t.Errorf("retention %s", asJSON(retention.Properties))
	}
	dashID, _ := tp.only(t, "AWS::CloudWatch::Dashboard")
	body := asJSON(dashboardBody(tp, dashID))
	for _, metric := range []string{"IamDbAuthConnectionRequests", "IamDbAuthConnectionFailureThrottling", "IamDbAuthConnectionFailureInsufficientPermissions",
		"IamDbAuthConnectionFailureInvalidToken", "DatabaseConnections", "ServerlessDatabaseCapacity", "Duration", "Errors"} {
		if !strings.Contains(body, `"`+metric+`"`) {
			t.Errorf("dashboard does not show %s", metric)
		}
	}
	for _, m := range opsmetrics.All() {
		if !strings.Contains(body, `"`+opsmetrics.Namespace+`","`+m.Name()+`"`) {
			t.Errorf("dashboard does not show the function's %s", m)
		}
	}

	off := tmpl(t, "monitoring-off")
	if n := len(off.OfType("AWS::CloudWatch::Alarm")) + len(off.OfType("AWS::CloudWatch::Dashboard")) + len(off.OfType("Custom::LogRetention")); n != 0 {
		t.Errorf("monitoring off still makes %d alarms, dashboards or retentions", n)
	}
	_, offCluster := off.only(t, "AWS::RDS::DBCluster")
	if offCluster.Properties["EnableCloudwatchLogsExports"] != nil {
		t.Errorf("iamAuthLogExport=false still exports %v", offCluster.Properties["EnableCloudwatchLogsExports"])
	}
}

func TestScaleToZero(t *testing.T) {
	_, cluster := tmpl(t, "paused-with-topic").only(t, "AWS::RDS::DBCluster")
	want := map[string]any{"MinCapacity": float64(0), "MaxCapacity": float64(2), "SecondsUntilAutoPause": float64(600)}
	if got := cluster.Properties["ServerlessV2ScalingConfiguration"]; !jsonEqual(got, want) {
		t.Errorf("scaling %s, want %s", asJSON(got), asJSON(want))
	}
	_, fn := tmpl(t, "paused-with-topic").byPrefix(t, "AWS::Lambda::Function", "QueryFunction")
	vars := fn.Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
	if vars["DB_DIAL_TIMEOUT_SECONDS"] != "30" || fn.Properties["Timeout"] != float64(40) {
		t.Errorf("dial %v, timeout %v; want 30 and 40", vars["DB_DIAL_TIMEOUT_SECONDS"], fn.Properties["Timeout"])
	}
	_, def := tmpl(t, "default").only(t, "AWS::RDS::DBCluster")
	scaling := def.Properties["ServerlessV2ScalingConfiguration"].(map[string]any)
	if _, ok := scaling["SecondsUntilAutoPause"]; ok || !slices.Contains([]any{0.5}, scaling["MinCapacity"]) {
		t.Errorf("default scaling %s: no auto-pause wanted", asJSON(scaling))
	}
}
