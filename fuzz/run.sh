#!/usr/bin/env bash
# Fuzzes one target: ./run.sh TARGET [SECONDS] (default 600). New inputs go to work/TARGET
# (git-ignored); corpus/TARGET holds the committed seeds and is only read. The log is
# work/TARGET.log; crashes and hangs land in artifacts/TARGET/.
set -euo pipefail
cd "$(dirname "$0")"
target=${1:?usage: ./run.sh TARGET [SECONDS]}
secs=${2:-600}
mkdir -p "work/$target"
# cargo-fuzz and libFuzzer need nightly-only flags (-Z sanitizer): stable rustc accepts them
# with RUSTC_BOOTSTRAP=1.
RUSTC_BOOTSTRAP=1 cargo fuzz run -O "$target" "work/$target" "corpus/$target" -- \
  -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=16384 -print_final_stats=1 \
  2>&1 | tee "work/$target.log" | grep -E '^(#[0-9]+ *(pulse|DONE)|stat::|==[0-9]+==|SUMMARY|thread)' || true
