package stacks

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// No value is ignored: a key the chosen options make meaningless is an
// error, and so is a key that is not ours.
//
// What "set" means: cdk.json carries every default so users can see them,
// and the app cannot tell a value from cdk.json from one given with -c. So
// a key counts as set when its value differs from DefaultConfig's. The stock
// cdk.json therefore passes whatever writer is chosen, and any change to a
// meaningless key, in cdk.json or on the command line, is reported. The one
// value that cannot be caught is the default itself given again (say
// -c instanceClass=db.r6g.large with serverless-v2): it changes nothing.

// meaninglessKeys reports the first key set (different from its default)
// although c's other choices make it unused.
func (c Config) meaninglessKeys() error {
	d := DefaultConfig()
	switch c.Writer {
	case WriterServerlessV2:
		if c.InstanceClass != d.InstanceClass {
			return &ConfigError{Key: "instanceClass", Value: c.InstanceClass,
				Reason:  fmt.Sprintf("unused with writer=%q (the writer is db.serverless, sized by minCapacity and maxCapacity)", c.Writer),
				Allowed: fmt.Sprintf("the default (%q) unless writer=%q", d.InstanceClass, WriterProvisioned)}
		}
	case WriterProvisioned:
		for _, k := range []struct {
			key       string
			got, want float64
		}{{"minCapacity", c.MinCapacity, d.MinCapacity}, {"maxCapacity", c.MaxCapacity, d.MaxCapacity}} {
			if k.got != k.want {
				return &ConfigError{Key: k.key, Value: k.got,
					Reason:  fmt.Sprintf("unused with writer=%q (a provisioned writer's size is instanceClass)", c.Writer),
					Allowed: fmt.Sprintf("the default (%g) unless writer=%q", k.want, WriterServerlessV2)}
			}
		}
	}
	if c.VpcID == "" {
		const reason = "unused without vpcId (the stack creates its own VPC)"
		if len(c.SubnetIDs) > 0 {
			return &ConfigError{Key: "subnetIds", Value: c.SubnetIDs, Reason: reason, Allowed: "empty unless vpcId names an existing VPC"}
		}
		if len(c.AvailabilityZones) > 0 {
			return &ConfigError{Key: "availabilityZones", Value: c.AvailabilityZones, Reason: reason, Allowed: "empty unless vpcId names an existing VPC"}
		}
		if !c.SecretsManagerEndpoint {
			return &ConfigError{Key: "secretsManagerEndpoint", Value: c.SecretsManagerEndpoint,
				Allowed: "true when the stack creates its own VPC (its isolated subnets have no other route to Secrets Manager)"}
		}
	}
	return nil
}

// CheckKeys rejects context keys that look like ours but are not, with the
// closest known key as a suggestion. Keys with a colon or an @ (CDK's
// feature flags and lookups) are left alone.
func CheckKeys(ctx map[string]any) error {
	known := ContextKeys()
	for _, key := range slices.Sorted(maps.Keys(ctx)) {
		if strings.ContainsAny(key, ":@") || slices.Contains(known, key) {
			continue
		}
		reason := "no such key"
		if s := closestKey(key, known); s != "" {
			reason = fmt.Sprintf("no such key; did you mean %q?", s)
		}
		return &ConfigError{Key: key, Value: ctx[key], Reason: reason, Allowed: "known keys: " + strings.Join(known, ", ")}
	}
	return nil
}

// closestKey is the key of known nearest to key in edit distance, ignoring
// case, if it is near enough to be a typo: at most a third of the key's
// length, and at least 1 (one slip in a short key); else a key with the
// same start; otherwise "".
func closestKey(key string, known []string) string {
	best, bestDist := "", -1
	for _, k := range known {
		d := editDistance(strings.ToLower(key), strings.ToLower(k))
		if bestDist < 0 || d < bestDist {
			best, bestDist = k, d
		}
	}
	if bestDist <= max(1, len(key)/3) {
		return best
	}
	// A different last word on a right start ("instanceType" for
	// instanceClass, CDK's own prop name): the longest shared prefix, if it
	// is most of the key's first half and unique.
	bestPrefix, n, ties := "", 0, 0
	lower := strings.ToLower(key)
	for _, k := range known {
		p := commonPrefix(lower, strings.ToLower(k))
		switch {
		case p > n:
			bestPrefix, n, ties = k, p, 1
		case p == n:
			ties++
		}
	}
	if n >= 6 && n*2 >= len(key) && ties == 1 {
		return bestPrefix
	}
	return ""
}

func commonPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// editDistance is the Damerau-Levenshtein distance (optimal string
// alignment): insertions, deletions, substitutions and swaps of two
// neighbouring characters each cost 1, so "userNmae" is 1 from "userName".
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
