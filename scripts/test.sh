#!/usr/bin/env bash
# The README's test command: installs what the tests need when it is missing (Debian
# packages: the openssl CLI and OpenSSL headers, SoftHSM2 for the PKCS#11 tests), then runs
# every test. Extra arguments go to `cargo test`. Never prints a secret.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v openssl >/dev/null || need+=(openssl)
pkg-config --exists openssl 2>/dev/null || need+=(libssl-dev pkg-config)
if ! command -v softhsm2-util >/dev/null ||
  { [ ! -e /usr/lib/softhsm/libsofthsm2.so ] && ! compgen -G '/usr/lib/*/softhsm/libsofthsm2.so' >/dev/null; }; then
  need+=(softhsm2)
fi
if [ ${#need[@]} -gt 0 ]; then
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  echo "scripts/test.sh: installing ${need[*]} (the tests need them)" >&2
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${need[@]}" >/dev/null
fi

# --locked: a Cargo.lock that would need changing fails here.
exec cargo test --locked "$@"
