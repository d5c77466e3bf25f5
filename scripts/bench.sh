#!/usr/bin/env bash
# graphd's benchmarks: builds release, starts the emulator as a separate process, and prints
# a Markdown table of medians over repeated runs (also written to target/bench.md).
#
#   scripts/bench.sh              everything (a few minutes)
#   QUICK=1 scripts/bench.sh      fewer runs, 100k users instead of 1M (listing and delta)
#
# hyperfine (Debian package) times whole commands; GNU time (/usr/bin/time -v) gives peak
# memory; wrk loads `graphd serve`. All are installed with apt-get if missing. Figures are reported, never asserted:
# these machines are shared and noisy. Nothing secret is printed: keys live in a temp dir that
# is removed on exit, and token/assertion output goes to /dev/null.
set -euo pipefail
cd "$(dirname "$0")/.."

need() { command -v "$1" >/dev/null 2>&1 || { apt-get install -y -qq "$2" >/dev/null; }; }
need hyperfine hyperfine
[ -x /usr/bin/time ] || apt-get install -y -qq time >/dev/null
need curl curl
need wrk wrk

quick=${QUICK:-}
runs=$([ -n "$quick" ] && echo 10 || echo 40)
cargo build --release --locked --quiet --bin graphd
bin=$PWD/target/release/graphd
work=$(mktemp -d)
emulator_pid=
serve_pid=
cleanup() {
    [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
    [ -n "$emulator_pid" ] && kill "$emulator_pid" 2>/dev/null && wait "$emulator_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

rows=()
row() { rows+=("| $1 | $2 | $3 | $4 |"); printf '%-44s %12s  %s\n' "$1" "$2" "$4" >&2; }

# Median (ms) of a command, from hyperfine's JSON export.
median_ms() {
    local name=$1; shift
    hyperfine -N --style none --warmup 3 --runs "$runs" --export-json "$work/$name.json" "$@" >/dev/null 2>&1
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print("%.1f" % (r["median"]*1000))' "$work/$name.json"
}

# A credential and an app registration, as a user would make them.
client_id=aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee
"$bin" gen-cert --out "$work/certs" --client-id "$client_id" >/dev/null 2>&1
key=$work/certs/key.pem cert=$work/certs/cert.pem
users_max=$([ -n "$quick" ] && echo 100000 || echo 1000000)
"$bin" emulator --users "$users_max" --app "$client_id=$cert:User.Read.All" --print-env >"$work/env" 2>"$work/emulator.err" &
emulator_pid=$!
for _ in $(seq 1 200); do grep -q GRAPHD_GRAPH_ENDPOINT "$work/env" 2>/dev/null && break; sleep 0.05; done
# shellcheck disable=SC1091
. "$work/env"
export AZURE_CLIENT_CERTIFICATE_PATH=$cert

# Starting the binary at all (the floor under every whole-process figure).
version_ms=$(median_ms version "$bin --version")
row "graphd --version (process start)" "$version_ms ms" "" "floor"

# Signing: graphd's whole process, and openssl signing the same bytes (the floor).
"$bin" assertion --key "$key" >"$work/assertion.jwt"
cut -d. -f1,2 "$work/assertion.jwt" | tr -d '\n' >"$work/signing-input"
row "graphd assertion (PS256, whole process)" "$(median_ms assertion "$bin assertion --key $key") ms" "<= 10 ms" "median of $runs"
row "openssl dgst -sign, same bytes (floor)" "$(median_ms openssl "openssl dgst -sha256 -sign $key -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 -out /dev/null $work/signing-input") ms" "" "PSS, salt 32"

# The token exchange: no cache, a cache hit, and curl posting a prebuilt assertion (the floor).
row "graphd token (no cache)" "$(median_ms token "$bin token --key $key") ms" "<= 15 ms" "median of $runs"
"$bin" token --key "$key" --token-cache "$work/cache" >/dev/null
hit_ms=$(median_ms token-cache "$bin token --key $key --token-cache $work/cache")
row "graphd token (cache hit)" "$hit_ms ms" "<= 1.3x --version" \
    "$(awk -v h="$hit_ms" -v v="$version_ms" 'BEGIN { printf "%.2fx graphd --version", h / v }'), median of $runs"
token_url="$AZURE_AUTHORITY_HOST/$AZURE_TENANT_ID/oauth2/v2.0/token"
curl_cmd="curl -s -o /dev/null --data-urlencode client_id=$client_id --data-urlencode scope=https://graph.microsoft.com/.default --data-urlencode client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer --data-urlencode client_assertion@$work/assertion.jwt --data-urlencode grant_type=client_credentials $token_url"
row "curl, prebuilt assertion (floor)" "$(median_ms curl "$curl_cmd") ms" "" "same emulator"

# Listing users to ndjson on /dev/null: median wall time of 3 runs, peak RSS of the client.
list_users() {
    local n=$1 times=() rss=0
    for _ in 1 2 3; do
        local start end
        start=$(date +%s%N)
        /usr/bin/time -v -o "$work/time" "$bin" list-users --key "$key" --quiet --output ndjson --max "$n" >/dev/null 2>"$work/client.err"
        end=$(date +%s%N)
        times+=("$(( (end - start) / 1000000 ))")
        local r; r=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$work/time")
        [ "$r" -gt "$rss" ] && rss=$r
    done
    local med; med=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 2p)
    row "graphd list-users, $n users, ndjson" "$med ms" ">= 100k users/s, < 40 MB" \
        "$(awk -v n="$n" -v ms="$med" 'BEGIN { printf "%.0f users/s", n / (ms / 1000) }'), peak RSS $(awk -v r="$rss" 'BEGIN { printf "%.1f MB", r / 1024 }')"
}
list_users 10000
list_users 100000
[ -n "$quick" ] || list_users 200000
[ -n "$quick" ] || list_users 1000000

# Incremental sync (list-users --delta): first rounds over the whole tenant, then rounds
# after 1% of the users changed (a fifth created, three fifths updated, a fifth deleted,
# through the emulator's admin endpoint), each on the state the round before saved.
# Medians of 3 wall times, the highest peak RSS. Output to /dev/null as for the listings above
# (to a regular file, graphd also fsyncs it before saving the state); the item count comes
# from the summary line on stderr.
delta_round() {
    local start end
    start=$(date +%s%N)
    /usr/bin/time -v -o "$work/time" "$bin" list-users --key "$key" --output ndjson \
        --delta "$1" >/dev/null 2>"$work/client.err"
    end=$(date +%s%N)
    echo "$(( (end - start) / 1000000 )) $(awk -F': ' '/Maximum resident set size/ { print $2 }' "$work/time")" \
        "$(sed -n 's/^graphd: delta: \([0-9]*\) changed, \([0-9]*\) removed.*/\1 \2/p' "$work/client.err" | awk '{ print $1 + $2 }')"
}
median() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
highest() { printf '%s\n' "$@" | sort -n | tail -1; }
full_ms=() full_rss=() inc_ms=() inc_rss=()
for i in 1 2 3; do
    read -r ms rss full_n <<<"$(delta_round "$work/delta-$i.state")"
    full_ms+=("$ms") full_rss+=("$rss")
done
changed=$((users_max / 100))
for _ in 1 2 3; do
    curl -fsS -X POST "$GRAPHD_GRAPH_ENDPOINT/_emulator/tenant/changes?create=$((changed / 5))&update=$((changed * 3 / 5))&delete=$((changed / 5))" >/dev/null
    read -r ms rss inc_n <<<"$(delta_round "$work/delta-3.state")"
    inc_ms+=("$ms") inc_rss+=("$rss")
done
full=$(median "${full_ms[@]}") inc=$(median "${inc_ms[@]}")
mb() { awk -v r="$1" 'BEGIN { printf "%.1f MB", r / 1024 }'; }
row "graphd list-users --delta, first round, $full_n users" "$full ms" "" \
    "$(awk -v n="$full_n" -v ms="$full" 'BEGIN { printf "%.0f users/s", n / (ms / 1000) }'), peak RSS $(mb "$(highest "${full_rss[@]}")"), median of 3"
row "graphd list-users --delta, after 1% changed (~$inc_n items)" "$inc ms" "<= 1/20 of the first, RSS <= first" \
    "$(awk -v a="$inc" -v b="$full" 'BEGIN { printf "1/%.0f of the first round", b / a }'), peak RSS $(mb "$(highest "${inc_rss[@]}")"), median of 3"

# graphd serve: cached-token requests per second with 32 keep-alive connections (wrk, two
# threads, the header sent from a Lua script so it never sits in argv), latency percentiles,
# and the server's RSS before and after a million requests.
mkfifo "$work/serve.env"
"$bin" serve --print-env --key "$key" >"$work/serve.env" 2>"$work/serve.err" &
serve_pid=$!
# shellcheck disable=SC1091
. "$work/serve.env"
[ -n "${IDENTITY_ENDPOINT:-}" ] || { cat "$work/serve.err" >&2; exit 1; }
echo 'wrk.headers["X-IDENTITY-HEADER"] = os.getenv("IDENTITY_HEADER")' >"$work/wrk.lua"
serve_url="$IDENTITY_ENDPOINT?resource=https%3A%2F%2Fgraph.microsoft.com&api-version=2019-08-01"
rss_mb() { awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$serve_pid/status"; }
# Runs wrk for $1 seconds; prints "requests req/s p50 p99", failing on any non-200 answer.
load() {
    wrk -t2 -c32 -d"$1s" --latency -s "$work/wrk.lua" "$serve_url" >"$work/wrk.out"
    ! grep -q 'Non-2xx' "$work/wrk.out" || { cat "$work/wrk.out" >&2; exit 1; }
    awk '/requests in/ { n = $1 } /^Requests\/sec/ { r = $2 } $1 == "50%" { p50 = $2 } $1 == "99%" { p99 = $2 }
         END { printf "%d %.0f %s %s\n", n, r, p50, p99 }' "$work/wrk.out"
}
load 2 >/dev/null
rss_start=$(rss_mb)
load 10 >"$work/load"
read -r served rps p50 p99 <"$work/load"
row "graphd serve, cached token, 32 connections" "$rps req/s" ">= 20,000/s" "p50 $p50, p99 $p99 (wrk -t2 -c32, 10 s)"
while [ "$served" -lt 1000000 ]; do
    load 10 >"$work/load"
    read -r n _ _ _ <"$work/load"
    served=$((served + n))
done
row "graphd serve RSS, $served requests" "$(rss_mb) MB" "flat" "$rss_start MB after warm-up"
kill "$serve_pid" && wait "$serve_pid" 2>/dev/null || true
serve_pid=

# gen-cert: RSA key generation varies, so more runs and the median.
row "graphd gen-cert (RSA 2048)" "$(median_ms gen-cert --prepare "rm -rf $work/g" "$bin gen-cert --out $work/g") ms" "<= 1 s" "median of $runs"
row "graphd demo (whole flow, in-process emulator)" "$(median_ms demo "$bin demo") ms" "< 2 s" "median of $runs"

cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
{
    echo "graphd $("$bin" --version | cut -d' ' -f2), $(date -u +%Y-%m-%d), $(nproc) cores ($cpu), $(uname -sr)"
    echo
    echo "| what | median | target | notes |"
    echo "|---|---|---|---|"
    printf '%s\n' "${rows[@]}"
} | tee target/bench.md
