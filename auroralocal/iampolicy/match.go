package iampolicy

import "unicode/utf8"

// Match reports whether value matches pattern using IAM's wildcard rules,
// comparing case-sensitively as IAM does for resource ARNs.
//
// '*' matches any run of characters, including none and including ':' and
// '/' (so "arn:aws:rds-db:*" spans region, account and path). '?' matches
// exactly one character (one UTF-8 encoded rune; an invalid byte counts as
// one character). Every other byte matches only itself; IAM has no escape
// syntax, so a pattern without '*' or '?' matches only the identical string.
func Match(pattern, value string) bool {
	return match(pattern, value, false)
}

// MatchFold is Match with ASCII letters compared case-insensitively, as IAM
// compares action names ("RDS-DB:Connect" matches "rds-db:connect").
// Non-ASCII characters still compare exactly: IAM action names are ASCII,
// and Unicode folding would make distinct byte strings equal.
func MatchFold(pattern, value string) bool {
	return match(pattern, value, true)
}

// match is a linear-space glob matcher. On a mismatch it backtracks only to
// the most recent '*', letting that star absorb one more character; earlier
// stars never need revisiting because a later star can absorb anything an
// earlier one could. Worst case is O(len(pattern)*len(value)): harmless at
// IAM's sizes (policies up to 10,240 characters, ARNs up to 2,048).
func match(pattern, value string, fold bool) bool {
	px, vx := 0, 0
	starPx, starVx := -1, 0 // position just after the last '*', and where its absorption ends
	for px < len(pattern) || vx < len(value) {
		if px < len(pattern) {
			switch pattern[px] {
			case '*':
				px++
				starPx, starVx = px, vx
				continue
			case '?':
				if vx < len(value) {
					_, w := utf8.DecodeRuneInString(value[vx:])
					px++
					vx += w
					continue
				}
			default:
				// Compare one whole pattern rune at a time so '?' after a
				// literal starts on the same rune boundary in both strings.
				_, w := utf8.DecodeRuneInString(pattern[px:])
				if vx+w <= len(value) && sameBytes(pattern[px:px+w], value[vx:vx+w], fold) {
					px += w
					vx += w
					continue
				}
			}
		}
		// Mismatch (or one side exhausted): let the last star absorb one
		// more rune of value and retry from just after it.
		if starPx >= 0 && starVx < len(value) {
			_, w := utf8.DecodeRuneInString(value[starVx:])
			starVx += w
			px, vx = starPx, starVx
			continue
		}
		return false
	}
	return true
}

// sameBytes compares a and b (equal length) exactly, or with ASCII letters
// folded to lower case when fold is set.
func sameBytes(a, b string, fold bool) bool {
	if !fold {
		return a == b
	}
	for i := 0; i < len(a); i++ {
		if asciiLower(a[i]) != asciiLower(b[i]) {
			return false
		}
	}
	return true
}

func asciiLower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
}
