// Command emptylambda is the floor of the cold-start benchmark: an
// aws-lambda-go function that does nothing at init and answers every
// invocation with an empty object. The time from its exec to its first
// Runtime API request is what the Go runtime, process start and
// aws-lambda-go cost before any of rdsiam's init runs.
package main

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(context.Context, json.RawMessage) (struct{}, error) { return struct{}{}, nil })
}
