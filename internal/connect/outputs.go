package connect

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
)

// Outputs reads a deployed stack's outputs, by output key. The CLI uses
// CloudFormationOutputs; tests use a map.
type Outputs interface {
	StackOutputs(ctx context.Context, stackName string) (map[string]string, error)
}

// DescribeStacksAPI is the one CloudFormation call CloudFormationOutputs
// makes (*cloudformation.Client has it).
type DescribeStacksAPI interface {
	DescribeStacks(ctx context.Context, in *cloudformation.DescribeStacksInput, opts ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error)
}

// CloudFormationOutputs reads outputs with cloudformation:DescribeStacks.
type CloudFormationOutputs struct {
	API DescribeStacksAPI
}

// StackOutputs returns the outputs of stackName.
func (c CloudFormationOutputs) StackOutputs(ctx context.Context, stackName string) (map[string]string, error) {
	out, err := c.API.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(stackName)})
	if err != nil {
		return nil, fmt.Errorf("connect: read the outputs of stack %q (cloudformation:DescribeStacks; or pass --endpoint): %w", stackName, err)
	}
	if len(out.Stacks) != 1 {
		return nil, fmt.Errorf("connect: stack %q: DescribeStacks returned %d stacks, want 1", stackName, len(out.Stacks))
	}
	m := map[string]string{}
	for _, o := range out.Stacks[0].Outputs {
		m[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	return m, nil
}

// StaticOutputs is a fixed set of outputs, e.g. for tests or for a stack
// whose outputs were saved with `cdk deploy --outputs-file`.
type StaticOutputs map[string]string

// StackOutputs returns the map.
func (s StaticOutputs) StackOutputs(context.Context, string) (map[string]string, error) {
	return s, nil
}
