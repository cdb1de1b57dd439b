#!/usr/bin/env bash
# Provide Fashion-MNIST for the default study (`make data`, run by `make run`): when the Debian
# package's IDX files are missing from /usr/share/datasets/fashion-mnist, install
# `dataset-fashion-mnist` with apt-get (`apt-get update` first) if this machine can: root and
# apt-get present. Otherwise print one line and succeed: the workflow's rule prepare_dataset then
# stops with its own message listing every place it looked and how to provide the files (config
# keys data_dir and download, or this package).
#   scripts/install_data.sh              as above
#   scripts/install_data.sh --required   fail (exit 1) when the files cannot be provided (CI)
set -euo pipefail

DIR=/usr/share/datasets/fashion-mnist
PACKAGE=dataset-fashion-mnist
REQUIRED=0
[[ ${1:-} == "--required" ]] && REQUIRED=1

# present: the four IDX files, each plain or gzipped (what rmtweights.data reads).
present() {
    local stem
    for stem in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
        [[ -f $DIR/$stem || -f $DIR/$stem.gz ]] || return 1
    done
}

give_up() {
    echo "install_data: Fashion-MNIST not in $DIR and $1; the workflow will say how to provide it" >&2
    ((REQUIRED == 0)) || exit 1
    exit 0
}

present && exit 0
[[ $(id -u) -eq 0 ]] || give_up "installing $PACKAGE needs root (apt-get)"
command -v apt-get >/dev/null || give_up "apt-get is not available to install $PACKAGE"
echo "install_data: installing $PACKAGE (apt-get) into $DIR" >&2
export DEBIAN_FRONTEND=noninteractive
# Wait for a dpkg lock held by another apt-get instead of failing at once.
apt=(apt-get -qq -o DPkg::Lock::Timeout=300)
if ! { "${apt[@]}" update >/dev/null && "${apt[@]}" install -y --no-install-recommends "$PACKAGE" >/dev/null; }; then
    give_up "apt-get could not install $PACKAGE"
fi
present || give_up "$PACKAGE did not provide the four IDX files"
