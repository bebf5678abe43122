#!/usr/bin/env bash
# Refresh vendor/ from npm: the browser builds of the libraries pinned in
# package-lock.json, and their licences. The page loads only these copies.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cp "$here/package.json" "$here/package-lock.json" "$work/"
(cd "$work" && npm ci --ignore-scripts --no-audit --no-fund --silent)

modules="$work/node_modules"
mkdir -p "$here/vendor"
cp "$modules/socket.io-client/dist/socket.io.min.js" "$here/vendor/socket.io.min.js"
cp "$modules/socket.io-client/LICENSE" "$here/vendor/socket.io-client.LICENSE"
cp "$modules/chart.js/dist/chart.umd.min.js" "$here/vendor/chart.umd.min.js"
cp "$modules/chart.js/LICENSE.md" "$here/vendor/chart.js.LICENSE"
echo "vendor/ refreshed from npm:"
(cd "$modules" && node -e '
for (const name of ["socket.io-client", "chart.js"])
  console.log("  " + name + " " + require("./" + name + "/package.json").version);')
