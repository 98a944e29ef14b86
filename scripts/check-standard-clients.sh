#!/usr/bin/env bash
# Proves that the local stand-in takes what standard tools make, not only our
# own code: a token from the AWS CLI (`aws rds generate-db-auth-token`), used
# as the password of the MariaDB or MySQL command-line client over verified
# TLS. Then the same login with a tampered token must be refused (1045).
#
# Needs `aws` (v1 or v2) and `mariadb` or `mysql` on PATH; on Debian:
#   apt-get install awscli mariadb-client
# Not part of CI, which does not install those; run it by hand:
#   scripts/check-standard-clients.sh
set -euo pipefail
cd "$(dirname "$0")/.."

need() { command -v "$1" >/dev/null || { echo "check-standard-clients: $1 not found on PATH ($2)" >&2; exit 2; }; }
need aws "apt-get install awscli"
client=$(command -v mariadb || command -v mysql || true)
[ -n "$client" ] || { echo "check-standard-clients: neither mariadb nor mysql on PATH (apt-get install mariadb-client)" >&2; exit 2; }

port=${PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
log=$(mktemp)
# Its own process group, so that make, go run and the stand-in all stop.
trap 'kill -- "-$pid" 2>/dev/null || true; rm -f "$log"' EXIT
setsid make local ARGS="-serve -port $port" >"$log" 2>&1 &
pid=$!
for _ in $(seq 1 180); do
  grep -q "until Ctrl-C" "$log" && break
  kill -0 "$pid" 2>/dev/null || { cat "$log"; echo "check-standard-clients: make local ended early" >&2; exit 1; }
  sleep 1
done
grep -q "until Ctrl-C" "$log" || { cat "$log"; echo "check-standard-clients: stand-in not serving after 3 minutes" >&2; exit 1; }

export AWS_SHARED_CREDENTIALS_FILE=.build/local/credentials AWS_PROFILE=rdsiam-local
export AWS_CONFIG_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
echo "aws: $(aws --version 2>&1)"
echo "client: $("$client" --version)"
token=$(aws rds generate-db-auth-token --hostname localhost --port "$port" --region eu-west-1 --username app_user)

login() {
  if "$client" --version | grep -q MariaDB; then
    "$client" --protocol=TCP -h localhost -P "$port" -u app_user --ssl-ca=.build/local/ca.pem --ssl-verify-server-cert \
      --password="$1" --batch --skip-column-names -e "SELECT CURRENT_USER(); SHOW SESSION STATUS LIKE 'Ssl_cipher';"
  else
    "$client" --protocol=TCP -h localhost -P "$port" -u app_user --ssl-ca=.build/local/ca.pem --ssl-mode=VERIFY_IDENTITY \
      --enable-cleartext-plugin --password="$1" --batch --skip-column-names \
      -e "SELECT CURRENT_USER(); SHOW SESSION STATUS LIKE 'Ssl_cipher';"
  fi
}

out=$(login "$token")
echo "$out"
grep -q '^app_user@%$' <<<"$out" || { echo "FAIL: CURRENT_USER() is not app_user@%" >&2; exit 1; }
grep -qE '^Ssl_cipher[[:space:]]+[A-Z0-9_]+' <<<"$out" || { echo "FAIL: the session is not encrypted" >&2; exit 1; }
echo "ok: the AWS CLI's token logged in as app_user over TLS"

# Flip the last character of the signature.
last=${token: -1}
[ "$last" = 0 ] && swap=1 || swap=0
if out=$(login "${token%?}$swap" 2>&1); then
  echo "FAIL: a tampered token logged in: $out" >&2; exit 1
fi
grep -q "1045" <<<"$out" || { echo "FAIL: a tampered token was refused, but not with 1045: $out" >&2; exit 1; }
echo "ok: a tampered token was refused: $out"
