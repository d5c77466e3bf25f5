#!/usr/bin/env bash
# Benchmark `graphd list-users` against a separate `graphd emulator` process (issue 5).
#
# For each user count: start the emulator (release build) with a throwaway app
# certificate, list every user to ndjson on /dev/null, and report users/s and the client's
# peak RSS from /usr/bin/time -v. Figures are reported, never asserted.
#
#   scripts/bench-users.sh                  10k, 100k, 200k and 1M users, ndjson
#   scripts/bench-users.sh 50000 300000     other counts
#   FORMAT=csv scripts/bench-users.sh       another --output format
#   RUNS=3 scripts/bench-users.sh           best of 3 runs per count (default 1)
#
# Needs openssl and GNU time (Debian: apt-get install time). Nothing secret is printed: the
# key is generated in a temp dir that is removed on exit.
set -euo pipefail

cd "$(dirname "$0")/.."
format=${FORMAT:-ndjson}
runs=${RUNS:-1}
counts=("$@")
if [ ${#counts[@]} -eq 0 ]; then
    counts=(10000 100000 200000 1000000)
fi
if [ ! -x /usr/bin/time ]; then
    echo "bench-users: /usr/bin/time (GNU time) is missing; apt-get install time" >&2
    exit 1
fi

cargo build --release --quiet --bin graphd
bin=$PWD/target/release/graphd
work=$(mktemp -d)
emulator_pid=
cleanup() {
    if [ -n "$emulator_pid" ]; then
        kill "$emulator_pid" 2>/dev/null || true
        wait "$emulator_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

client_id=aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/app.key" -out "$work/app.crt" \
    -days 30 -subj /CN=graphd-bench 2>/dev/null
cat "$work/app.key" "$work/app.crt" >"$work/app.pem"

# Starts an emulator with $1 users and exports its endpoints into this shell.
start_emulator() {
    "$bin" emulator --users "$1" --app "$client_id=$work/app.crt:User.Read.All" --print-env \
        >"$work/env" 2>"$work/emulator.err" &
    emulator_pid=$!
    for _ in $(seq 1 200); do
        if grep -q GRAPHD_GRAPH_ENDPOINT "$work/env" 2>/dev/null; then
            break
        fi
        sleep 0.05
    done
    # shellcheck disable=SC1091
    . "$work/env"
    export AZURE_CLIENT_CERTIFICATE_PATH=$work/app.pem AZURE_CLIENT_ID=$client_id
}

stop_emulator() {
    kill "$emulator_pid" 2>/dev/null || true
    wait "$emulator_pid" 2>/dev/null || true
    emulator_pid=
}

printf '%-10s %-8s %10s %12s %14s\n' users format seconds users/s "peak RSS (MB)"
for n in "${counts[@]}"; do
    start_emulator "$n"
    best_secs= best_rss=
    for _ in $(seq 1 "$runs"); do
        start=$(date +%s%N)
        /usr/bin/time -v -o "$work/time" "$bin" list-users --quiet --output "$format" \
            >/dev/null 2>"$work/client.err" || {
            echo "bench-users: graphd list-users failed for $n users:" >&2
            cat "$work/client.err" >&2
            exit 1
        }
        end=$(date +%s%N)
        secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
        rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$work/time")
        if [ -z "$best_secs" ] || awk -v a="$secs" -v b="$best_secs" 'BEGIN { exit !(a < b) }'; then
            best_secs=$secs
        fi
        if [ -z "$best_rss" ] || [ "$rss" -lt "$best_rss" ]; then
            best_rss=$rss
        fi
    done
    stop_emulator
    awk -v n="$n" -v f="$format" -v s="$best_secs" -v r="$best_rss" 'BEGIN {
        printf "%-10d %-8s %10.3f %12.0f %14.1f\n", n, f, s, (s > 0 ? n / s : 0), r / 1024 }'
done
