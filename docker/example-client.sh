#!/bin/sh
# What an application under test does first against the mock: trust its CA,
# get a bank token with client credentials, read the default bank.
# Exits 0 and prints the bank's name, or exits 1 saying what failed.
set -eu
url=${MOCK_URL:-https://cybrid-mock:8443}
ca=${MOCK_CA:-/tls/ca.pem}
bank=${MOCK_BANK_GUID:-b0a1c2d3e4f5061728394a5b6c7d8e9f}

# depends_on waits for health where the engine supports it; this bounded
# wait covers engines that only order the start.
i=0
until [ -s "$ca" ] && curl -fsS --cacert "$ca" "$url/__admin/health" \
        >/dev/null 2>&1; do
    i=$((i + 1))
    if [ "$i" -gt 100 ]; then
        echo "example-client: mock not healthy at $url" >&2
        exit 1
    fi
    sleep 0.1
done

token=$(curl -fsS --cacert "$ca" -H 'Content-Type: application/json' \
    -d '{"grant_type":"client_credentials","client_id":"mock-bank-client-id",
         "client_secret":"mock-bank-client-secret","scope":"banks:read"}' \
    "$url/oauth/token" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
if [ -z "$token" ]; then
    echo "example-client: no token from $url/oauth/token" >&2
    exit 1
fi
body=$(curl -fsS --cacert "$ca" -H "Authorization: Bearer $token" \
    "$url/api/banks/$bank")
case "$body" in
*"\"guid\":\"$bank\""*) ;;
*)
    echo "example-client: unexpected bank answer" >&2
    exit 1
    ;;
esac
echo "example-client: ok, bank $bank over TLS with a trusted CA"
