#!/usr/bin/env bash
# Install rmtweights' hooks into a (shared) environment built by `make env`:
#   <site-packages>/_rmtweights_src.py   picks the clone's src/ (see that file)
#   <site-packages>/_rmtweights_src.pth  one line that imports it at interpreter start
#   <env>/bin/rmtweights                 `python -m rmtweights` of that clone
# Each file is written only when missing or different (atomically: a temporary file renamed), so
# environments built before these hooks existed get them without a rebuild, and running it again
# changes nothing. Usage: scripts/install_env_hooks.sh ENV_DIR
set -euo pipefail

ENV_DIR=${1:?usage: $0 ENV_DIR}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

shopt -s nullglob
sites=("$ENV_DIR"/lib/python3*/site-packages)
((${#sites[@]} == 1)) || { echo "install_env_hooks: expected one $ENV_DIR/lib/python3*/site-packages, found ${#sites[@]}" >&2; exit 1; }
SITE=${sites[0]}

# put CONTENT_FILE TARGET MODE: TARGET gets CONTENT_FILE's bytes and MODE unless it has them already.
put() {
    local source=$1 target=$2 mode=$3 tmp
    if cmp -s "$source" "$target" 2>/dev/null; then
        chmod "$mode" "$target"
        return 0
    fi
    tmp=$(mktemp "$target.XXXXXX")
    cat "$source" >"$tmp"
    chmod "$mode" "$tmp"
    mv -f "$tmp" "$target"
    echo "install_env_hooks: wrote $target"
}

pth=$(mktemp)
trap 'rm -f "$pth"' EXIT
cat >"$pth" <<'PTH'
# rmtweights: put the src/ folder of the clone in use on sys.path (see _rmtweights_src.py).
import _rmtweights_src
PTH

put "$HERE/env/_rmtweights_src.py" "$SITE/_rmtweights_src.py" 644
put "$pth" "$SITE/_rmtweights_src.pth" 644
put "$HERE/env/rmtweights" "$ENV_DIR/bin/rmtweights" 755
