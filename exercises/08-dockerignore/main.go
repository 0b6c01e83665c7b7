// Command site is the app for exercise 08: a tiny web server, written with
// Go's standard library only (go.mod has no requires, so the build never
// needs the network), that serves the files in public/.
//
//	GET /           -> 200 public/index.html
//	GET /style.css  -> 200 public/style.css
//	GET /healthz    -> 200 ok
//
// It serves public/ from its working directory (override with SITE_DIR),
// listens on :8080 (override with PORT) and shuts down cleanly on SIGTERM,
// which is what `docker stop` sends.
//
// It needs nothing else at run time: not package.json, not node_modules/
// (the front-end's development tools) and certainly not .env.
package main

import (
	"context"
	"errors"
	"log"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	dir := os.Getenv("SITE_DIR")
	if dir == "" {
		dir = "public"
	}

	// Fail at start-up, with the reason, rather than answer 404 for ever:
	// a .dockerignore that leaves out public/ lands here.
	if _, err := os.Stat(filepath.Join(dir, "index.html")); err != nil {
		log.Fatalf("nothing to serve: %v", err)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	mux.Handle("/", http.FileServer(http.Dir(dir)))

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
		log.Printf("serving %s on %s", dir, srv.Addr)
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
