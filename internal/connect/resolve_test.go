package connect

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/rdsiam/rdsiam/internal/stackoutputs"
)

const testEndpoint = "rdsiam.cluster-abc123.eu-west-1.rds.amazonaws.com"

func TestResolve(t *testing.T) {
	full := StaticOutputs{
		stackoutputs.ClusterEndpoint: testEndpoint, stackoutputs.ClusterPort: "3306",
		stackoutputs.DatabaseName: "appdb", stackoutputs.HumanUsers: "people_ro",
		stackoutputs.BastionInstanceID: "i-0123456789abcdef0",
	}
	for _, tc := range []struct {
		name    string
		opts    Options
		want    target
		wantErr string
	}{
		{name: "all from the stack", opts: Options{Outputs: full},
			want: target{host: testEndpoint, port: 3306, user: "people_ro", database: "appdb", region: "eu-west-1"}},
		{name: "endpoint given, port default", opts: Options{Endpoint: "db.cluster-x.us-gov-west-1.rds.amazonaws.com", User: "u", Database: "d"},
			want: target{host: "db.cluster-x.us-gov-west-1.rds.amazonaws.com", port: 3306, user: "u", database: "d", region: "us-gov-west-1"}},
		{name: "endpoint with port and region given", opts: Options{Endpoint: "localhost:4406", User: "u", Region: "eu-central-1"},
			want: target{host: "localhost", port: 4406, user: "u", region: "eu-central-1"}},
		{name: "ssm names the bastion", opts: Options{Outputs: full, SSM: true},
			want: target{host: testEndpoint, port: 3306, user: "people_ro", database: "appdb", region: "eu-west-1", bastion: "i-0123456789abcdef0"}},
		{name: "the endpoint's region before the profile's", opts: Options{Endpoint: testEndpoint, User: "u", FallbackRegion: "us-east-1"},
			want: target{host: testEndpoint, port: 3306, user: "u", region: "eu-west-1"}},
		{name: "the profile's region for a name without one", opts: Options{Endpoint: "db.internal", User: "u", FallbackRegion: "us-east-1"},
			want: target{host: "db.internal", port: 3306, user: "u", region: "us-east-1"}},
		{name: "no region anywhere", opts: Options{Endpoint: "localhost:4406", User: "u"}, wantErr: "--region"},
		{name: "bad port", opts: Options{Endpoint: "db:99999", User: "u"}, wantErr: `"db:99999"`},
		{name: "no outputs source", opts: Options{Endpoint: testEndpoint}, wantErr: "--user"},
		{name: "several human users", opts: Options{Outputs: StaticOutputs{stackoutputs.ClusterEndpoint: testEndpoint, stackoutputs.HumanUsers: "people_ro,oncall"}},
			wantErr: "people_ro, oncall"},
		{name: "no human users", opts: Options{Outputs: StaticOutputs{stackoutputs.ClusterEndpoint: testEndpoint}}, wantErr: "humanUsers"},
		{name: "no endpoint output", opts: Options{Outputs: StaticOutputs{}, User: "u"}, wantErr: "ClusterEndpoint"},
		{name: "ssm without a bastion", opts: Options{Outputs: StaticOutputs{stackoutputs.ClusterEndpoint: testEndpoint, stackoutputs.HumanUsers: "u"}, SSM: true},
			wantErr: "ssmBastion=true"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.StackName = "RdsIam"
			got, err := tc.opts.resolve(context.Background())
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one naming %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("target = %+v, want %+v", got, tc.want)
			}
		})
	}
}

type fakeCFN struct {
	out *cloudformation.DescribeStacksOutput
	err error
	got string
}

func (f *fakeCFN) DescribeStacks(_ context.Context, in *cloudformation.DescribeStacksInput, _ ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error) {
	f.got = aws.ToString(in.StackName)
	return f.out, f.err
}

func TestCloudFormationOutputs(t *testing.T) {
	f := &fakeCFN{out: &cloudformation.DescribeStacksOutput{Stacks: []cftypes.Stack{{Outputs: []cftypes.Output{
		{OutputKey: aws.String(stackoutputs.ClusterEndpoint), OutputValue: aws.String(testEndpoint)},
		{OutputKey: aws.String(stackoutputs.HumanUsers), OutputValue: aws.String("people_ro")},
	}}}}}
	got, err := CloudFormationOutputs{API: f}.StackOutputs(context.Background(), "MyStack")
	if err != nil {
		t.Fatal(err)
	}
	if f.got != "MyStack" || got[stackoutputs.ClusterEndpoint] != testEndpoint || got[stackoutputs.HumanUsers] != "people_ro" {
		t.Errorf("asked for %q, got %v", f.got, got)
	}
	f.err = errors.New("ValidationError: Stack with id MyStack does not exist")
	if _, err := (CloudFormationOutputs{API: f}).StackOutputs(context.Background(), "MyStack"); err == nil ||
		!strings.Contains(err.Error(), "does not exist") || !strings.Contains(err.Error(), "--endpoint") {
		t.Errorf("err = %v", err)
	}
}
