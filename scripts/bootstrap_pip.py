"""Install pip into a virtual environment created with ``--without-pip``.

``make env`` needs this where ``python3 -m venv`` cannot install pip itself: Debian and Ubuntu
ship ``ensurepip`` in the separate ``python3-venv`` package, which a fresh machine lacks. Rather
than installing a system package, the newest pip wheel is fetched from the package index (the
``PIP_INDEX_URL`` variable, else ``index-url`` of pip's configuration files, else PyPI), checked
against the index's sha256 and run from the wheel itself to install pip into the environment.

Usage: python3 scripts/bootstrap_pip.py ENV_DIR/bin/python
"""

from __future__ import annotations

import configparser
import hashlib
import html.parser
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path

PYPI = "https://pypi.org/simple"
WHEEL = re.compile(r"pip-(\d+(?:\.\d+)*)-py3-none-any\.whl$")


def index_url() -> str:
    """The index pip itself would use first (PIP_INDEX_URL, then pip.conf's global.index-url)."""
    if os.environ.get("PIP_INDEX_URL"):
        return os.environ["PIP_INDEX_URL"].split()[0]
    config_home = Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config"))
    files = [Path("/etc/pip.conf"), Path.home() / ".pip" / "pip.conf", config_home / "pip" / "pip.conf"]
    if os.environ.get("PIP_CONFIG_FILE"):
        files.append(Path(os.environ["PIP_CONFIG_FILE"]))
    url = PYPI
    for path in files:  # later files win, as in pip
        parser = configparser.ConfigParser()
        try:
            parser.read(path)
        except configparser.Error:
            continue
        for section in ("global", "install"):
            if parser.has_option(section, "index-url"):
                url = parser.get(section, "index-url").split()[0]
    return url


class _Links(html.parser.HTMLParser):
    """Hrefs of a PEP 503 simple-index page."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.hrefs += [value for name, value in attrs if name == "href" and value]


def wheels(index: str) -> list[tuple[tuple[int, ...], str, str | None]]:
    """(version, url, sha256 or None) of every final-release pip wheel the index lists."""
    page = index.rstrip("/") + "/pip/"
    fetched = page
    if page.startswith("file:"):  # a local index: a folder per project with an index.html
        fetched = page + "index.html"
    request = urllib.request.Request(
        fetched, headers={"Accept": "application/vnd.pypi.simple.v1+json, text/html;q=0.1"})
    with urllib.request.urlopen(request, timeout=60) as response:
        body = response.read()
        kind = response.headers.get("Content-Type", "")
    if "json" in kind:  # PEP 691
        links = [(f["url"], f.get("hashes", {}).get("sha256")) for f in json.loads(body)["files"]]
    else:  # PEP 503
        parser = _Links()
        parser.feed(body.decode("utf-8", "replace"))
        links = []
        for href in parser.hrefs:
            url, _, fragment = href.partition("#")
            links.append((url, fragment[len("sha256="):] if fragment.startswith("sha256=") else None))
    found = []
    for url, sha256 in links:
        full = urllib.parse.urljoin(page, url)
        match = WHEEL.search(urllib.parse.urlparse(full).path)
        if match:
            found.append((tuple(int(p) for p in match.group(1).split(".")), full, sha256))
    return found


def main(python: str) -> None:
    index = index_url()
    candidates = wheels(index)
    if not candidates:
        sys.exit(f"bootstrap_pip: no pip wheel found at {index}/pip/")
    version, url, sha256 = max(candidates)
    with urllib.request.urlopen(url, timeout=300) as response:
        data = response.read()
    if sha256 and hashlib.sha256(data).hexdigest() != sha256:
        sys.exit(f"bootstrap_pip: sha256 mismatch for {url}")
    with tempfile.TemporaryDirectory() as tmp:
        wheel = Path(tmp) / Path(urllib.parse.urlparse(url).path).name
        wheel.write_bytes(data)
        # pip runs from its own wheel (pip/__main__.py supports this) to install that wheel.
        subprocess.run([python, f"{wheel}/pip", "install", "--quiet", "--no-index", str(wheel)], check=True)
    print(f"bootstrap_pip: installed pip {'.'.join(map(str, version))} from {index}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__.strip().splitlines()[-1])
    main(sys.argv[1])
