package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"slices"
	"strings"
	"testing"
)

func TestParseConnect(t *testing.T) {
	o, profile, err := parseConnect([]string{"--stack", "Prod", "--profile", "oncall", "--via", "localhost:13306",
		"--user", "people_ro", "--ca", "ca.pem", "--", "-e", "SELECT 1"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.StackName != "Prod" || profile != "oncall" || o.Via != "localhost:13306" || o.User != "people_ro" || o.CAFile != "ca.pem" ||
		!slices.Equal(o.ClientArgs, []string{"-e", "SELECT 1"}) {
		t.Errorf("parsed %+v, profile %q", o, profile)
	}
	o, _, err = parseConnect(nil, io.Discard)
	if err != nil || o.StackName != "RdsIam" || o.SSM || o.Print || len(o.ClientArgs) != 0 {
		t.Errorf("defaults: %+v, %v", o, err)
	}
	if _, _, err := parseConnect([]string{"--user", "u", "SELECT"}, io.Discard); err == nil || !strings.Contains(err.Error(), `"SELECT"`) {
		t.Errorf("a stray argument: %v", err)
	}
	if _, _, err := parseConnect([]string{"--no-such-flag"}, io.Discard); err == nil {
		t.Error("an unknown flag was accepted")
	}
}

func TestRunNeedsTheSubcommand(t *testing.T) {
	var out strings.Builder
	for _, args := range [][]string{nil, {"login"}} {
		if err := run(context.Background(), args, nil, io.Discard, &out); !errors.Is(err, flag.ErrHelp) {
			t.Errorf("run(%q) = %v", args, err)
		}
	}
	if !strings.Contains(out.String(), "rdsiam connect") {
		t.Errorf("usage not printed: %q", out.String())
	}
}
