#!/usr/bin/env bash
# Make sure axe-core (accessibility rules for the browser tests) is in the cache.
#
#   scripts/axe-core.sh   do nothing when the cache holds axe.min.js, else `npm pack axe-core@4`
#                         from the npm registry and keep its axe.min.js
# Prints nothing on success; the tests find the file at $PD_AXE_CACHE/axe.min.js.
set -euo pipefail

if [ "$(id -u)" = 0 ]; then
  CACHE=${PD_AXE_CACHE:-/var/cache/provider-directory/axe-core}
else
  CACHE=${PD_AXE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/provider-directory/axe-core}
fi

log() { printf 'axe-core.sh: %s\n' "$*" >&2; }

[ -s "$CACHE/axe.min.js" ] && exit 0
command -v npm >/dev/null 2>&1 || { log "npm is needed to fetch axe-core; install Node.js"; exit 1; }
mkdir -p "$CACHE"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
log "fetching axe-core@4 from the npm registry"
TARBALL=$(cd "$WORK" && npm pack --silent axe-core@4 | tail -n 1)
tar -xzf "$WORK/$TARBALL" -C "$WORK" package/axe.min.js package/package.json
node -e 'process.stdout.write(require(process.argv[1]).version + "\n")' \
  "$WORK/package/package.json" >"$WORK/VERSION"
# Move into place last, so an interrupted fetch never leaves a half-written file behind.
mv "$WORK/VERSION" "$CACHE/VERSION"
mv "$WORK/package/axe.min.js" "$CACHE/axe.min.js"
log "axe-core $(cat "$CACHE/VERSION") in $CACHE"
