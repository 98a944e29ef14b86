package auroralocal

import (
	"errors"
	"fmt"
	"strings"
)

// GMS's parser rejects ALTER USER ... REQUIRE, which rdsiam's user SQL
// uses to force TLS for IAM users, so this file recognizes that one
// statement form itself:
//
//	ALTER USER [IF EXISTS] account [, account ...] REQUIRE {SSL | NONE} [;]
//	account: name[@host], each part `backticked`, 'single', "double"
//	         quoted or a bare identifier; a missing host means '%'
//
// Only whitespace may separate tokens (no comments). Any other ALTER USER
// form is left to GMS.

// accountName is one user@host.
type accountName struct {
	Name, Host string
}

// String renders the account the way MySQL error messages do.
func (a accountName) String() string { return fmt.Sprintf("'%s'@'%s'", a.Name, a.Host) }

// alterUserRequire is a parsed ALTER USER ... REQUIRE statement.
type alterUserRequire struct {
	IfExists   bool
	Accounts   []accountName
	RequireSSL bool // false means REQUIRE NONE
}

// errUnsupportedRequire marks REQUIRE X509/CIPHER/ISSUER/SUBJECT.
var errUnsupportedRequire = errors.New("unsupported REQUIRE option")

// parseAlterUserRequire reports matched=false when query is not an
// ALTER USER ... REQUIRE statement (GMS should handle it). When matched, err
// is a syntax error (wrapping nothing) or errUnsupportedRequire, and rest is
// the text after the statement's terminating ';' ("" if none), for
// multi-statement queries.
func parseAlterUserRequire(query string) (stmt alterUserRequire, rest string, matched bool, err error) {
	sc := &scanner{src: query}
	if !sc.keyword("ALTER") || !sc.keyword("USER") {
		return stmt, "", false, nil
	}
	if sc.keyword("IF") {
		if !sc.keyword("EXISTS") {
			return stmt, "", false, nil
		}
		stmt.IfExists = true
	}
	for {
		acct, ok := sc.account()
		if !ok {
			return stmt, "", false, nil
		}
		stmt.Accounts = append(stmt.Accounts, acct)
		if !sc.symbol(',') {
			break
		}
	}
	if !sc.keyword("REQUIRE") {
		return stmt, "", false, nil // e.g. ALTER USER x IDENTIFIED WITH ...: GMS's job
	}
	switch {
	case sc.keyword("SSL"):
		stmt.RequireSSL = true
	case sc.keyword("NONE"):
	case sc.keyword("X509"), sc.keyword("CIPHER"), sc.keyword("ISSUER"), sc.keyword("SUBJECT"):
		return stmt, "", true, fmt.Errorf("%w: only REQUIRE SSL and REQUIRE NONE are emulated", errUnsupportedRequire)
	default:
		return stmt, "", true, fmt.Errorf("syntax error near %s: want SSL or NONE after REQUIRE", sc.near())
	}
	sc.skipSpace()
	if sc.pos == len(sc.src) {
		return stmt, "", true, nil
	}
	if sc.symbol(';') {
		return stmt, sc.src[sc.pos:], true, nil
	}
	return stmt, "", true, fmt.Errorf("syntax error near %s: want end of statement after REQUIRE option", sc.near())
}

// startsWithKeywords reports whether query begins with the words kws
// (case-insensitive, whitespace-separated).
func startsWithKeywords(query string, kws ...string) bool {
	sc := &scanner{src: query}
	for _, kw := range kws {
		if !sc.keyword(kw) {
			return false
		}
	}
	return true
}

// scanner is a minimal MySQL tokenizer for parseAlterUserRequire.
type scanner struct {
	src string
	pos int
}

func (s *scanner) skipSpace() {
	for s.pos < len(s.src) && strings.IndexByte(" \t\r\n\f\v", s.src[s.pos]) >= 0 {
		s.pos++
	}
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '$' || ('0' <= c && c <= '9') || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || c >= 0x80
}

// keyword consumes kw (case-insensitive) if it is the next whole word.
func (s *scanner) keyword(kw string) bool {
	s.skipSpace()
	end := s.pos + len(kw)
	if end > len(s.src) || !strings.EqualFold(s.src[s.pos:end], kw) {
		return false
	}
	if end < len(s.src) && isIdentByte(s.src[end]) {
		return false
	}
	s.pos = end
	return true
}

// symbol consumes the single byte c if it is next.
func (s *scanner) symbol(c byte) bool {
	s.skipSpace()
	if s.pos < len(s.src) && s.src[s.pos] == c {
		s.pos++
		return true
	}
	return false
}

// account consumes name[@host].
func (s *scanner) account() (accountName, bool) {
	name, ok := s.namePart()
	if !ok {
		return accountName{}, false
	}
	acct := accountName{Name: name, Host: "%"}
	// No whitespace is allowed before '@' in MySQL, but after it is.
	if s.pos < len(s.src) && s.src[s.pos] == '@' {
		s.pos++
		host, ok := s.namePart()
		if !ok {
			return accountName{}, false
		}
		if host != "" {
			acct.Host = host
		}
	}
	return acct, true
}

// namePart consumes a quoted string/identifier or a bare identifier.
func (s *scanner) namePart() (string, bool) {
	s.skipSpace()
	if s.pos >= len(s.src) {
		return "", false
	}
	switch q := s.src[s.pos]; q {
	case '`', '\'', '"':
		return s.quoted(q)
	}
	start := s.pos
	for s.pos < len(s.src) && isIdentByte(s.src[s.pos]) {
		s.pos++
	}
	if s.pos == start {
		return "", false
	}
	return s.src[start:s.pos], true
}

// quoted consumes a string delimited by q, where a doubled q stands for one
// q; inside ' and " a backslash escapes the next byte.
func (s *scanner) quoted(q byte) (string, bool) {
	var b strings.Builder
	i := s.pos + 1
	for i < len(s.src) {
		c := s.src[i]
		switch {
		case c == '\\' && q != '`' && i+1 < len(s.src):
			b.WriteByte(s.src[i+1])
			i += 2
		case c == q && i+1 < len(s.src) && s.src[i+1] == q:
			b.WriteByte(q)
			i += 2
		case c == q:
			s.pos = i + 1
			return b.String(), true
		default:
			b.WriteByte(c)
			i++
		}
	}
	return "", false // unterminated
}

// near quotes up to 20 bytes at the current position for syntax errors.
func (s *scanner) near() string {
	rest := s.src[s.pos:]
	if len(rest) > 20 {
		rest = rest[:20]
	}
	return fmt.Sprintf("%q", rest)
}
