#!/usr/bin/env bash
# Installs the build dependencies, builds hvterm and opens a shell over the local agent.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/deps.sh build
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build
echo "Starting 'hvterm shell local' - type ~. after Enter to detach, 'exit' to end the shell."
exec build/hvterm shell local "$@"
