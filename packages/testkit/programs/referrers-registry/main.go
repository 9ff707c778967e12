// A registry that serves the OCI 1.1 referrers API, for the real tier: go-containerregistry's registry
// (pkg/registry) with WithReferrersSupport, which `crane registry serve` does not switch on. Listens on
// 127.0.0.1 (a free port unless -address names one) and prints the port on stdout, then serves until killed.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
)

func main() {
	address := flag.String("address", "127.0.0.1:0", "address to listen on")
	flag.Parse()
	listener, err := net.Listen("tcp", *address)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintln(os.Stdout, listener.Addr().(*net.TCPAddr).Port)
	server := &http.Server{
		ReadHeaderTimeout: 5 * time.Second,
		Handler:           registry.New(registry.WithReferrersSupport(true), registry.Logger(log.New(os.Stderr, "", log.LstdFlags))),
	}
	log.Fatal(server.Serve(listener))
}
