#!/usr/bin/env bash
# Regenerates the committed seed corpus under corpus/<target>/ (run from anywhere).
# Every key made here is a throwaway fuzzing input: never uploaded, never used to sign anything
# but these files. The encrypted ones use the password the credential targets supply
# ("fuzz-password") and a single KDF iteration, so each fuzzing run stays fast.
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pw=pass:fuzz-password

# --- credential_pem / credential_der -------------------------------------------------------
pem=corpus/credential_pem der=corpus/credential_der
rm -rf "$pem" "$der"
mkdir -p "$pem" "$der"
ossl() { openssl "$@" 2>/dev/null; }
ossl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/ca.key" -out "$tmp/ca.pem" \
  -days 3650 -subj /CN=fuzz-ca
ossl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/leaf.key"
ossl req -new -key "$tmp/leaf.key" -subj /CN=fuzz-leaf -out "$tmp/leaf.csr"
ossl x509 -req -in "$tmp/leaf.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" -days 3650 \
  -out "$tmp/leaf.pem"
ossl req -x509 -newkey rsa:1024 -nodes -keyout "$tmp/small.key" -out "$tmp/small.pem" \
  -days 3650 -subj /CN=fuzz-small
ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/ec.key"

cp "$tmp/leaf.pem" "$pem/cert.pem"
cp "$tmp/leaf.key" "$pem/key-pkcs8.pem"
ossl rsa -in "$tmp/small.key" -traditional -out "$pem/key-pkcs1.pem"
ossl pkcs8 -topk8 -in "$tmp/small.key" -v2 aes-256-cbc -iter 1 -passout "$pw" \
  -out "$pem/key-encrypted-pkcs8.pem"
ossl rsa -in "$tmp/small.key" -traditional -aes128 -passout "$pw" -out "$pem/key-legacy-encrypted.pem"
cat "$tmp/leaf.key" "$tmp/leaf.pem" "$tmp/ca.pem" >"$pem/combined-chain.pem"
{ printf '\xEF\xBB\xBFBag Attributes\r\n    localKeyID: 01 02\r\nsubject=CN = fuzz-small\r\n'
  sed 's/$/\r/' "$tmp/small.pem"; printf '\r\n'; sed 's/$/\r/' "$tmp/small.key"; } \
  >"$pem/noise-crlf-bom.pem"
ossl x509 -in "$tmp/small.pem" -trustout -addtrust clientAuth -out "$pem/trusted.pem"
cp "$tmp/ec.key" "$pem/key-ec.pem"
printf -- '-----BEGIN CERTIFICATE-----\nQUJD\n-----END CERTIFICATE-----\n-----BEGIN X-----\n' \
  >"$pem/truncated.pem"
# Regression seed (finding 1): a label with a control character.
printf -- '-----BEGIN PRI\x7fVATE KEY-----\nQUJD\n-----END PRIVATE KEY-----\n' >"$pem/label-control-char.pem"

ossl x509 -in "$tmp/leaf.pem" -outform DER -out "$der/cert.der"
ossl pkey -in "$tmp/small.key" -outform DER -out "$der/key-pkcs8.der"
ossl rsa -in "$tmp/small.key" -traditional -outform DER -out "$der/key-pkcs1.der"
ossl pkcs12 -export -inkey "$tmp/leaf.key" -in "$tmp/leaf.pem" -certfile "$tmp/ca.pem" \
  -iter 1 -maciter -passout "$pw" -out "$der/chain-aes.pfx"
ossl pkcs12 -export -legacy -inkey "$tmp/small.key" -in "$tmp/small.pem" \
  -iter 1 -maciter -passout "$pw" -out "$der/legacy-rc2.pfx"
ossl pkcs12 -export -inkey "$tmp/small.key" -in "$tmp/small.pem" -iter 1 -maciter \
  -passout pass: -out "$der/empty-password.pfx"
ossl pkcs12 -export -nokeys -in "$tmp/small.pem" -iter 1 -maciter -passout "$pw" \
  -out "$der/certs-only.pfx"

# --- token_response: 11 bytes (status selector, html bit, now as i64 LE), then the body -----
t=corpus/token_response
rm -rf "$t" && mkdir -p "$t"
now='\x00\x65\xf1\x65\x00\x00\x00\x00' # 1710318848
head() { printf "$1\\x00\\x00$now"; }
{ head '\x00'; printf '{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"eyJ0eXAiOiJKV1QifQ.e30.c2ln"}'; } >"$t/ok"
{ head '\x00'; printf '{"token_type":"bearer","expires_in":"3599","access_token":"x"}'; } >"$t/ok-string-expiry"
{ printf '\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\x7f'; printf '{"token_type":"Bearer","expires_in":9223372036854775807,"access_token":"x"}'; } >"$t/ok-at-the-end-of-time"
{ printf '\x00\x01\x00'"$now"; printf '<html><body>Sign in</body></html>'; } >"$t/html"
{ head '\x78'; printf '%s' '{"error":"invalid_client","error_description":"AADSTS700027: Client assertion contains an invalid signature. [Reason - The key was not found., Thumbprint of key used by client: '"'"'ABCD'"'"']\r\nTrace ID: 0000\r\nCorrelation ID: 1111\r\nTimestamp: 2024-01-01 00:00:00Z","error_codes":[700027],"timestamp":"2024-01-01 00:00:00Z","trace_id":"0000","correlation_id":"1111","error_uri":"https://login.example/error?code=700027"}'; } >"$t/refused-700027"
{ head '\xa0'; printf '{"error":"invalid_request","error_description":"AADSTS90002: Tenant not found."}'; } >"$t/refused-code-in-text"
{ head '\xd0'; printf '{}'; } >"$t/server-error-empty-json"
{ printf '\xff\xad\x01'"$now"; } >"$t/status-429-no-body"
# Regression seed (finding 2): control characters in the server's text.
{ head '\xa0'; printf '%s' '{"error":"it\r\n","error_description":"AAD f\u007fund.\u001b[2J","trace_id":"t\nx"}'; } >"$t/refused-control-chars"

