#!/usr/bin/env bash
# Make sure Debian's Chromium is installed for the browser tests (driven by Playwright).
#
#   scripts/chromium.sh   do nothing when /usr/bin/chromium exists, else install Debian's chromium
#                         package (as root). Never downloads a browser of its own.
set -euo pipefail

BROWSER=${PD_CHROMIUM:-/usr/bin/chromium}

log() { printf 'chromium.sh: %s\n' "$*" >&2; }

if [ -x "$BROWSER" ]; then
  exit 0
fi
if [ "$BROWSER" != /usr/bin/chromium ]; then
  log "$BROWSER (PD_CHROMIUM) does not exist"
  exit 1
fi
if [ "$(id -u)" != 0 ]; then
  log "Chromium is not installed; install Debian's chromium package"
  exit 1
fi
log "installing Debian's chromium"
apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
[ -x "$BROWSER" ] || { log "chromium installed but $BROWSER is missing"; exit 1; }
log "installed $("$BROWSER" --version 2>/dev/null || echo chromium)"
