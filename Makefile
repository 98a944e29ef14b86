# rdsiam: everything a newcomer or CI runs. `make synth` sets up and
# synthesizes into cdk.out; `make test` runs every test.
SHELL := /bin/bash

# The Makefile's helper (cmd/rdsiam-dev, no CDK dependency): the Node for
# this platform, the AWS credential pre-check, the Lambda builds and timed
# stages. Rebuilt when its sources change.
DEV := .build/bin/rdsiam-dev
# The CDK app, compiled by `make synth` as a timed stage and run by the CLI.
APP := .build/bin/rdsiam
# The pinned CDK CLI on the Node internal/jsiinode picks for this platform
# (the pinned npm package, else a supported machine Node, with a note),
# exported as JSII_NODE so the app's jsii runs on the same one.
CDK = node=$$($(DEV) node) && JSII_NODE="$$node" "$$node" $(CURDIR)/node_modules/aws-cdk/bin/cdk
# No AWS from here: the CLI must not phone home.
export CDK_DISABLE_CLI_TELEMETRY := true
export CDK_DISABLE_VERSION_CHECK := true

.PHONY: setup synth synth-fast app check-aws deploy diff destroy bootstrap test snapshots docs vet fuzz race bench local clean mariadb-plugin

setup: node_modules/.installed $(DEV)
	go mod download

$(DEV): go.mod $(wildcard cmd/rdsiam-dev/*.go internal/jsiinode/*.go internal/awsprecheck/*.go internal/lambdabuild/*.go internal/progress/*.go internal/modroot/*.go)
	go build -o $@ ./cmd/rdsiam-dev

# The go.mod marks node_modules as another module, so ./... skips the Go
# templates the CDK CLI ships.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	printf 'module node_modules\n' > node_modules/go.mod
	touch $@

# The app and the Lambda binaries compile at the same time (the Lambdas
# for linux/arm64 need none of the CDK packages); each is a timed stage.
# The first time compiles the Go CDK packages (BENCHMARKS.md: First run).
APP_HINT = $(if $(wildcard $(APP)),,first build: compiles the Go CDK packages$(COMMA) several minutes on 2 cores)
COMMA := ,
app: setup
	@$(DEV) lambdas & lambdas=$$!; \
	$(DEV) stage "compile the CDK app" "$(APP_HINT)" -- go build -o $(APP) . ; app=$$?; \
	wait $$lambdas && exit $$app

synth: app
	$(CDK) synth --quiet --no-notices --app $(APP) $(CDK_ARGS)

# A developer synth without CDK's built-in CloudFormation validation
# (CDK_VALIDATION=false; BENCHMARKS.md has what it saves). Only for the edit
# loop: make synth, deploy, diff and CI keep the validation on.
synth-fast: app
	export CDK_VALIDATION=false; $(CDK) synth --quiet --no-notices --app $(APP) $(CDK_ARGS)

# Deploy, diff and teardown need AWS credentials and a region: the
# pre-check says in one line what is missing, without calling AWS, before
# anything is compiled.
check-aws: $(DEV)
	@$(DEV) check-aws

deploy: check-aws app
	$(CDK) deploy --no-notices --app $(APP) $(CDK_ARGS)

diff: check-aws app
	$(CDK) diff --no-notices --app $(APP) $(CDK_ARGS)

# What destroy leaves behind and how to remove it: docs/deploy.md.
destroy: check-aws app
	$(CDK) destroy --no-notices --app $(APP) $(CDK_ARGS)

# Once per account and region, before the first deploy.
bootstrap: check-aws app
	$(CDK) bootstrap --no-notices --app $(APP) $(CDK_ARGS)

test: setup
	go test ./...

snapshots: setup
	UPDATE_SNAPSHOTS=1 go test ./test -run TestSnapshots

# docs/configuration.md's key table, generated from stacks/configkeys.go
# (a test fails while it differs).
docs:
	go test ./stacks -run TestConfigurationDocs -update  # README.md and docs/configuration.md

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
# it on a real MariaDB server instead (the real-engine lane, CONTRIBUTING.md).
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

# Our synth against the same stack written in JS CDK (bench/jstwin: its own
# npm install of aws-cdk-lib 2.275.0, ~180 MB, not part of make setup).
.PHONY: bench-twin
bench-twin: synth
	npm ci --prefix bench/jstwin --no-audit --no-fund
	printf 'module node_modules\n' > bench/jstwin/node_modules/go.mod
	bench/jstwin/compare.sh

# CI: every benchmark once with one iteration, to prove they still run.
.PHONY: bench-ci
bench-ci: setup
	go run ./bench/cmd/benchtable -quick

clean:
	rm -rf cdk.out .build
