// Command healthcheck is the second program of exercise 10. It asks the
// server in the same container for /healthz and exits 0 if the answer is
// 200, 1 otherwise: exactly what Docker's HEALTHCHECK needs.
//
//	$ /healthcheck
//	healthy: http://127.0.0.1:8080/healthz answered 200 OK
//
// A `FROM scratch` image has no curl, no wget and no shell, so the usual
// `HEALTHCHECK CMD curl -f http://localhost:8080/healthz` cannot work there.
// A small static binary of our own can. It uses the PORT environment
// variable like the server (default 8080), or the URL given as its argument.
//
// It shares nothing with ../server but the standard library, so the two can
// be compiled in stages that do not wait for each other.
package main

import (
	"fmt"
	"net/http"
	"os"
	"time"
)

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	url := "http://127.0.0.1:" + port + "/healthz"
	if len(os.Args) > 1 {
		url = os.Args[1]
	}

	// Docker kills a health check that runs past --timeout; fail first, and
	// say why.
	client := &http.Client{Timeout: 2 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		fmt.Fprintf(os.Stderr, "unhealthy: %v\n", err)
		os.Exit(1)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(os.Stderr, "unhealthy: %s answered %s\n", url, resp.Status)
		os.Exit(1)
	}
	fmt.Printf("healthy: %s answered %s\n", url, resp.Status)
}
