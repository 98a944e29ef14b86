package auroralocal

import (
	"errors"
	"fmt"
	"testing"

	"github.com/rdsiam/rdsiam/auroralocal/sigv4"
)

func TestReasonCode(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{fmt.Errorf("x: %w", sigv4.ErrExpired), ReasonExpiredToken},
		{fmt.Errorf("x: %w", sigv4.ErrSignature), ReasonInvalidToken},
		{fmt.Errorf("x: %w", sigv4.ErrUser), ReasonInvalidToken},
		{fmt.Errorf("x: %w", sigv4.ErrUnknownKey), ReasonInvalidToken},
		{fmt.Errorf("x: %w", ErrNotAuthorized), ReasonNotAuthorized},
		{fmt.Errorf("x: %w", ErrAuthorizeFailed), ReasonNotAuthorized},
		{ErrIAMWithoutTLS, ReasonNotTLS},
		{ErrInsecureTransport, ReasonNotTLS},
		{ErrIAMDisabled, ReasonIAMDisabled},
		{ErrInjectedRefusal, ReasonThrottled},
		{ErrUnknownAccount, ReasonWrongPassword},
		{ErrAuthInternal, ReasonInternal},
		{errors.New("something else"), ReasonInternal},
	} {
		if got := ReasonCode(tc.err); got != tc.want {
			t.Errorf("ReasonCode(%v) = %q, want %q", tc.err, got, tc.want)
		}
		if got := (AuthEvent{Err: tc.err}).Reason(); got != tc.want {
			t.Errorf("AuthEvent{Err: %v}.Reason() = %q, want %q", tc.err, got, tc.want)
		}
	}
}
