package rdstls

import (
	"crypto/x509"
	_ "embed" // for the //go:embed of global-bundle.pem
	"encoding/pem"
	"errors"
	"fmt"
	"sync"
)

// globalBundle is the PEM file of Amazon RDS CA certificates. Lines outside
// the BEGIN/END markers are comments written by the generator script.
//
//go:embed global-bundle.pem
var globalBundle []byte

// rootCAs parses the embedded bundle on first use only: parsing ~100
// certificates costs a few milliseconds that a Lambda cold start should not
// pay unless it actually opens a TLS connection.
var rootCAs = sync.OnceValues(func() (*x509.CertPool, error) {
	certs, err := parseBundle(globalBundle)
	if err != nil {
		return nil, fmt.Errorf("rdstls: embedded global-bundle.pem: %w", err)
	}
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool, nil
})

// RootCAs returns a certificate pool holding every certificate in the
// embedded Amazon RDS CA bundle. The bundle is parsed once per process, on the
// first call; later calls return the same pool, which callers must not modify.
// It returns an error only if the embedded bundle holds no certificates or a
// certificate that does not parse, which means a broken build.
func RootCAs() (*x509.CertPool, error) {
	return rootCAs()
}

// parseBundle decodes every CERTIFICATE block in data. It fails on a block of
// another type, on a certificate that does not parse, and when data holds no
// certificate at all, so a truncated or corrupted bundle is caught at the
// first connection instead of surfacing as an unexplained verification error.
func parseBundle(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	rest := data
	for i := 1; ; i++ {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("PEM block %d has type %q, want only CERTIFICATE blocks", i, block.Type)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("PEM block %d: %w", i, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errors.New("no PEM certificates found")
	}
	return certs, nil
}
