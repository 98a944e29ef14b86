package auroralocal

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/dolthub/vitess/go/mysql"
	"github.com/dolthub/vitess/go/sqltypes"
	querypb "github.com/dolthub/vitess/go/vt/proto/query"
	"github.com/dolthub/vitess/go/vt/sqlparser"
)

func TestOptionsValidation(t *testing.T) {
	valid := Principal{ARN: "arn:aws:iam::123456789012:role/R", AccessKeyID: "AKIA1", SecretAccessKey: "s"}
	tests := []struct {
		name    string
		opts    Options
		mention string // the bad value the error must name
	}{
		{"port", Options{Port: 70000}, "70000"},
		{"endpoint with port", Options{Endpoint: "localhost:3306"}, "localhost:3306"},
		{"endpoint with scheme", Options{Endpoint: "https://db"}, "https://db"},
		{"region", Options{Region: "US-EAST-1"}, "US-EAST-1"},
		{"account", Options{Account: "1234"}, "1234"},
		{"cluster id", Options{ClusterResourceID: "cluster/x"}, "cluster/x"},
		{"master user", Options{MasterUser: "ad'min"}, "ad'min"},
		{"principal arn", Options{Principals: []Principal{{ARN: "role/R", AccessKeyID: "A", SecretAccessKey: "s"}}}, "role/R"},
		{"principal key", Options{Principals: []Principal{{ARN: "arn:aws:iam::1:role/R", AccessKeyID: "A/B", SecretAccessKey: "s"}}}, "A/B"},
		{"principal secret", Options{Principals: []Principal{{ARN: "arn:aws:iam::1:role/NoSecret", AccessKeyID: "A"}}}, "NoSecret"},
		{"duplicate key", Options{Principals: []Principal{valid, valid}}, "AKIA1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, err := Start(tc.opts)
			if err == nil {
				srv.Close()
				t.Fatal("Start accepted invalid options")
			}
			if !strings.Contains(err.Error(), tc.mention) {
				t.Errorf("error %q does not name %q", err, tc.mention)
			}
		})
	}

	t.Run("secret never echoed", func(t *testing.T) {
		p := valid
		p.ARN = "not-an-arn"
		p.SecretAccessKey = "super-secret-value"
		_, err := Start(Options{Principals: []Principal{p}})
		if err == nil || strings.Contains(err.Error(), "super-secret-value") {
			t.Errorf("err = %v", err)
		}
	})

	t.Run("defaults", func(t *testing.T) {
		o, err := Options{}.normalize()
		if err != nil {
			t.Fatal(err)
		}
		if o.Endpoint != DefaultEndpoint || o.Region != DefaultRegion || o.Account != DefaultAccount ||
			o.ClusterResourceID != DefaultClusterResourceID || o.MasterUser != DefaultMasterUser ||
			o.MasterPassword == "" || !*o.RequireSecureTransport || o.Logger == nil {
			t.Errorf("defaults = %+v", o)
		}
	})
}

// panickingHandler panics in every query path, standing in for a GMS bug.
type panickingHandler struct{ mysql.Handler }

func (panickingHandler) ComQuery(context.Context, *mysql.Conn, string, mysql.ResultSpoolFn) error {
	panic("engine bug")
}
func (panickingHandler) ComMultiQuery(context.Context, *mysql.Conn, string, mysql.ResultSpoolFn) (string, error) {
	panic("engine bug")
}
func (panickingHandler) ComPrepare(context.Context, *mysql.Conn, string, *mysql.PrepareData) ([]*querypb.Field, error) {
	panic("engine bug")
}
func (panickingHandler) ParserOptionsForConnection(*mysql.Conn) (sqlparser.ParserOptions, error) {
	panic("engine bug")
}

func TestHandlerRecoversPanics(t *testing.T) {
	srv := startServer(t, Options{})
	h := &connHandler{next: panickingHandler{}, s: srv}
	noop := func(*sqltypes.Result, bool) error { return nil }
	calls := map[string]func() error{
		"ComQuery": func() error { return h.ComQuery(context.Background(), &mysql.Conn{}, "SELECT 1", noop) },
		"ComMultiQuery": func() error {
			_, err := h.ComMultiQuery(context.Background(), &mysql.Conn{}, "SELECT 1", noop)
			return err
		},
		"ComPrepare": func() error {
			_, err := h.ComPrepare(context.Background(), &mysql.Conn{}, "SELECT 1", &mysql.PrepareData{})
			return err
		},
		"ParserOptionsForConnection": func() error {
			_, err := h.ParserOptionsForConnection(&mysql.Conn{})
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			err := call()
			var se *mysql.SQLError
			if !errors.As(err, &se) || se.Number() != ErrNumUnknown {
				t.Fatalf("err = %v, want ER_UNKNOWN_ERROR", err)
			}
			if strings.Contains(err.Error(), "engine bug") {
				t.Errorf("panic value leaked to the client: %v", err)
			}
		})
	}
}

// TestAuthorizePanicRefuses: a principal whose Authorize panics refuses the
// login (1045) instead of crashing the connection or the server.
func TestAuthorizePanicRefuses(t *testing.T) {
	srv := iamServer(t, Options{Principals: []Principal{{
		ARN: "arn:aws:iam::123456789012:role/PanicRole", AccessKeyID: allowAKID, SecretAccessKey: allowSecret,
		Authorize: func(string, string) (bool, error) { panic("policy engine bug") },
	}}})
	token := buildToken(t, srv.Endpoint(), testRegion, iamUser, allowCreds)
	assertRefused(t, srv, connectOnce(t, clientConfig(srv, iamUser, token, true)), ErrNumAccessDenied, ErrAuthorizeFailed, token)
	// A principal with nil Authorize is deny-all.
	srv2 := iamServer(t, Options{Principals: []Principal{{
		ARN: "arn:aws:iam::123456789012:role/NilRole", AccessKeyID: allowAKID, SecretAccessKey: allowSecret,
	}}})
	token = buildToken(t, srv2.Endpoint(), testRegion, iamUser, allowCreds)
	assertRefused(t, srv2, connectOnce(t, clientConfig(srv2, iamUser, token, true)), ErrNumAccessDenied, ErrNotAuthorized, token)
}
