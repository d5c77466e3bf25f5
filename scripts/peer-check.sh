#!/usr/bin/env bash
# Checks that Microsoft's own libraries accept `graphd emulator --tls`: MSAL Python with a
# PEM key + SHA-1 thumbprint (RS256, x5t), MSAL Python with a PFX (PS256, x5t#S256), and
# azure-identity's CertificateCredential; each token is then used on the Graph side. Then
# `graphd serve` in front of the emulator: azure-identity's ManagedIdentityCredential (sync
# and async) and MSAL Python's ManagedIdentityClient get tokens from it with only
# IDENTITY_ENDPOINT and IDENTITY_HEADER in their environment.
# Not run by CI (it installs packages from PyPI). Usage: scripts/peer-check.sh [graphd-binary]
# Never prints a key, a password or a token.
set -euo pipefail

graphd=${1:-target/debug/graphd}
work=$(mktemp -d)
venv=${PEER_VENV:-$work/venv}
cleanup() {
    [[ -n ${serve_pid:-} ]] && kill -TERM "$serve_pid" 2>/dev/null && wait "$serve_pid" || true
    [[ -n ${emulator_pid:-} ]] && kill -TERM "$emulator_pid" 2>/dev/null && wait "$emulator_pid" || true
    rm -rf "$work"
}
trap cleanup EXIT

if [[ ! -x $venv/bin/python ]]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet msal azure-identity aiohttp
fi
"$venv/bin/pip" list 2>/dev/null | grep -iE '^(msal|azure-identity|azure-core|requests|pyjwt|aiohttp) ' || true

client_id=aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee
cd "$work"
openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 30 -subj /CN=peer-check 2>/dev/null
cat key.pem cert.pem > combined.pem
# A pair that is not registered: both libraries must report Entra's AADSTS700027.
openssl req -x509 -newkey rsa:2048 -nodes -keyout other-key.pem -out other-cert.pem -days 30 -subj /CN=unregistered 2>/dev/null
cat other-key.pem other-cert.pem > other-combined.pem
head -c 24 /dev/urandom | base64 > pfx-password
openssl pkcs12 -export -inkey key.pem -in cert.pem -out cert.pfx -passout file:pfx-password

"$OLDPWD/$graphd" -v emulator --tls --ca-out ca.pem --print-env --users 1500 \
    --app "$client_id=cert.pem:User.Read.All" > env.sh 2> emulator.log &
emulator_pid=$!
for _ in $(seq 100); do grep -q AZURE_CLIENT_ID env.sh 2>/dev/null && break; sleep 0.1; done
# shellcheck disable=SC1091
source env.sh
echo "emulator: $AZURE_AUTHORITY_HOST (token), $GRAPHD_GRAPH_ENDPOINT (graph), CA $GRAPHD_CA_FILE"

export REQUESTS_CA_BUNDLE=$GRAPHD_CA_FILE SSL_CERT_FILE=$GRAPHD_CA_FILE
status=0
"$venv/bin/python" - <<'PY' || status=$?
import base64, json, os, subprocess, sys
import msal, requests
from azure.identity import CertificateCredential

authority_host = os.environ["AZURE_AUTHORITY_HOST"]
tenant = os.environ["AZURE_TENANT_ID"]
client_id = os.environ["AZURE_CLIENT_ID"]
graph = os.environ["GRAPHD_GRAPH_ENDPOINT"]
scope = ["https://graph.microsoft.com/.default"]
thumbprint = subprocess.run(["openssl", "x509", "-in", "cert.pem", "-noout", "-fingerprint", "-sha1"],
                            capture_output=True, text=True, check=True).stdout.split("=")[1].strip().replace(":", "")
failures = 0

def header_of(jwt):
    h = (jwt.decode() if isinstance(jwt, bytes) else jwt).split(".")[0]
    return json.loads(base64.urlsafe_b64decode(h + "=" * (-len(h) % 4)))

def use(label, token):
    global failures
    r = requests.get(f"{graph}/v1.0/users?$top=999&$select=id", headers={"Authorization": f"Bearer {token}"})
    n = len(r.json().get("value", [])) if r.ok else 0
    ok = r.status_code == 200 and n == 999
    failures += not ok
    print(f"{label}: Graph GET /v1.0/users -> HTTP {r.status_code}, {n} users {'OK' if ok else 'FAILED'}")

