// rewrites/roman.go: roman.go written another way, for the checker.
//
// It behaves exactly as roman.go does, so the tests pass with it. The `tests`
// goal builds `--target test` with this file in place of roman.go and
// expects that build to pass: a test stage that looks at the source's text
// (a grep for a line of roman.go, a checksum) instead of running the tests
// refuses a correct program, and so misses the goal.
package main

import (
	"errors"
	"fmt"
	"strings"
)

var (
	romanValues  = [...]int{1000, 900, 500, 400, 100, 90, 50, 40, 10, 9, 5, 4, 1}
	romanSymbols = [...]string{"M", "CM", "D", "CD", "C", "XC", "L", "XL", "X", "IX", "V", "IV", "I"}
	symbolValues = map[rune]int{'I': 1, 'V': 5, 'X': 10, 'L': 50, 'C': 100, 'D': 500, 'M': 1000}
)

// ToRoman writes n (1 to 3999) as a Roman numeral, one place value at a time.
func ToRoman(n int) (string, error) {
	if !(1 <= n && n <= 3999) {
		return "", fmt.Errorf("%d is out of range: Roman numerals go from 1 to 3999", n)
	}
	parts := make([]string, 0, len(romanValues))
	for i, value := range romanValues {
		parts = append(parts, strings.Repeat(romanSymbols[i], n/value))
		n %= value
	}
	return strings.Join(parts, ""), nil
}

// FromRoman reads a numeral from right to left: a symbol smaller than the
// largest one to its right is subtracted. Only the standard form is accepted.
func FromRoman(numeral string) (int, error) {
	upper := strings.ToUpper(numeral)
	if len(upper) == 0 {
		return 0, errors.New("empty numeral")
	}
	runes := []rune(upper)
	total, largest := 0, 0
	for i := len(runes) - 1; i >= 0; i-- {
		value, ok := symbolValues[runes[i]]
		if !ok {
			return 0, fmt.Errorf("%q is not a Roman numeral: unexpected %q", upper, runes[i])
		}
		if value < largest {
			total -= value
		} else {
			total += value
			largest = value
		}
	}
	if canonical, err := ToRoman(total); err != nil || canonical != upper {
		return 0, fmt.Errorf("%q is not a Roman numeral in the standard form", upper)
	}
	return total, nil
}
