// worldclock prints three things a program usually takes from its operating system, and
// fails when any of them is missing: the trusted CA certificates (what an HTTPS client
// verifies servers with), a time zone's rules (what a meeting time in Paris needs), and
// the name of the user it runs as (what a log line or a file owner shows).
//
// Standard library only, so the build downloads nothing. It deliberately does not embed
// the time zone database (`import _ "time/tzdata"`): it reads what the image provides.
package main

import (
	"crypto/x509"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"time"
)

func main() {
	ok := true

	// Go reads the system's bundle (/etc/ssl/certs/ca-certificates.crt on Debian); an
	// image without one gives an empty pool, and every HTTPS call would fail.
	pool, err := x509.SystemCertPool()
	switch {
	case err != nil:
		fmt.Printf("certificates: MISSING (%v)\n", err)
		ok = false
	case len(pool.Subjects()) == 0:
		fmt.Println("certificates: MISSING (no CA certificates in /etc/ssl/certs)")
		ok = false
	default:
		fmt.Printf("certificates: %d trusted CAs\n", len(pool.Subjects()))
	}

	// A fixed instant, so the output is the same every run.
	instant := time.Date(2024, time.July, 26, 17, 30, 0, 0, time.UTC)
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		fmt.Printf("time zone: MISSING (%v)\n", err)
		ok = false
	} else {
		fmt.Printf("time zone: %s is %s in Europe/Paris\n",
			instant.Format("15:04 MST"), instant.In(paris).Format("15:04 MST"))
	}

	// With CGO_ENABLED=0, os/user reads /etc/passwd itself.
	uid := strconv.Itoa(os.Getuid())
	u, err := user.LookupId(uid)
	if err != nil {
		fmt.Printf("user: MISSING (uid %s: %v)\n", uid, err)
		ok = false
	} else {
		fmt.Printf("user: uid %s is %s\n", uid, u.Username)
	}

	if !ok {
		os.Exit(1)
	}
}
