package iamdb

// SessionTimeZone is the time_zone every connection of a Connector sets
// (one SET per new connection), so TIMESTAMPs read back in UTC whatever the
// cluster's parameter says. An RDS Proxy in front of the writer runs the
// same SET as its init query on each of its own database connections (see
// stacks.NewProxy), so the proxy can multiplex without pinning.
const SessionTimeZone = "'+00:00'"
