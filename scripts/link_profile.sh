#!/usr/bin/env bash
# Make `snakemake --profile slurm` work from the repository root by linking this repository's
# SLURM profile into Snakemake's user profile folder:
#   ~/.config/snakemake/slurm -> <repo>/profiles/slurm
# (`--profile NAME` searches the working directory and the user/system config folders, never
# profiles/; see profiles/README.md.) An existing profile of the same name that is not already
# this link is left alone: the script says so and goes on. Idempotent.
# Usage: scripts/link_profile.sh [--dry-run]
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CONFIG_HOME=${XDG_CONFIG_HOME:-$HOME/.config}
TARGET_DIR=$CONFIG_HOME/snakemake
DRY_RUN=0
[[ ${1:-} == "--dry-run" ]] && DRY_RUN=1

link() {
    local source=$1 name=$2 target=$TARGET_DIR/$2
    if [[ -L $target && $(readlink "$target") == "$source" ]]; then
        echo "link_profile: $target already points to $source"
        return 0
    fi
    if [[ -e $target || -L $target ]]; then
        echo "link_profile: NOTE: $target exists and is not this repository's profile;" \
            "left unchanged. Use --profile $source instead of --profile $name." >&2
        return 0
    fi
    if ((DRY_RUN)); then
        echo "link_profile: would link $target -> $source"
        return 0
    fi
    mkdir -p "$TARGET_DIR"
    ln -s "$source" "$target"
    echo "link_profile: linked $target -> $source"
}

link "$REPO/profiles/slurm" slurm
