package stacks

import (
	"strings"
	"testing"
)

func TestScaleContextKeys(t *testing.T) {
	for _, tc := range []struct {
		name    string
		ctx     map[string]any
		proxy   bool
		readers int
		wantErr string
	}{
		{"defaults", nil, false, 0, ""},
		{"from -c strings", map[string]any{"proxy": "true", "readers": "2"}, true, 2, ""},
		{"from cdk.json", map[string]any{"proxy": true, "readers": float64(1)}, true, 1, ""},
		{"readers not a number", map[string]any{"readers": "two"}, false, 0, `"readers"`},
		{"too many readers", map[string]any{"readers": "16"}, false, 0, `"readers"`},
		{"proxy not a bool", map[string]any{"proxy": "yes please"}, false, 0, `"proxy"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ConfigFromContext(func(k string) any { return tc.ctx[k] })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil || c.Proxy != tc.proxy || c.Readers != tc.readers {
				t.Fatalf("proxy %v readers %d err %v; want %v %d", c.Proxy, c.Readers, err, tc.proxy, tc.readers)
			}
		})
	}
}

// TestProxyRefusesAutoPause: a proxy keeps a Serverless v2 writer from
// pausing, so proxy with minCapacity 0 is refused. Validate still refuses
// minCapacity 0 on its own until auto-pause support lands, so the rule is
// checked where it lives.
func TestProxyRefusesAutoPause(t *testing.T) {
	c := DefaultConfig()
	c.Proxy, c.MinCapacity = true, 0
	if err := c.validateScale(); err == nil || !strings.Contains(err.Error(), `"proxy"`) || !strings.Contains(err.Error(), "auto-pause") {
		t.Errorf("proxy with minCapacity 0: %v, want a refusal naming proxy and auto-pause", err)
	}
	for _, ok := range []func(*Config){
		func(c *Config) { c.Proxy = false },                                               // no proxy: may pause
		func(c *Config) { c.MinCapacity = 0.5 },                                           // does not pause
		func(c *Config) { c.Writer, c.InstanceClass = WriterProvisioned, "db.r6g.large" }, // provisioned
	} {
		c := DefaultConfig()
		c.Proxy, c.MinCapacity = true, 0
		ok(&c)
		if err := c.validateScale(); err != nil {
			t.Errorf("%+v: %v", c, err)
		}
	}
}
