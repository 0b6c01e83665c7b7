// Command server is the first program of exercise 10: a tiny HTTP service
// written with Go's standard library only (go.mod has no requires, so the
// build never needs the network).
//
//	GET /         -> 200 Hello from two programs built at once!
//	GET /healthz  -> 200 ok
//
// It listens on :8080 (override with the PORT environment variable) and
// shuts down cleanly on SIGTERM, which is what `docker stop` sends.
//
// It shares nothing with ../healthcheck but the standard library, so the two
// can be compiled in stages that do not wait for each other.
package main

import (
	"context"
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

	// What the healthcheck program (and the checker) ask for.
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
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("Hello from two programs built at once!\n"))
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
