// Command quotes is the app for exercise 15: a tiny HTTP service that turns
// titles into URL slugs with the module example.com/slugify, and serves a
// quote from a licensed dataset that the build decrypts.
//
//	GET /quote         -> 200 the first line of /data/quotes.txt
//	GET /slug/<title>  -> 200 the slug, e.g. /slug/Build%20Fat,%20Ship%20Thin! -> build-fat-ship-thin
//	GET /healthz       -> 200 ok
//	GET /              -> 200 {"service":"quotes","try":"/quote"}
//
// go.mod requires example.com/slugify v1.3.0 and go.sum pins its hashes. The
// go command fetches it from goproxy/, a module proxy in a folder that stands
// in for proxy.golang.org (the build has no network).
//
// /data/quotes.txt is not in this folder: the build makes it from
// quotes.txt.enc with ./unseal and a key it gets as a secret.
//
// It listens on :8080 (override with the PORT environment variable) and
// shuts down cleanly on SIGTERM, which is what `docker stop` sends. Built
// with CGO_ENABLED=0 it is a static binary that runs `FROM scratch`.
package main

import (
	"bufio"
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

// quotesFile is where the build puts the decrypted quotes.
const quotesFile = "/data/quotes.txt"

// firstLine reads the first line of a file, without its newline.
func firstLine(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	if !s.Scan() {
		if err := s.Err(); err != nil {
			return "", err
		}
		return "", errors.New(path + " is empty")
	}
	return s.Text(), nil
}

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

	// The quote of the day: the first line of the decrypted dataset. The file
	// is read on every request, so a missing one shows at once and says why.
	mux.HandleFunc("/quote", func(w http.ResponseWriter, r *http.Request) {
		quote, err := firstLine(quotesFile)
		if err != nil {
			log.Printf("quote: %v", err)
			http.Error(w, "no quotes: "+err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte(quote + "\n"))
	})

	// "/" matches every path in a ServeMux, so answer 404 for anything else.
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{
			"service": "quotes",
			"try":     "/quote",
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
