#!/usr/bin/env bash
# Installs every Debian package BAS Ledger needs to build, test and run.
# Idempotent: packages already present are skipped, and apt-get update runs only when
# something is missing. Works as root, or through sudo for another user.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake pkg-config ccache git
  # libraries (see DESIGN.md section 2)
  libsecp256k1-dev librocksdb-dev libboost1.81-dev libssl-dev
  protobuf-compiler libprotobuf-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev libtomlplusplus-dev libspdlog-dev libfmt-dev
  prometheus-cpp-dev nlohmann-json3-dev libjemalloc-dev
  # functional tests and scenario checks
  python3 python3-pytest python3-requests python3-openssl
  # scripts
  curl jq
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then
    SUDO=(sudo)
  else
    echo "setup.sh: missing packages (${missing[*]}) and not root, no sudo" >&2
    exit 1
  fi
fi

echo "setup.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
