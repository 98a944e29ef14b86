package queryfn

import "unicode/utf8"

// simpleKind is a parameter's value type for parseSimple.
type simpleKind int

const (
	simpleNone  simpleKind = iota
	simpleLimit            // into Request.Limit: an integer 1..MaxListLimit
	simpleID               // into Request.ID: an integer 1..maxID
	simpleName             // into Request.Name: a string checkName accepts
)

// actionList holds the keys of actionParams, so that parseSimple can
// return an action without allocating a string for it.
var actionList = func() []Action {
	as := make([]Action, 0, len(actionParams))
	for a := range actionParams {
		as = append(as, a)
	}
	return as
}()

// parseSimple is ParseRequest's fast path. It accepts only bodies in a
// plain subset of the request format: "action" before "params", strings
// without escapes, integers without sign, fraction or exponent, and every
// value valid. For those it returns exactly what parseRequestStrict would
// (FuzzParseRequest checks this). For anything else, valid or not, it
// reports false and the caller parses again with parseRequestStrict, which
// is what decides every error.
func parseSimple(body []byte) (Request, bool) {
	if len(body) > MaxRequestBytes || !utf8.Valid(body) {
		return Request{}, false
	}
	l := lexer{b: body}
	if !l.next('{') {
		return Request{}, false
	}
	var (
		r                    Request
		params               []param
		sawAction, sawParams bool
		given                uint // bit i: params[i] was given
		required             uint // bit i: params[i] is required
	)
	for {
		key, ok := l.str()
		if !ok || !l.next(':') {
			return Request{}, false
		}
		switch string(key) {
		case "action":
			if sawAction {
				return Request{}, false
			}
			sawAction = true
			name, ok := l.str()
			if !ok {
				return Request{}, false
			}
			for _, a := range actionList {
				if string(a) == string(name) {
					r.Action = a
				}
			}
			if r.Action == "" {
				return Request{}, false
			}
			params = actionParams[r.Action]
			if len(params) > 8 {
				return Request{}, false // more than the masks below can hold
			}
			for i, p := range params {
				if p.required {
					required |= 1 << i
				}
			}
		case "params":
			// params must come second, so that its members can be
			// checked against the action's as they are read.
			if !sawAction || sawParams {
				return Request{}, false
			}
			sawParams = true
			if l.literal("null") {
				break
			}
			if !l.next('{') {
				return Request{}, false
			}
			if l.next('}') {
				break
			}
			for {
				key, ok := l.str()
				if !ok || !l.next(':') {
					return Request{}, false
				}
				i := 0
				for i < len(params) && params[i].name != string(key) {
					i++
				}
				if i == len(params) || given&(1<<i) != 0 {
					return Request{}, false
				}
				switch params[i].simple {
				case simpleLimit:
					n, ok := l.positiveInt()
					if !ok || n > MaxListLimit {
						return Request{}, false
					}
					r.Limit = int(n)
				case simpleID:
					n, ok := l.positiveInt()
					if !ok {
						return Request{}, false
					}
					r.ID = n
				case simpleName:
					s, ok := l.str()
					if !ok {
						return Request{}, false
					}
					r.Name = string(s)
					if checkName(r.Name) != nil {
						return Request{}, false
					}
				default:
					return Request{}, false
				}
				given |= 1 << i
				if l.next(',') {
					continue
				}
				if l.next('}') {
					break
				}
				return Request{}, false
			}
		default:
			return Request{}, false
		}
		if l.next(',') {
			continue
		}
		if l.next('}') {
			break
		}
		return Request{}, false
	}
	l.space()
	if l.i != len(l.b) || !sawAction || given&required != required {
		return Request{}, false
	}
	if r.Action == ActionListItems && given == 0 {
		r.Limit = DefaultListLimit
	}
	if r.Validate() != nil {
		return Request{}, false
	}
	return r, true
}

// lexer reads the plain JSON subset parseSimple accepts. Its methods skip
// JSON whitespace before what they read, and report false, without
// consuming anything meaningful, for anything outside the subset.
type lexer struct {
	b []byte
	i int
}

// space skips JSON whitespace.
func (l *lexer) space() {
	for l.i < len(l.b) {
		switch l.b[l.i] {
		case ' ', '\t', '\r', '\n':
			l.i++
		default:
			return
		}
	}
}

// next consumes c if it is the next token.
func (l *lexer) next(c byte) bool {
	l.space()
	if l.i < len(l.b) && l.b[l.i] == c {
		l.i++
		return true
	}
	return false
}

// literal consumes lit (null) if it is the next token. The caller's next
// token check refuses anything glued to it, as in "nullx".
func (l *lexer) literal(lit string) bool {
	l.space()
	if len(l.b)-l.i >= len(lit) && string(l.b[l.i:l.i+len(lit)]) == lit {
		l.i += len(lit)
		return true
	}
	return false
}

// str reads a string literal with no escape sequence and no control
// character, and returns its contents, which are then exactly its value.
func (l *lexer) str() ([]byte, bool) {
	l.space()
	if l.i >= len(l.b) || l.b[l.i] != '"' {
		return nil, false
	}
	start := l.i + 1
	for j := start; j < len(l.b); j++ {
		switch c := l.b[j]; {
		case c == '"':
			l.i = j + 1
			return l.b[start:j], true
		case c == '\\' || c < 0x20:
			return nil, false
		}
	}
	return nil, false
}

// positiveInt reads an integer literal 1..maxID with no sign, leading zero,
// fraction or exponent, followed by whitespace, ',' or '}'.
func (l *lexer) positiveInt() (int64, bool) {
	l.space()
	start, j := l.i, l.i
	var n int64
	for ; j < len(l.b) && '0' <= l.b[j] && l.b[j] <= '9'; j++ {
		d := int64(l.b[j] - '0')
		if n > (maxID-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	if j == start || l.b[start] == '0' || j == len(l.b) {
		return 0, false
	}
	switch l.b[j] {
	case ' ', '\t', '\r', '\n', ',', '}':
	default:
		return 0, false
	}
	l.i = j
	return n, true
}
