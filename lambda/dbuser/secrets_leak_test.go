package dbuser

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/go-sql-driver/mysql"
)

// No scenario, successful or failing, may put the master password or the
// pre-signed ResponseURL into an error or a log line (debug level included).
func TestNoSecretsInErrorsOrLogs(t *testing.T) {
	secretJSON := `{"username":"dbmaster","password":"` + testPassword + `","host":"h","port":3306}`
	scenarios := []struct {
		name        string
		requestType string
		props       func(t *testing.T) map[string]any
		setup       func(hn *harness)
	}{
		{name: "create succeeds", requestType: RequestCreate},
		{name: "update succeeds", requestType: RequestUpdate},
		{name: "delete succeeds", requestType: RequestDelete},
		{name: "login refused", requestType: RequestCreate, setup: func(hn *harness) {
			hn.db.connectErrs = []error{&mysql.MySQLError{Number: 1045, Message: "Access denied for user 'dbmaster'@'10.0.0.9' (using password: YES)"}}
		}},
		{name: "statement fails", requestType: RequestCreate, setup: func(hn *harness) {
			hn.db.failOn = map[string]error{"GRANT": &mysql.MySQLError{Number: 1044, Message: "denied"}}
		}},
		{name: "unreachable", requestType: RequestCreate, props: func(t *testing.T) map[string]any {
			return with(with(goodProps(), "Endpoint", "127.0.0.1"), "Port", strconv.Itoa(closedPort(t)))
		}, setup: func(hn *harness) { hn.h.Open, hn.h.WaitFor = nil, 30*time.Millisecond }},
		{name: "malformed secret JSON", requestType: RequestCreate, setup: func(hn *harness) {
			hn.h.Secrets = SecretsManagerSource(&fakeSecretsManager{secret: aws.String(secretJSON[:len(secretJSON)-20])})
		}},
		{name: "real secret source", requestType: RequestCreate, setup: func(hn *harness) {
			hn.h.Secrets = SecretsManagerSource(&fakeSecretsManager{secret: aws.String(secretJSON)})
		}},
		{name: "secret read fails", requestType: RequestDelete, setup: func(hn *harness) {
			hn.secrets.err = errors.New("throttled")
		}},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			hn := newHarness()
			if sc.setup != nil {
				sc.setup(hn)
			}
			props := goodProps()
			if sc.props != nil {
				props = sc.props(t)
			}
			ev := event(sc.requestType, props)
			ev.PhysicalResourceID = "dbuser:app_user"
			ev.OldResourceProperties = with(props, "Privileges", []any{"SELECT"})
			resp, err := hn.h.Handle(context.Background(), ev)
			texts := map[string]string{"logs": hn.logs.String(), "response": resp.PhysicalResourceID}
			for k, v := range resp.Data {
				texts["data "+k] = v
			}
			if err != nil {
				texts["error"] = err.Error()
			}
			if hn.logs.Len() == 0 {
				t.Error("nothing was logged; the check below would be vacuous")
			}
			for where, text := range texts {
				for _, secret := range []string{testPassword, "SIGNATURE-0123abcd"} {
					if strings.Contains(text, secret) {
						t.Errorf("%s contains %q:\n%s", where, secret, text)
					}
				}
			}
		})
	}
}
