#!/usr/bin/env bash
# Installs what is missing, configures, builds and runs every test. Exit status is ctest's.
#   BUILD_DIR  build directory (default: build)
#   BAS_SANITIZE=ON  build with ASan + UBSan (use another BUILD_DIR)
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -DBAS_SANITIZE="${BAS_SANITIZE:-OFF}" >/dev/null
cmake --build "$BUILD_DIR" -j2
cd "$BUILD_DIR"
ctest --output-on-failure -j2 --timeout 600 "$@"
