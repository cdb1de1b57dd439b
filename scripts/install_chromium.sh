#!/usr/bin/env bash
# Install Debian's chromium (the headless browser of the report's browser test), as root, if missing.
# Run by `make test` with CI=true or RMTW_INSTALL_SYSTEM_PACKAGES=1, and by the test itself under the same opt-in.
set -euo pipefail
command -v chromium >/dev/null && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "install_chromium.sh: chromium is missing and installing it needs root (apt-get install chromium)" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium >/dev/null
command -v chromium >/dev/null