# The assertion each library sends is visible by wrapping its HTTP session.
seen = []
class Spy(requests.Session):
    def request(self, method, url, **kw):
        data = kw.get("data") or {}
        if isinstance(data, dict) and "client_assertion" in data:
            h = header_of(data["client_assertion"])
            seen.append({k: h[k] for k in h if k in ("alg", "typ")} | {"thumbprint header": [k for k in h if k.startswith("x5t")]})
        return super().request(method, url, **kw)

for label, credential in [
    ("MSAL Python, PEM key + SHA-1 thumbprint", {"private_key": open("key.pem").read(), "thumbprint": thumbprint}),
    ("MSAL Python, PFX path", {"private_key_pfx_path": "cert.pfx", "passphrase": open("pfx-password").read().strip()}),
]:
    try:
        # instance_discovery=False: for a host it does not know, MSAL otherwise asks the real
        # login.microsoftonline.com to validate the authority, which no offline server can answer.
        app = msal.ConfidentialClientApplication(client_id, authority=f"{authority_host}/{tenant}",
                                                 client_credential=credential, http_client=Spy(),
                                                 instance_discovery=False)
        result = app.acquire_token_for_client(scopes=scope)
    except Exception as e:  # a library refusing the emulator is a finding, not a crash
        failures += 1
        print(f"{label}: FAILED before a token: {type(e).__name__}: {e}")
        continue
    if "access_token" in result:
        print(f"{label}: token OK, assertion header {seen[-1] if seen else '?'}")
        use(label, result["access_token"])
    else:
        failures += 1
        print(f"{label}: FAILED: {result.get('error')} {result.get('error_codes')} {result.get('error_description', '')[:200]}")

label = "azure-identity CertificateCredential"
try:
    cred = CertificateCredential(tenant, client_id, certificate_path="combined.pem", authority=authority_host,
                                 disable_instance_discovery=True)
    token = cred.get_token(*scope)
    print(f"{label}: token OK, expires_on in {token.expires_on - __import__('time').time():.0f}s")
    use(label, token.token)
except Exception as e:
    failures += 1
    print(f"{label}: FAILED: {type(e).__name__}: {str(e)[:300]}")

# Refusals must come back in Entra's shape, which the libraries parse.
other_thumb = subprocess.run(["openssl", "x509", "-in", "other-cert.pem", "-noout", "-fingerprint", "-sha1"],
                             capture_output=True, text=True, check=True).stdout.split("=")[1].strip().replace(":", "")
app = msal.ConfidentialClientApplication(client_id, authority=f"{authority_host}/{tenant}", instance_discovery=False,
                                         client_credential={"private_key": open("other-key.pem").read(), "thumbprint": other_thumb})
result = app.acquire_token_for_client(scopes=scope)
ok = result.get("error") == "invalid_client" and result.get("error_codes") == [700027]
failures += not ok
print(f"MSAL Python, unregistered certificate: error={result.get('error')} error_codes={result.get('error_codes')} {'OK' if ok else 'FAILED'}")
try:
    CertificateCredential(tenant, client_id, certificate_path="other-combined.pem", authority=authority_host,
                          disable_instance_discovery=True).get_token(*scope)
    failures += 1
    print("azure-identity, unregistered certificate: got a token: FAILED")
except Exception as e:
    ok = "AADSTS700027" in str(e)
    failures += not ok
    print(f"azure-identity, unregistered certificate: {type(e).__name__} with AADSTS700027 {'OK' if ok else 'FAILED: ' + str(e)[:200]}")
sys.exit(1 if failures else 0)
PY

# graphd serve in front of the emulator, started as the README shows: its two lines come
# through a FIFO, which graphd closes once they are written.
mkfifo serve.env
"$OLDPWD/$graphd" -v serve --print-env --cert combined.pem \
    --allow-resource https://management.azure.com > serve.env 2> serve.log &
