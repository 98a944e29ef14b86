package stacks

import (
	"strings"
	"testing"
)

// The zero props are refused before any construct is made, naming every
// missing field, and a port that is not a TCP port is refused naming it.
func TestUserProviderPropsRefused(t *testing.T) {
	tests := []struct {
		name  string
		props UserProviderProps
		want  []string
	}{
		{"zero value", UserProviderProps{}, []string{"user provider Users", "Cluster, AdminSecret, Vpc, Binary required"}},
		{"only the binary", UserProviderProps{Binary: GoBinary{Dir: "/x"}}, []string{"Cluster, AdminSecret, Vpc required"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := NewUserProvider(nil, "Users", tt.props)
			if err == nil || p != nil {
				t.Fatalf("NewUserProvider = %v, %v; want an error", p, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestDatabaseUserPropsZeroValueRefused(t *testing.T) {
	u, err := NewDatabaseUser(nil, "AppUser", DatabaseUserProps{})
	if err == nil || u != nil || !strings.Contains(err.Error(), "Provider is required") {
		t.Errorf("NewDatabaseUser(zero props) = %v, %v; want Provider is required", u, err)
	}
}

func TestReadOnlyGrantsAreAllowedAndFresh(t *testing.T) {
	a := ReadOnlyGrants()
	a[0] = "DROP"
	if got := ReadOnlyGrants(); got[0] != "SELECT" || len(got) != 2 || got[1] != "SHOW VIEW" {
		t.Errorf("ReadOnlyGrants() = %v after a caller changed its copy, want [SELECT SHOW VIEW]", got)
	}
}
