package cfntemplate

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func testEnv() Env {
	return Env{
		Partition: "aws",
		Region:    "eu-west-1",
		Account:   "123456789012",
		Refs: map[string]string{
			"AWS::StackName": "RdsIamStack",
			"DbUserParam":    "app_user",
			"AppRole":        "RdsIamStack-AppRole-1A2B3C",
		},
		Attrs: map[string]string{
			"DatabaseClusterABCD1234.DBClusterResourceId": "cluster-ABCDEFGHIJKL",
			"DatabaseClusterABCD1234.Endpoint.Address":    "db.example.internal",
		},
	}
}

// decode turns test JSON into the value shape Resolve receives from a
// template.
func decode(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad test JSON %s: %v", s, err)
	}
	return v
}

func TestResolve(t *testing.T) {
	env := testEnv()
	// The rds-db:connect resource of the user in DbUserParam.
	appUser := "arn:aws:rds-db:eu-west-1:123456789012:dbuser:cluster-ABCDEFGHIJKL/app_user"
	tests := []struct {
		name string
		in   string
		want any
	}{
		{"plain values are copied", `{"a":[1,"x",true,null]}`, map[string]any{"a": []any{1.0, "x", true, nil}}},
		{"Ref pseudo parameters", `[{"Ref":"AWS::Partition"},{"Ref":"AWS::Region"},{"Ref":"AWS::AccountId"},{"Ref":"AWS::StackName"}]`,
			[]any{env.Partition, env.Region, env.Account, env.Refs["AWS::StackName"]}},
		{"URLSuffix default", `{"Ref":"AWS::URLSuffix"}`, DefaultURLSuffix},
		{"Ref logical id", `{"Ref":"AppRole"}`, env.Refs["AppRole"]},
		{"GetAtt array and string forms", `[{"Fn::GetAtt":["DatabaseClusterABCD1234","DBClusterResourceId"]},{"Fn::GetAtt":"DatabaseClusterABCD1234.Endpoint.Address"}]`,
			[]any{env.Attrs["DatabaseClusterABCD1234.DBClusterResourceId"], env.Attrs["DatabaseClusterABCD1234.Endpoint.Address"]}},
		{"GetAtt attribute from Ref", `{"Fn::GetAtt":["DatabaseClusterABCD1234",{"Fn::Join":["",["DBCluster","ResourceId"]]}]}`,
			env.Attrs["DatabaseClusterABCD1234.DBClusterResourceId"]},
		{"CDK rds-db:connect ARN", `{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":rds-db:",{"Ref":"AWS::Region"},":",{"Ref":"AWS::AccountId"},":dbuser:",{"Fn::GetAtt":["DatabaseClusterABCD1234","DBClusterResourceId"]},"/",{"Ref":"DbUserParam"}]]}`,
			appUser},
		{"Sub string form", `{"Fn::Sub":"arn:${AWS::Partition}:rds-db:${AWS::Region}:${AWS::AccountId}:dbuser:${DatabaseClusterABCD1234.DBClusterResourceId}/${DbUserParam}"}`,
			appUser},
		{"Sub with variables map", `{"Fn::Sub":["arn:${AWS::Partition}:rds-db:${AWS::Region}:${AWS::AccountId}:dbuser:${Cluster}/${User}",{"Cluster":{"Fn::GetAtt":["DatabaseClusterABCD1234","DBClusterResourceId"]},"User":"app_user"}]}`,
			appUser},
		{"Sub map variable shadows Ref", `{"Fn::Sub":["${AWS::Region}",{"AWS::Region":"xx-test-1"}]}`, "xx-test-1"},
		{"Sub escape", `{"Fn::Sub":"${!Literal}-${!AWS::Region}-$x-${AWS::Region}"}`, "${Literal}-${AWS::Region}-$x-" + env.Region},
		{"Select and Split", `{"Fn::Select":[1,{"Fn::Split":["/",{"Fn::Sub":"a/${DbUserParam}/c"}]}]}`, env.Refs["DbUserParam"]},
		{"Select string index", `{"Fn::Select":["0",["x","y"]]}`, "x"},
		{"NoValue drops map entry and array element", `{"keep":"k","drop":{"Ref":"AWS::NoValue"},"list":["a",{"Ref":"AWS::NoValue"},"b"]}`,
			map[string]any{"keep": "k", "list": []any{"a", "b"}}},
		{"NoValue dropped inside Join", `{"Fn::Join":["-",["a",{"Ref":"AWS::NoValue"},"b"]]}`, "a-b"},
		{"NoValue at top level", `{"Ref":"AWS::NoValue"}`, nil},
		{"nested inside policy", `{"Statement":[{"Effect":"Allow","Resource":{"Fn::Sub":"${AWS::AccountId}"},"Condition":{"StringEquals":{"k":"v"}}}]}`,
			map[string]any{"Statement": []any{map[string]any{"Effect": "Allow", "Resource": env.Account, "Condition": map[string]any{"StringEquals": map[string]any{"k": "v"}}}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Resolve(decode(t, tc.in), env)
			if err != nil {
				t.Fatalf("Resolve(%s): %v", tc.in, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Resolve(%s) = %#v, want %#v", tc.in, got, tc.want)
			}
		})
	}
}

func TestResolveURLSuffixAndFallbacks(t *testing.T) {
	env := Env{URLSuffix: "amazonaws.com.cn", Refs: map[string]string{"AWS::Partition": "aws-cn"}}
	got, err := Resolve(decode(t, `{"Fn::Sub":"${AWS::Partition}/${AWS::URLSuffix}"}`), env)
	if want := env.Refs["AWS::Partition"] + "/" + env.URLSuffix; err != nil || got != want {
		t.Fatalf("Resolve = %v, %v; want %q", got, err, want)
	}
}

func TestResolveErrors(t *testing.T) {
	env := testEnv()
	tests := []struct {
		name    string
		in      string
		env     Env
		wantErr []string
	}{
		{"unknown GetAtt", `{"Fn::GetAtt":["OtherCluster","DBClusterResourceId"]}`, env, []string{"OtherCluster.DBClusterResourceId", "Env.Attrs"}},
		{"unknown GetAtt inside Join reports its path", `{"Resource":{"Fn::Join":["",["arn:",{"Fn::GetAtt":["Missing","Arn"]}]]}}`, env, []string{"Missing.Arn", "Resource.Fn::Join[1][1].Fn::GetAtt"}},
		{"unknown Ref", `{"Ref":"NoSuchParam"}`, env, []string{`"NoSuchParam"`, "Env.Refs"}},
		{"empty Region", `{"Ref":"AWS::Region"}`, Env{}, []string{"AWS::Region", "Env.Region is empty"}},
		{"StackName without Refs", `{"Ref":"AWS::StackName"}`, Env{}, []string{`"AWS::StackName"`}},
		{"empty attribute value", `{"Fn::GetAtt":"Db.Id"}`, Env{Attrs: map[string]string{"Db.Id": ""}}, []string{"Db.Id"}},
		{"unknown Sub variable", `{"Fn::Sub":"x-${Nope}"}`, env, []string{"${Nope}", `"Nope"`}},
		{"unknown Sub attribute", `{"Fn::Sub":"x-${Db.Nope}"}`, env, []string{"${Db.Nope}", "Db.Nope"}},
		{"unterminated Sub", `{"Fn::Sub":"x-${AWS::Region"}`, env, []string{"unterminated"}},
		{"empty Sub variable", `{"Fn::Sub":"${}"}`, env, []string{"empty variable"}},
		{"NoValue in Sub", `{"Fn::Sub":"${AWS::NoValue}"}`, env, []string{"AWS::NoValue"}},
		{"Sub variable map value unresolvable", `{"Fn::Sub":["${X}",{"X":{"Ref":"Nope"}}]}`, env, []string{`variable "X"`, `"Nope"`}},
		{"Fn::If unsupported", `{"Fn::If":["Cond","a","b"]}`, env, []string{"Fn::If", "not supported"}},
		{"Fn::ImportValue unsupported", `{"Fn::ImportValue":"Export"}`, env, []string{"Fn::ImportValue"}},
		{"intrinsic with extra key", `{"Ref":"AppRole","Extra":1}`, env, []string{"only key"}},
		{"Ref not a string", `{"Ref":["AppRole"]}`, env, []string{"Ref needs a logical id string"}},
		{"Join element not a string", `{"Fn::Join":["",["a",1]]}`, env, []string{"element 1", "number"}},
		{"Join malformed", `{"Fn::Join":"a"}`, env, []string{"Fn::Join needs"}},
		{"Select out of range", `{"Fn::Select":[2,["a","b"]]}`, env, []string{"index 2", "2 elements"}},
		{"Select negative", `{"Fn::Select":[-1,["a"]]}`, env, []string{"non-negative"}},
		{"Select fractional", `{"Fn::Select":[0.5,["a"]]}`, env, []string{"non-negative integer"}},
		{"Split empty delimiter", `{"Fn::Split":["",  "abc"]}`, env, []string{"delimiter"}},
		{"GetAtt without attribute", `{"Fn::GetAtt":"Db"}`, env, []string{`"Db"`, "LogicalId.Attribute"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Resolve(decode(t, tc.in), tc.env)
			if err == nil {
				t.Fatalf("Resolve(%s) = %#v, want an error", tc.in, got)
			}
			for _, want := range tc.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
}

func TestResolveDoesNotModifyInput(t *testing.T) {
	const in = `{"a":{"Ref":"AWS::Region"},"b":[{"Ref":"AWS::NoValue"}]}`
	v := decode(t, in)
	if _, err := Resolve(v, testEnv()); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(v, decode(t, in)) {
		t.Fatalf("Resolve modified its input: %#v", v)
	}
}

func TestResolveRejectsCyclesAndForeignTypes(t *testing.T) {
	cyclic := map[string]any{}
	cyclic["self"] = cyclic
	for _, v := range []any{cyclic, []string{"a"}, struct{}{}} {
		if _, err := Resolve(v, testEnv()); err == nil {
			t.Errorf("Resolve(%T) succeeded, want an error", v)
		}
	}
}
