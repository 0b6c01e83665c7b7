// The unit tests for roman.go. `go test` runs them; the test stage of the
// Dockerfile is where they run during the image build.
package main

import "testing"

// Known pairs, including every subtractive pair and both ends of the range.
var known = []struct {
	n       int
	numeral string
}{
	{1, "I"}, {2, "II"}, {3, "III"}, {4, "IV"}, {5, "V"},
	{9, "IX"}, {10, "X"}, {14, "XIV"}, {40, "XL"}, {44, "XLIV"},
	{90, "XC"}, {400, "CD"}, {900, "CM"}, {1987, "MCMLXXXVII"},
	{2024, "MMXXIV"}, {3888, "MMMDCCCLXXXVIII"}, {3999, "MMMCMXCIX"},
}

func TestToRoman(t *testing.T) {
	for _, k := range known {
		got, err := ToRoman(k.n)
		if err != nil || got != k.numeral {
			t.Errorf("ToRoman(%d) = %q, %v; want %q", k.n, got, err, k.numeral)
		}
	}
}

func TestFromRoman(t *testing.T) {
	for _, k := range known {
		got, err := FromRoman(k.numeral)
		if err != nil || got != k.n {
			t.Errorf("FromRoman(%q) = %d, %v; want %d", k.numeral, got, err, k.n)
		}
	}
	if got, err := FromRoman("mcmlxxxvii"); err != nil || got != 1987 {
		t.Errorf("FromRoman(lower case) = %d, %v; want 1987", got, err)
	}
}

func TestOutOfRange(t *testing.T) {
	for _, n := range []int{-1, 0, 4000} {
		if got, err := ToRoman(n); err == nil {
			t.Errorf("ToRoman(%d) = %q; want an error", n, got)
		}
	}
}

func TestNotStandardForm(t *testing.T) {
	for _, s := range []string{"", "IIII", "VV", "IC", "XM", "MMMM", "ABC", "X I"} {
		if got, err := FromRoman(s); err == nil {
			t.Errorf("FromRoman(%q) = %d; want an error", s, got)
		}
	}
}

// Every number survives the round trip, and no two numbers share a numeral.
func TestRoundTrip(t *testing.T) {
	seen := map[string]int{}
	for n := 1; n <= 3999; n++ {
		s, err := ToRoman(n)
		if err != nil {
			t.Fatalf("ToRoman(%d): %v", n, err)
		}
		if other, dup := seen[s]; dup {
			t.Fatalf("ToRoman(%d) = ToRoman(%d) = %q", n, other, s)
		}
		seen[s] = n
		if back, err := FromRoman(s); err != nil || back != n {
			t.Fatalf("FromRoman(ToRoman(%d)) = %d, %v", n, back, err)
		}
	}
}

func TestConvert(t *testing.T) {
	for in, want := range map[string]string{"1987": "MCMLXXXVII", "MMXXIV": "2024", "iv": "4"} {
		if got, err := convert(in); err != nil || got != want {
			t.Errorf("convert(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"0", "4000", "-5", "hello"} {
		if got, err := convert(in); err == nil {
			t.Errorf("convert(%q) = %q; want an error", in, got)
		}
	}
}
