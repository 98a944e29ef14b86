package rdstls

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestEmbeddedBundle(t *testing.T) {
	certs, err := parseBundle(globalBundle)
	if err != nil {
		t.Fatalf("parseBundle(embedded): %v", err)
	}
	// The RDS bundle has three CAs per region plus legacy ones; far fewer
	// than 10 means the generator picked up the wrong list.
	if len(certs) <= 10 {
		t.Fatalf("embedded bundle has %d certificates, want more than 10", len(certs))
	}

	// The generator records its count in the header; a mismatch means the
	// file was edited by hand or truncated.
	m := regexp.MustCompile(`(?m)^# Certificates: (\d+)$`).FindSubmatch(globalBundle)
	if m == nil {
		t.Fatal("embedded bundle has no '# Certificates: N' header; regenerate it with scripts/update-rds-ca-bundle.sh")
	}
	if want, _ := strconv.Atoi(string(m[1])); len(certs) != want {
		t.Errorf("embedded bundle parses to %d certificates, header says %d", len(certs), want)
	}

	seen := map[[32]byte]string{}
	for _, c := range certs {
		cn := c.Subject.CommonName
		// Only RDS CAs belong here: a foreign root would widen who can
		// impersonate the database.
		if !strings.HasPrefix(cn, "Amazon RDS ") {
			t.Errorf("certificate %q is not an Amazon RDS CA", c.Subject)
		}
		if !c.IsCA {
			t.Errorf("certificate %q is not a CA certificate", cn)
		}
		sum := sha256.Sum256(c.Raw)
		if prev, ok := seen[sum]; ok {
			t.Errorf("certificate %q appears twice (first as %q)", cn, prev)
		}
		seen[sum] = cn
	}

	// Current-generation roots for a commonly used region must be present.
	for _, want := range []string{
		"Amazon RDS us-east-1 Root CA RSA2048 G1",
		"Amazon RDS us-east-1 Root CA RSA4096 G1",
		"Amazon RDS us-east-1 Root CA ECC384 G1",
		"Amazon RDS eu-west-1 Root CA RSA2048 G1",
	} {
		if !containsCN(certs, want) {
			t.Errorf("embedded bundle lacks %q", want)
		}
	}
}

func containsCN(certs []*x509.Certificate, cn string) bool {
	for _, c := range certs {
		if c.Subject.CommonName == cn {
			return true
		}
	}
	return false
}

func TestRootCAsIsParsedOnce(t *testing.T) {
	a, err := RootCAs()
	if err != nil {
		t.Fatalf("RootCAs: %v", err)
	}
	b, err := RootCAs()
	if err != nil {
		t.Fatalf("RootCAs (second call): %v", err)
	}
	if a == nil || a != b {
		t.Fatalf("RootCAs returned %p then %p, want the same non-nil pool", a, b)
	}
	certs, _ := parseBundle(globalBundle)
	if !a.Equal(poolOf(certs)) {
		t.Error("RootCAs pool differs from the parsed embedded bundle")
	}
}

func TestParseBundleErrors(t *testing.T) {
	certs, err := parseBundle(globalBundle)
	if err != nil {
		t.Fatalf("parseBundle(embedded): %v", err)
	}
	onePEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certs[0].Raw})

	tests := []struct {
		name    string
		data    []byte
		wantErr string // empty: must succeed
		want    int
	}{
		{name: "empty", data: nil, wantErr: "no PEM certificates"},
		{name: "comments only", data: []byte("# nothing here\n"), wantErr: "no PEM certificates"},
		{name: "wrong block type", data: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1}}), wantErr: `type "PRIVATE KEY"`},
		{name: "corrupt certificate", data: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("not DER")}), wantErr: "PEM block 1"},
		{name: "bad second block", data: append(bytes.Clone(onePEM), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{0x30}})...), wantErr: "PEM block 2"},
		{name: "one certificate with comments", data: append([]byte("# header\n"), onePEM...), want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseBundle(tt.data)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseBundle error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseBundle: %v", err)
			}
			if len(got) != tt.want {
				t.Fatalf("parseBundle returned %d certificates, want %d", len(got), tt.want)
			}
		})
	}
}

func poolOf(certs []*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p
}
