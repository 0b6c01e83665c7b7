// faults/off-by-one.go: roman.go with one planted bug, for the checker.
//
// The `tests` goal builds `--target test` once as it is, then once with each
// file in faults/ in place of roman.go; every one of those builds must fail,
// or the test stage is not really running the tests. Each fault breaks a
// different behaviour in a different place, so only running the tests
// catches them all. This one is an off-by-one in ToRoman (`n > num.value`
// where roman.go has `n >= num.value`): a symbol is never taken when it fits
// exactly, so 1 gives "" and 10 gives "IX".
// It compiles, and `go vet` finds nothing wrong with it: only a test sees it.
package main

import (
	"fmt"
	"strings"
)

// numerals lists every symbol and subtractive pair, largest first.
var numerals = []struct {
	value  int
	symbol string
}{
	{1000, "M"}, {900, "CM"}, {500, "D"}, {400, "CD"},
	{100, "C"}, {90, "XC"}, {50, "L"}, {40, "XL"},
	{10, "X"}, {9, "IX"}, {5, "V"}, {4, "IV"},
	{1, "I"},
}

// ToRoman writes n (1 to 3999) as a Roman numeral: 1987 -> MCMLXXXVII.
func ToRoman(n int) (string, error) {
	if n < 1 || n > 3999 {
		return "", fmt.Errorf("%d is out of range: Roman numerals go from 1 to 3999", n)
	}
	var b strings.Builder
	for _, num := range numerals {
		// Take the largest symbol that still fits, as often as it fits.
		for n > num.value {
			b.WriteString(num.symbol)
			n -= num.value
		}
	}
	return b.String(), nil
}

// FromRoman reads a Roman numeral in the standard form: MCMLXXXVII -> 1987.
// Lower case is accepted; forms such as IIII or IC are rejected.
func FromRoman(s string) (int, error) {
	s = strings.ToUpper(s)
	if s == "" {
		return 0, fmt.Errorf("empty numeral")
	}
	total := 0
	for i := 0; i < len(s); i++ {
		v := symbolValue(s[i])
		if v == 0 {
			return 0, fmt.Errorf("%q is not a Roman numeral: unexpected %q", s, s[i])
		}
		// A smaller symbol before a larger one is subtracted: IV = 5 - 1.
		if i+1 < len(s) && v < symbolValue(s[i+1]) {
			total -= v
		} else {
			total += v
		}
	}
	// Only the standard form writes back to the same text, so this rejects
	// IIII, VV, IC and the like.
	if back, err := ToRoman(total); err != nil || back != s {
		return 0, fmt.Errorf("%q is not a Roman numeral in the standard form", s)
	}
	return total, nil
}

func symbolValue(c byte) int {
	switch c {
	case 'I':
		return 1
	case 'V':
		return 5
	case 'X':
		return 10
	case 'L':
		return 50
	case 'C':
		return 100
	case 'D':
		return 500
	case 'M':
		return 1000
	}
	return 0
}
