package opsmetrics_test

import (
	"os"
	"time"

	"github.com/rdsiam/rdsiam/lambda/opsmetrics"
)

// One request that opened a connection with a freshly signed token: one
// line, carrying only the counts that moved.
func ExampleWrite() {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	_ = opsmetrics.Write(os.Stdout, "RdsIam-QueryFunction", at, opsmetrics.Values{
		opsmetrics.Logins:       1,
		opsmetrics.TokensSigned: 1,
	})
	// Output:
	// {"FunctionName":"RdsIam-QueryFunction","Logins":1,"TokensSigned":1,"_aws":{"CloudWatchMetrics":[{"Namespace":"rdsiam","Dimensions":[["FunctionName"]],"Metrics":[{"Name":"Logins","Unit":"Count"},{"Name":"TokensSigned","Unit":"Count"}]}],"Timestamp":1767323045000}}
}
