// Command slugs is the app for exercise 07: a tiny HTTP service that turns
// titles into URL slugs with the module example.com/slugify.
//
//	GET /slug/<title>  -> 200 the slug, e.g. /slug/Build%20Fat,%20Ship%20Thin! -> build-fat-ship-thin
//	GET /healthz       -> 200 ok
//	GET /              -> 200 {"service":"slugs","try":"/slug/Hello, World!"}
//
// go.mod requires example.com/slugify v1.3.0 and go.sum pins its hashes.
// `go mod download` fetches it from goproxy/, a module proxy in a folder that
// stands in for proxy.golang.org (the build has no network).
//
// It listens on :8080 (override with the PORT environment variable) and
// shuts down cleanly on SIGTERM, which is what `docker stop` sends. Built
// with CGO_ENABLED=0 it is a static binary that runs `FROM scratch`.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"log"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"example.com/slugify"
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

	// Everything after /slug/ is the title; Go has already decoded %20 and
	// friends in r.URL.Path.
	mux.HandleFunc("/slug/", func(w http.ResponseWriter, r *http.Request) {
		slug := slugify.Make(strings.TrimPrefix(r.URL.Path, "/slug/"))
		if slug == "" {
			http.Error(w, "the title has no letters or digits", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte(slug + "\n"))
	})

	// "/" matches every path in a ServeMux, so answer 404 for anything else.
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{
			"service": "slugs",
			"try":     "/slug/Hello, World!",
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
