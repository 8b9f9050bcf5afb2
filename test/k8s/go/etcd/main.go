// Command etcd is the etcd server, built from go.etcd.io/etcd/server/v3 as a
// plain dependency (etcd's own main module carries replace lines, so it cannot
// be `go install`ed). Used only by the test harness in ../../cluster.ts.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
