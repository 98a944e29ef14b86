package auroralocal

import (
	"fmt"
	"strings"

	"github.com/dolthub/vitess/go/mysql"
)

// DefaultReaderHost is ReaderOptions.Host's default.
const DefaultReaderHost = "reader.localhost"

// ErrNumReadOnly is MySQL's ER_OPTION_PREVENTS_STATEMENT, what an Aurora
// reader answers to a write.
const ErrNumReadOnly = 1290

// ReaderOptions makes the stand-in play the cluster's reader endpoint
// (Options.Reader): a second endpoint over the same data, reached with
// Server.Dial at ReaderHost():Port(), whose tokens are signed for that
// endpoint and authorized against the cluster's rds-db ARN (a reader is
// part of the cluster), and whose sessions are refused every write with
// error 1290, as a reader instance refuses them (read_only).
type ReaderOptions struct {
	// Host is the reader endpoint's host name. Default DefaultReaderHost.
	Host string
}

func (r *ReaderOptions) normalize(clusterHost string) error {
	if r.Host == "" {
		r.Host = DefaultReaderHost
	}
	if !hostPattern.MatchString(r.Host) || r.Host == clusterHost {
		return fmt.Errorf("auroralocal: Options.Reader.Host %q must be a host name other than the cluster endpoint %q", r.Host, clusterHost)
	}
	return nil
}

// ReaderHost returns the reader endpoint's host name ("" without one).
func (s *Server) ReaderHost() string { return s.reader.hostName() }

// ReaderEndpoint returns "ReaderHost():Port()", what tokens for the reader
// endpoint are signed for ("" without one).
func (s *Server) ReaderEndpoint() string { return s.reader.endpointName() }

// readOnlyWords are the statements a reader refuses: everything that
// changes data, schema, accounts or grants. Reads, SHOW, SET (session
// variables) and the like pass.
var readOnlyWords = map[string]bool{
	"INSERT": true, "UPDATE": true, "DELETE": true, "REPLACE": true, "CREATE": true, "DROP": true,
	"ALTER": true, "TRUNCATE": true, "RENAME": true, "GRANT": true, "REVOKE": true, "LOAD": true,
}

// refuseWrite returns error 1290 when c came through a read-only door and
// query changes something; nil otherwise.
func (h *connHandler) refuseWrite(c *mysql.Conn, query string) error {
	if h.s.reader == nil {
		return nil
	}
	d := h.s.doorOf(c.RemoteAddr())
	if d == nil || !d.readOnly || !readOnlyWords[firstWord(query)] {
		return nil
	}
	return mysql.NewSQLError(ErrNumReadOnly, "HY000",
		"The MySQL server is running with the --read-only option so it cannot execute this statement")
}

// firstWord is the statement's first keyword in upper case, after
// whitespace, comments and an opening parenthesis.
func firstWord(q string) string {
	for {
		q = strings.TrimLeft(q, " \t\r\n(")
		switch {
		case strings.HasPrefix(q, "/*"):
			end := strings.Index(q, "*/")
			if end < 0 {
				return ""
			}
			q = q[end+2:]
		case strings.HasPrefix(q, "#"), strings.HasPrefix(q, "-- "):
			end := strings.IndexByte(q, '\n')
			if end < 0 {
				return ""
			}
			q = q[end+1:]
		default:
			end := strings.IndexFunc(q, func(r rune) bool {
				return !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r == '_')
			})
			if end < 0 {
				end = len(q)
			}
			return strings.ToUpper(q[:end])
		}
	}
}
