// Command greeter is the app for exercise 02: a tiny HTTP API written with
// Go's standard library only (no third-party modules, so go.mod has no
// requires and the build never needs the network).
//
//	GET /         -> 200 {"message":"Hello from a thin image!","hostname":"..."}
//	GET /healthz  -> 200 ok
//
// It listens on :8080 (override with the PORT environment variable) and
// shuts down cleanly on SIGTERM, which is what `docker stop` sends.
//
// Built with CGO_ENABLED=0 it is a fully static binary that needs no libc,
// no shell and no Go toolchain at run time, so it can ship `FROM scratch`.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}

	mux := http.NewServeMux()

	// Liveness probe: plain text, so `curl` and health checks are easy to read.
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})

	// "/" matches every path in a ServeMux, so answer 404 for anything else.
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		// In a container the hostname is the container's short id.
		host, _ := os.Hostname()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{
			"message":  "Hello from a thin image!",
			"hostname": host,
		})
	})

	srv := &http.Server{
		Addr:              ":" + port,
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
	}

	// ctx is cancelled when the process gets SIGTERM (docker stop) or
	// SIGINT (Ctrl-C in `docker run -it`).
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	go func() {
		log.Printf("listening on %s", srv.Addr)
		if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Fatalf("listen: %v", err)
		}
	}()

	<-ctx.Done()
	log.Print("shutting down")

	// Give in-flight requests a few seconds to finish, well inside
	// docker stop's default 10 s grace period.
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		log.Printf("shutdown: %v", err)
		os.Exit(1)
	}
}
