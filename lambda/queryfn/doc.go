// Package queryfn is the request handler of the query Lambda: it parses a
// small JSON request language, runs the matching constant, parameterised
// SQL statement on a connection pool and returns a JSON-ready [Response].
//
// Requests look like {"action": "get_item", "params": {"id": 7}}; see
// [ParseRequest] for the actions and their parameters. All SQL text is
// fixed in this package; request values only ever travel as placeholder
// arguments.
package queryfn
