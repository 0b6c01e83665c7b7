// Command roman is the app for exercise 06: it converts numbers to Roman
// numerals and back, one argument per line of output.
//
//	$ roman 1987 MMXXIV
//	MCMLXXXVII
//	2024
//
// An argument made of digits is a number to write as a numeral; anything
// else is a numeral to read. It exits 0 when every argument converts, 1 when
// one does not (with the reason on stderr), and 2 with no arguments.
//
// The conversions live in roman.go and are tested by roman_test.go. The
// program uses only the standard library and no cgo, so it is a fully
// static binary that runs `FROM scratch`.
package main

import (
	"fmt"
	"os"
	"strconv"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: roman NUMBER|NUMERAL...   (e.g. roman 1987 MMXXIV)")
		os.Exit(2)
	}
	status := 0
	for _, arg := range os.Args[1:] {
		out, err := convert(arg)
		if err != nil {
			fmt.Fprintln(os.Stderr, "roman:", err)
			status = 1
			continue
		}
		fmt.Println(out)
	}
	os.Exit(status)
}

// convert turns "1987" into "MCMLXXXVII" and "MCMLXXXVII" into "1987".
func convert(arg string) (string, error) {
	if n, err := strconv.Atoi(arg); err == nil {
		return ToRoman(n)
	}
	n, err := FromRoman(arg)
	if err != nil {
		return "", err
	}
	return strconv.Itoa(n), nil
}
