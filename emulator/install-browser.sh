#!/usr/bin/env bash
# Installs the system Chromium that the browser test (pytest -m browser) drives through Playwright.
# Idempotent: does nothing when /usr/bin/chromium already exists. Needs root (or sudo) and Debian's apt.
# Playwright's own browser download is never used (it cannot be fetched here); the test points Playwright
# at /usr/bin/chromium instead.
set -euo pipefail
# A Japanese font too: the console's and storefront's screenshots (docs/screens/) are in Japanese.
if [ -x /usr/bin/chromium ] && [ -e /usr/share/fonts/opentype/ipafont-gothic/ipag.ttf ]; then
    echo "chromium already installed: $(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium)"
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-liberation fonts-ipafont-gothic >/dev/null
/usr/bin/chromium --version
