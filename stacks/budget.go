package stacks

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Aurora MySQL's max_connections, as the synth computes it to check the
// connection budget (ConnectionBudget.Check, from Config.Validate). Both tables are AWS's
// published defaults for the parameter group rdsiam creates (it does not
// set max_connections); between two rows the smaller figure is used, so the
// check errs on the side of refusing.

// serverlessMaxConnections is the Aurora User Guide's "Maximum connections
// for Aurora Serverless v2" table (Aurora MySQL column), by maximum ACU:
// Serverless v2 sizes max_connections from the *maximum* capacity, and the
// value is static (a change needs a reboot). Above 128 ACU the 128 row is
// used: a 256-ACU figure is not relied on here.
var serverlessMaxConnections = []capacityRow{
	{1, 90}, {4, 135}, {8, 1000}, {16, 2000}, {32, 3000}, {64, 4000}, {128, 5000},
}

// provisionedMaxConnections is the Aurora User Guide's "Maximum connections
// to an Aurora MySQL DB instance" table (db.t3/t4g.medium 90, .large 135;
// db.r5/r6g .large 1000 ... .24xlarge 7000), keyed by the instance class's
// memory in GiB: the default formula in the parameter group depends on
// memory only (DBInstanceClassMemory).
var provisionedMaxConnections = []capacityRow{
	{4, 90}, {8, 135}, {16, 1000}, {32, 2000}, {64, 3000}, {128, 4000}, {256, 5000}, {384, 6000}, {512, 6000}, {768, 7000},
}

// capacityRow maps a capacity (ACU, or GiB of memory) to max_connections.
type capacityRow struct {
	capacity float64
	conns    int
}

// lookup returns the figure of the largest row at or below capacity, and
// false when capacity is below the first row.
func lookup(rows []capacityRow, capacity float64) (int, bool) {
	conns, ok := 0, false
	for _, r := range rows {
		if capacity >= r.capacity {
			conns, ok = r.conns, true
		}
	}
	return conns, ok
}

// The memory of the Aurora MySQL instance classes the budget knows
// (InstanceMemoryGiB), from the Aurora User Guide's "Hardware specifications for
// DB instance classes": burstable classes come in medium (4 GiB) and large
// (8 GiB); memory-optimized r classes have 8 GiB per vCPU (large = 2 vCPU
// = 16 GiB), x2g 16 GiB per vCPU.
var (
	burstableMemoryGiB = map[string]float64{"medium": 4, "large": 8}
	rSizeVCPUs         = map[string]float64{
		"large": 2, "xlarge": 4, "2xlarge": 8, "4xlarge": 16, "8xlarge": 32,
		"12xlarge": 48, "16xlarge": 64, "24xlarge": 96, "32xlarge": 128,
	}
	memoryPerVCPU = map[string]float64{
		"r5": 8, "r6g": 8, "r6i": 8, "r7g": 8, "r7i": 8, "r8g": 8, "x2g": 16,
	}
	instanceClassParts = regexp.MustCompile(`^db\.([a-z0-9]+)\.([a-z0-9]+)$`)
)

// InstanceMemoryGiB returns the memory of an Aurora MySQL instance class,
// or an error naming the families and sizes it knows.
func InstanceMemoryGiB(class string) (float64, error) {
	m := instanceClassParts.FindStringSubmatch(class)
	if m != nil {
		family, size := m[1], m[2]
		if family == "t3" || family == "t4g" {
			if gib, ok := burstableMemoryGiB[size]; ok {
				return gib, nil
			}
		} else if per, ok := memoryPerVCPU[family]; ok {
			if vcpus, ok := rSizeVCPUs[size]; ok {
				return per * vcpus, nil
			}
		}
	}
	families := make([]string, 0, len(memoryPerVCPU))
	for f := range memoryPerVCPU {
		families = append(families, f)
	}
	sort.Strings(families)
	return 0, &ConfigError{Key: "instanceClass", Value: class,
		Reason:  "its memory, and so Aurora's max_connections, is not known to the connection budget",
		Allowed: "db.t3 or db.t4g .medium/.large, or db.<" + strings.Join(families, "|") + ">.large to .32xlarge"}
}

// AuroraMaxConnections returns the writer's default max_connections for c
// and where the figure comes from, for messages.
func AuroraMaxConnections(c Config) (int, string, error) {
	switch c.Writer {
	case WriterServerlessV2:
		n, ok := lookup(serverlessMaxConnections, c.MaxCapacity)
		if !ok {
			return 0, "", &ConfigError{Key: "maxCapacity", Value: c.MaxCapacity, Allowed: "at least 1 ACU"}
		}
		return n, fmt.Sprintf("Aurora Serverless v2 at maxCapacity %g ACU", c.MaxCapacity), nil
	case WriterProvisioned:
		gib, err := InstanceMemoryGiB(c.InstanceClass)
		if err != nil {
			return 0, "", err
		}
		n, _ := lookup(provisionedMaxConnections, gib)
		return n, fmt.Sprintf("instanceClass %s (%g GiB)", c.InstanceClass, gib), nil
	}
	return 0, "", &ConfigError{Key: "writer", Value: c.Writer, Allowed: fmt.Sprintf("%q or %q", WriterServerlessV2, WriterProvisioned)}
}

// FleetConnections is what one function can hold open at once: reserved
// concurrency containers, each with a pool of PerContainer connections.
type FleetConnections struct {
	// Name says which function, in messages.
	Name string
	// ReservedConcurrency and PerContainer, with the context keys that
	// set them.
	ReservedConcurrency, PerContainer int
	ConcurrencyKey, PerContainerKey   string
}

