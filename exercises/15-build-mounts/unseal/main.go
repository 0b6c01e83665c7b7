// Command unseal decrypts the quotes for exercise 15. The build runs it once
// and copies only what it writes into the final image:
//
//	go run ./unseal -key FILE -in quotes.txt.enc -out /data/quotes.txt
//
// quotes.txt.enc is a licensed dataset, shipped encrypted with AES-256-GCM.
// Its first 12 bytes are the nonce; the rest is the ciphertext with GCM's
// tag at the end. The AES key is the SHA-256 of the key file's content,
// surrounding whitespace trimmed, so a trailing newline does not matter.
//
// The key file is a secret. The build needs it for this one step, and it
// must end up in no layer of any stage, in no exported build cache and in no
// history: see the exercise's README.
//
// Standard library only, so it builds without the module proxy.
package main

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	keyFile := flag.String("key", "", "the key file (a secret: mount it, never copy it)")
	in := flag.String("in", "quotes.txt.enc", "the encrypted file")
	out := flag.String("out", "", "where to write the plain text")
	flag.Parse()
	if *keyFile == "" || *out == "" {
		fail("usage: unseal -key FILE -in quotes.txt.enc -out FILE")
	}

	secret, err := os.ReadFile(*keyFile)
	if err != nil {
		// With `RUN --mount=type=secret,id=…` but no `--secret` given to the
		// build (and no required=true), the file is simply not there.
		fail("read the key: %v (was the build given --secret?)", err)
	}
	secret = bytes.TrimSpace(secret)
	if len(secret) == 0 {
		fail("the key file %s is empty", *keyFile)
	}
	key := sha256.Sum256(secret)

	sealed, err := os.ReadFile(*in)
	if err != nil {
		fail("read %v", err)
	}
	block, err := aes.NewCipher(key[:])
	if err != nil {
		fail("%v", err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		fail("%v", err)
	}
	if len(sealed) < gcm.NonceSize()+gcm.Overhead() {
		fail("%s is too short to be sealed", *in)
	}
	nonce, ciphertext := sealed[:gcm.NonceSize()], sealed[gcm.NonceSize():]
	plain, err := gcm.Open(nil, nonce, ciphertext, nil)
	if err != nil {
		fail("the key in %s does not open %s (%v)", *keyFile, *in, err)
	}

	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		fail("%v", err)
	}
	// 0644: the app reads it as an unprivileged user.
	if err := os.WriteFile(*out, plain, 0o644); err != nil {
		fail("%v", err)
	}
	fmt.Printf("unsealed %s into %s\n", *in, *out)
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "unseal: "+format+"\n", args...)
	os.Exit(1)
}