# --- graph_page -------------------------------------------------------------------------------
g=corpus/graph_page
rm -rf "$g" && mkdir -p "$g"
printf '%s' '{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#users","@odata.count":2,"value":[{"id":"1","displayName":"A \"q\" \u00e9"},{"id":"2","businessPhones":[],"accountEnabled":true}],"@odata.nextLink":"https://graph.microsoft.com/v1.0/users?$skiptoken=X%27Q"}' >"$g/users"
printf '%s' '{"value":[],"@odata.nextLink":"https://graph.microsoft.com.evil.example/v1.0/users"}' >"$g/foreign-suffix"
printf '%s' '{"value":[{}],"@odata.nextLink":"HTTPS://GRAPH.Microsoft.COM:443/v1.0/users"}' >"$g/case-and-port"
printf '%s' '{"value":[1,null,"x",[{"a":{}}]],"@odata.nextLink":"http://127.0.0.1:8081/v1.0/users?$skiptoken=1"}' >"$g/loopback"
printf '%s' '{"value":[],"@odata.nextLink":"https://user:pw@graph.microsoft.com:8443/v1.0/users"}' >"$g/userinfo-port"
printf '%s' '{"value":[],"@odata.nextLink":"/v1.0/users?$skiptoken=2"}' >"$g/relative"
printf '%s' '{"value":[],"@odata.nextLink":"https://xn--grph-1na.microsoft.com/v1.0"}' >"$g/idn"

# --- retry_after: 8 bytes of clock (LE seconds), then the header value ------------------------
r=corpus/retry_after
rm -rf "$r" && mkdir -p "$r"
clock='\x00\x2c\x62\x56\x00\x00\x00\x00' # 1449274368 (2015-12-05)
for v in 120 0 1.5 ' 30 ' 99999999999999999999999 '.' 'Wed, 21 Oct 2015 07:28:00 GMT' \
  'Sunday, 06-Nov-94 08:49:37 GMT' 'Sun Nov  6 08:49:37 1994' 'Fri, 31 Dec 9999 23:59:59 GMT'; do
  name=$(printf '%s' "$v" | tr -c 'A-Za-z0-9' '_')
  { printf "$clock"; printf '%s' "$v"; } >"$r/$name"
done

# --- emulator_assertion ----------------------------------------------------------------------
a=corpus/emulator_assertion
rm -rf "$a" && mkdir -p "$a"
claims='{"aud":"$AUD","iss":"$CID","sub":"$CID","jti":"j-1","nbf":$NOW,"iat":$NOW,"exp":$EXP}'
signed() { printf '\x01%b%s\n%s' "$1" "$2" "$3" >"$a/$4"; }
signed '\x00' '{"alg":"PS256","typ":"JWT","x5t#S256":"$S256"}' "$claims" ps256-s256
signed '\x01' '{"alg":"RS256","typ":"JWT","x5t":"$SHA1"}' "$claims" rs256-x5t
signed '\x00' '{"alg":"PS256","x5t#S256":"$S256","x5t":"$SHA1","x5c":["$X5C"]}' "$claims" both-thumbprints-x5c
signed '\x00' '{"alg":"PS256","x5c":"$X5C"}' "$claims" x5c-only
signed '\x00' '{"alg":"RS256","x5t#S256":"$S256"}' "$claims" alg-mismatch
signed '\x00' '{"alg":"PS256","x5t#S256":"$S256","crit":["b64"]}' "$claims" crit
signed '\x00' '{"alg":"PS256","x5t#S256":"$S256"}' '{"aud":["$AUD"],"iss":"$CID","sub":"$CID","exp":"$EXP","nbf":"$NOW"}' aud-array
signed '\x00' '{"alg":"PS256","x5t#S256":"$S256"}' '{"aud":"$AUD","iss":"$CID","sub":"$CID","exp":1e300,"nbf":-1e300}' float-times
signed '\x00' '{"alg":"PS256","x5t#S256":"$S256"}' '{"aud":"$AUD","iss":"other","sub":"other","exp":$EXP}' wrong-issuer
# Raw mode: as sent, signed by no registered key.
raw() { printf '\x00%s' "$1" >"$a/$2"; }
raw 'eyJhbGciOiJQUzI1NiIsInR5cCI6IkpXVCIsIng1dCNTMjU2IjoiQUFBQSJ9.eyJhdWQiOiJ4In0.c2ln' raw-unknown-key
raw 'eyJhbGciOiJQUzI1NiJ9==.e30=.AAAA' raw-padded
raw 'a.b.c' raw-three-parts
raw 'e30.e30.e30.e30' raw-four-parts
echo "seeds: $(find corpus -type f | wc -l) files, $(du -sh corpus | cut -f1)"
