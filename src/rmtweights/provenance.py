"""Fingerprints of library code, so the workflow reruns a stage when the code it calls changes.

Snakemake compares a rule's ``params`` between runs but does not track the modules a ``script:``
imports (ARCHITECTURE.md, "Stale means"). The workflow therefore puts :func:`code_fingerprint` of the
modules each rule calls into its params: the hash of their parsed source with docstrings dropped, so
comments, docstrings and formatting do not trigger reruns, while any change to what runs does.
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Iterable
from pathlib import Path

__all__ = ["code_fingerprint", "module_path"]


def module_path(module: str, src_dir: str | Path) -> Path:
    """``rmtweights.rmt.mp`` -> ``<src_dir>/rmtweights/rmt/mp.py``."""
    return Path(src_dir, *module.split(".")).with_suffix(".py")


def _strip_docstrings(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                node.body = body[1:] or [ast.Pass()]
    return tree


def code_fingerprint(modules: Iterable[str], src_dir: str | Path) -> str:
    """A 16-hex-digit hash of the modules' abstract syntax trees (order of ``modules`` irrelevant).

    Raises ``FileNotFoundError`` naming the module when its source file is missing.
    """
    digest = hashlib.sha256()
    for module in sorted(set(modules)):
        path = module_path(module, src_dir)
        if not path.is_file():
            raise FileNotFoundError(f"code fingerprint: module {module} has no source file {path}")
        tree = _strip_docstrings(ast.parse(path.read_text()))
        digest.update(module.encode())
        digest.update(ast.dump(tree, annotate_fields=False).encode())
    return digest.hexdigest()[:16]
