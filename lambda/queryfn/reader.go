package queryfn

import (
	"errors"
	"fmt"

	"github.com/rdsiam/rdsiam/lambda/iamdb"
	"github.com/rdsiam/rdsiam/lambda/rdstls"
)

// EnvReaderEndpoint names the cluster's reader endpoint host (no port; the
// port is DB_PORT's). Optional: when set, reads (whoami, list_items,
// get_item, count_items) go to a second pool on it and writes stay on
// DB_ENDPOINT. The CDK side (package stacks) sets it from this constant.
const EnvReaderEndpoint = "DB_READER_ENDPOINT"

// Endpoint roles reported by whoami.
const (
	EndpointWriter = "writer"
	EndpointReader = "reader"
)

// ReaderConfigFromEnv returns the connector configuration of the read
// pool: writer's, with Host set to DB_READER_ENDPOINT. ok is false when the
// variable is unset (reads then go to the writer). A host iamdb refuses is
// an error naming the variable. The caller sets TLS for the reader's host
// name if it set TLS for the writer's.
func ReaderConfigFromEnv(writer iamdb.Config, getenv func(string) string) (cfg iamdb.Config, ok bool, err error) {
	if getenv == nil {
		return iamdb.Config{}, false, errors.New("queryfn: ReaderConfigFromEnv needs a getenv function, e.g. os.Getenv")
	}
	host := getenv(EnvReaderEndpoint)
	if host == "" {
		return iamdb.Config{}, false, nil
	}
	cfg = writer
	cfg.Host = host
	cfg.TLS = nil
	for _, e := range joined(cfg.Validate()) {
		if fe, isField := errors.AsType[*iamdb.FieldError](e); isField && fe.Field == "Host" {
			return iamdb.Config{}, false, fmt.Errorf("queryfn: environment: %s=%q: %s", EnvReaderEndpoint, host, fe.Allowed)
		}
	}
	if host == writer.Host {
		return iamdb.Config{}, false, fmt.Errorf("queryfn: environment: %s=%q is %s's host; want the cluster's reader endpoint (unset it to read from the writer)",
			EnvReaderEndpoint, host, EnvEndpoint)
	}
	return cfg, true, nil
}

// openReader builds the read pool's connector from DB_READER_ENDPOINT, and
// returns its host; nil and "" when the variable is unset.
func openReader(writer iamdb.Config, opts ContainerOptions) (*iamdb.Connector, string, error) {
	cfg, ok, err := ReaderConfigFromEnv(writer, opts.Getenv)
	if err != nil || !ok {
		return nil, "", err
	}
	if opts.RootCAs != nil {
		if cfg.TLS, err = rdstls.Config(cfg.Host, opts.RootCAs); err != nil {
			return nil, "", err
		}
	}
	conn, err := iamdb.NewConnector(cfg)
	return conn, cfg.Host, err
}