serve_pid=$!
# shellcheck disable=SC1091
. ./serve.env
[[ -n ${IDENTITY_ENDPOINT:-} ]] || { echo "graphd serve did not start:"; cat serve.log; exit 1; }
echo "graphd serve: $IDENTITY_ENDPOINT"
# Only the two variables (plus PATH) for the clients; the Graph URL and the emulator's CA
# (to use the tokens) come as arguments.
env -i PATH="$PATH" IDENTITY_ENDPOINT="$IDENTITY_ENDPOINT" IDENTITY_HEADER="$IDENTITY_HEADER" \
    "$venv/bin/python" - "$GRAPHD_GRAPH_ENDPOINT" "$GRAPHD_CA_FILE" <<'PY' || status=$?
import asyncio, os, sys, time
import msal, requests
from azure.identity import ManagedIdentityCredential
from azure.identity.aio import ManagedIdentityCredential as AsyncManagedIdentityCredential

graph, ca = sys.argv[1], sys.argv[2]
# (Python itself may add LC_CTYPE, PEP 538.)
assert sorted(k for k in os.environ if k not in ("PATH", "LC_CTYPE")) == ["IDENTITY_ENDPOINT", "IDENTITY_HEADER"], sorted(os.environ)
failures = 0

def use(label, token, expires_in):
    global failures
    r = requests.get(f"{graph}/v1.0/users?$top=999&$select=id", headers={"Authorization": f"Bearer {token}"}, verify=ca)
    n = len(r.json().get("value", [])) if r.ok else 0
    ok = r.status_code == 200 and n == 999 and 3000 < expires_in <= 3600
    failures += not ok
    print(f"{label}: token expiring in {expires_in:.0f}s; Graph GET /v1.0/users -> HTTP {r.status_code}, {n} users {'OK' if ok else 'FAILED'}")

def refused(label, text, expect):
    global failures
    ok = expect in text
    failures += not ok
    print(f"{label}: {'OK' if ok else 'FAILED'}: {text[:300]}")

label = "azure-identity ManagedIdentityCredential (sync, via MSAL)"
try:
    t = ManagedIdentityCredential().get_token("https://graph.microsoft.com/.default")
    use(label, t.token, t.expires_on - time.time())
except Exception as e:
    failures += 1
    print(f"{label}: FAILED: {type(e).__name__}: {str(e)[:300]}")

label = "azure-identity ManagedIdentityCredential (async, azure-core pipeline)"
async def async_token(scope):
    async with AsyncManagedIdentityCredential() as c:
        return await c.get_token(scope)
try:
    t = asyncio.run(async_token("https://graph.microsoft.com/.default"))
    use(label, t.token, t.expires_on - time.time())
except Exception as e:
    failures += 1
    print(f"{label}: FAILED: {type(e).__name__}: {str(e)[:300]}")

label = "MSAL Python ManagedIdentityClient"
app = msal.ManagedIdentityClient(msal.SystemAssignedManagedIdentity(), http_client=requests.Session())
result = app.acquire_token_for_client(resource="https://graph.microsoft.com")
if "access_token" in result:
    use(label, result["access_token"], result["expires_in"])
else:
    failures += 1
    print(f"{label}: FAILED: {result}")

# Refusals reach the caller with graphd's reason: a resource not served (403), and one the
# token service refuses (500 with the AADSTS code).
result = app.acquire_token_for_client(resource="https://vault.azure.net")
refused("MSAL Python, resource not served", f"{result.get('error')}: {result.get('error_description')}", "--allow-resource https://vault.azure.net")
result = app.acquire_token_for_client(resource="https://management.azure.com")
refused("MSAL Python, token service refuses", f"{result.get('error')}: {result.get('error_description')}", "AADSTS500011")
for label, get in [
    ("azure-identity (sync), resource not served", lambda: ManagedIdentityCredential().get_token("https://vault.azure.net/.default")),
    ("azure-identity (sync), token service refuses", lambda: ManagedIdentityCredential().get_token("https://management.azure.com/.default")),
    ("azure-identity (async), token service refuses", lambda: asyncio.run(async_token("https://management.azure.com/.default"))),
]:
    try:
        get()
        failures += 1
        print(f"{label}: got a token: FAILED")
    except Exception as e:
        refused(label, f"{type(e).__name__}: {e}", "allow-resource" if "not served" in label else "AADSTS500011")
sys.exit(1 if failures else 0)
PY
echo "--- graphd serve access log (graphd -v) ---"
grep 'serve: ' serve.log || true
echo "--- emulator requests (graphd -v) ---"
grep 'emulator:' emulator.log || true
exit $status