// ConnectionBudget is everything that shares the writer's max_connections.
type ConnectionBudget struct {
	// MaxConnections is Aurora's limit, and Source where it comes from.
	MaxConnections int
	Source         string
	// Fleets are the functions with a reserved concurrency.
	Fleets []FleetConnections
	// Provider is the database-user provider: one connection per
	// DatabaseUser resource, which CloudFormation may run at once.
	Provider int
	// Headroom is kept free for people and maintenance
	// (connectionHeadroom).
	Headroom int
	// Proxy is how many writer connections an RDS Proxy in front of the
	// writer may hold (its MaxConnectionsPercent of MaxConnections); 0
	// without a proxy. With a proxy the fleets' connections end at the
	// proxy, which multiplexes them onto these.
	Proxy int
}

// Demand is the most connections the stack can open, plus the headroom.
func (b ConnectionBudget) Demand() int {
	n := b.Provider + b.Headroom + b.Proxy
	for _, f := range b.Fleets {
		n += f.ReservedConcurrency * f.PerContainer
	}
	return n
}

// Check returns nil when Demand fits MaxConnections, and otherwise an
// error with the arithmetic and the keys that fix it.
func (b ConnectionBudget) Check() error {
	demand := b.Demand()
	if demand <= b.MaxConnections {
		return nil
	}
	terms := make([]string, 0, len(b.Fleets)+2)
	var fixes []string
	for _, f := range b.Fleets {
		terms = append(terms, fmt.Sprintf("%d x %d (%s: %s x %s)", f.ReservedConcurrency, f.PerContainer, f.Name, f.ConcurrencyKey, f.PerContainerKey))
		rest := b.MaxConnections - (demand - f.ReservedConcurrency*f.PerContainer)
		if rest >= f.PerContainer {
			fixes = append(fixes, fmt.Sprintf("%s at most %d", f.ConcurrencyKey, rest/f.PerContainer))
		}
		if f.ReservedConcurrency > 0 && rest >= f.ReservedConcurrency {
			fixes = append(fixes, fmt.Sprintf("%s at most %d", f.PerContainerKey, rest/f.ReservedConcurrency))
		}
	}
	if b.Proxy > 0 {
		terms = append(terms, fmt.Sprintf("%d (RDS Proxy pool)", b.Proxy))
	}
	if b.Provider > 0 {
		terms = append(terms, fmt.Sprintf("%d (database-user provider)", b.Provider))
	}
	terms = append(terms, fmt.Sprintf("%d (connectionHeadroom)", b.Headroom))
	fixes = append(fixes, "a lower connectionHeadroom", "a larger maxCapacity (serverless-v2) or instanceClass (provisioned)")
	return fmt.Errorf("connection budget: the stack can open %s = %d connections, more than max_connections %d of %s; set %s",
		strings.Join(terms, " + "), demand, b.MaxConnections, b.Source, strings.Join(fixes, ", or "))
}

// connectionBudget is c's budget: the query function's fleet, one
// user provider's connection for the one DatabaseUser, and the headroom.
func (c Config) connectionBudget() (ConnectionBudget, error) {
	max, source, err := AuroraMaxConnections(c)
	if err != nil {
		return ConnectionBudget{}, err
	}
	b := ConnectionBudget{
		MaxConnections: max,
		Source:         source,
		Fleets:         []FleetConnections{c.queryFleet()},
		Provider:       1,
		Headroom:       c.ConnectionHeadroom,
	}
	if c.Proxy {
		// The function's connections end at the proxy; the writer sees
		// only the proxy's pool, sized to leave the user provider and the
		// headroom their connections (ProxyMaxConnectionsPercent).
		pct, err := c.ProxyMaxConnectionsPercent()
		if err != nil {
			return ConnectionBudget{}, err
		}
		b.Fleets, b.Proxy = nil, max*pct/100
	}
	return b, nil
}

func (c Config) queryFleet() FleetConnections {
	return FleetConnections{
		Name:                "query function",
		ReservedConcurrency: c.FunctionReservedConcurrency,
		PerContainer:        c.MaxConnections,
		ConcurrencyKey:      "functionReservedConcurrency",
		PerContainerKey:     "maxConnections",
	}
}

// ProxyMaxConnectionsPercent is the share of the writer's max_connections
// the RDS Proxy may use: what is left after the user provider's connection and
// connectionHeadroom, rounded down. RDS's default, 100, would let a busy
// proxy take every connection and lock out people and the user provider.
func (c Config) ProxyMaxConnectionsPercent() (int, error) {
	max, source, err := AuroraMaxConnections(c)
	if err != nil {
		return 0, err
	}
	pct := 100 * (max - 1 - c.ConnectionHeadroom) / max
	if pct < 1 {
		return 0, &ConfigError{Key: "connectionHeadroom", Value: c.ConnectionHeadroom,
			Reason:  fmt.Sprintf("with proxy=true, max_connections %d of %s minus the user provider's connection and the headroom leaves the proxy less than 1%%", max, source),
			Allowed: fmt.Sprintf("at most %d", max*99/100-1)}
	}
	return min(pct, 100), nil
}

// readerBudget is what the query function may open on one reader instance
// when its reads go straight to the reader endpoint: in the worst case every
// container's read pool lands on the same reader, whose max_connections is
// the writer's (same class or capacity range).
func (c Config) readerBudget() (ConnectionBudget, error) {
	max, source, err := AuroraMaxConnections(c)
	if err != nil {
		return ConnectionBudget{}, err
	}
	return ConnectionBudget{MaxConnections: max, Source: source + ", each reader", Fleets: []FleetConnections{c.queryFleet()},
		Headroom: c.ConnectionHeadroom}, nil
}
