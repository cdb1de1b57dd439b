"""Put the ``src/`` folder of the rmtweights clone in use on ``sys.path``.

Installed by ``make env`` into the site-packages of the shared environment
(``~/.cache/rmtweights/venv-<hash>``, linked as ``<clone>/.venv`` by every clone) and imported at
interpreter start by the one line of ``_rmtweights_src.pth`` next to it. The library itself is not
installed in the environment, so that each clone imports its own ``src/``:

1. ``<dirname(sys.prefix)>/src``: an interpreter started through the link,
   ``<clone>/.venv/bin/python``, has ``sys.prefix == "<clone>/.venv"`` (the link's path, not the
   cache's), so its parent is the clone;
2. otherwise ``<cwd>/src``: the environment's own ``bin/*`` scripts (``snakemake``, ``pytest``)
   name the cache path in their shebang, so the clone is taken to be the working directory.

A candidate counts only if it holds ``rmtweights/__init__.py``; if neither does, nothing is added
(``import rmtweights`` then fails as it would without this file). The folder is appended, after
site-packages, as ``.pth`` entries are. This runs at every interpreter start-up: it must never
raise (site.py would print the traceback and go on), hence the broad ``except OSError``.
"""

import os
import sys


def _clone_src():
    """The first candidate ``src/`` folder holding the rmtweights package, or None."""
    roots = [os.path.dirname(sys.prefix)]
    try:
        roots.append(os.getcwd())
    except OSError:  # the working directory was deleted
        pass
    for root in roots:
        src = os.path.join(root, "src")
        if os.path.isfile(os.path.join(src, "rmtweights", "__init__.py")):
            return src
    return None


def _add_clone_src():
    try:
        src = _clone_src()
    except OSError:
        return
    if src is not None and src not in sys.path:
        sys.path.append(src)


_add_clone_src()
