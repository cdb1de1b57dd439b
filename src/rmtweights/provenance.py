"""Fingerprints of library code, so the workflow reruns a rule when (and only when) the code it runs changes.

Snakemake compares a rule's ``params`` between runs and the modification time of its ``script:``,
but it does not see the library modules the script imports. Every rule of the workflow therefore
carries in its params a fingerprint of the code its script runs (see ``docs/architecture.md``,
"How reruns are decided"):

1. the script's own imports of ``rmtweights`` modules are read from its syntax tree;
2. their *import closure* inside the package is followed the same way (module-level and
   function-level imports alike, since a function-level import runs when the function does);
   importing ``rmtweights.a.b`` also runs the package initialisers ``rmtweights/__init__.py`` and
   ``rmtweights/a/__init__.py``, so those are part of the closure too;
3. the fingerprint hashes the parsed source of every module in the closure with docstrings dropped,
   so comments, docstrings and formatting never trigger a rerun, and any change to what runs does.

The map from rule to code is derived, never written by hand: editing the function that aggregates
study tables reruns the aggregation rules and nothing else, because no per-run script imports it.
Imports made through :func:`importlib.import_module` with a computed name (the package's lazy
re-exports) are not followed: they only run when a caller uses them, and scripts do not.
"""

from __future__ import annotations

import ast
import functools
import hashlib
from collections.abc import Iterable
from pathlib import Path

__all__ = ["code_fingerprint", "file_fingerprint", "import_closure", "module_path", "script_closure",
           "script_fingerprint"]

PACKAGE = "rmtweights"


def module_path(module: str, src_dir: str | Path) -> Path:
    """``rmtweights.rmt.mp`` -> ``<src_dir>/rmtweights/rmt/mp.py`` (or ``.../__init__.py`` for a package)."""
    base = Path(src_dir, *module.split("."))
    package = base / "__init__.py"
    return package if package.is_file() else base.with_suffix(".py")


def _is_module(module: str, src_dir: Path) -> bool:
    return module_path(module, src_dir).is_file()


@functools.lru_cache(maxsize=None)
def _parse(path: Path, mtime_ns: int) -> ast.Module:
    """Parsed source (cached per file version: a DAG build fingerprints many rules)."""
    return ast.parse(path.read_text(), filename=str(path))


def _tree(path: Path) -> ast.Module:
    return _parse(path, path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=None)
def _code_digest(path: Path, mtime_ns: int) -> bytes:
    """SHA-256 of a file's syntax tree without docstrings (its code, not its comments or layout)."""
    tree = _strip_docstrings(ast.parse(path.read_text(), filename=str(path)))
    return hashlib.sha256(ast.dump(tree, annotate_fields=False).encode()).digest()


def _strip_docstrings(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                node.body = body[1:] or [ast.Pass()]
    return tree


def _resolve_relative(module: str, is_package: bool, level: int, name: str | None) -> str:
    """Absolute name of ``from <level dots><name> import ...`` inside ``module``."""
    parts = module.split(".")
    if not is_package:
        parts = parts[:-1]
    parts = parts[: len(parts) - (level - 1)] if level > 1 else parts
    return ".".join(parts + ([name] if name else []))


def _imported_modules(tree: ast.Module, module: str | None, is_package: bool, src_dir: Path) -> set[str]:
    """The ``rmtweights`` modules a syntax tree imports (any depth of the tree)."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                if module is None:
                    continue
                base = _resolve_relative(module, is_package, node.level, node.module)
            # `from pkg import name`: name is a submodule, or an attribute of pkg
            names = [f"{base}.{alias.name}" if _is_module(f"{base}.{alias.name}", src_dir) else base
                     for alias in node.names]
        else:
            continue
        for name in names:
            if name == PACKAGE or name.startswith(PACKAGE + "."):
                # `import a.b.c` runs a, a.b and a.b.c
                parts = name.split(".")
                found.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    return {name for name in found if _is_module(name, src_dir)}


def import_closure(modules: Iterable[str], src_dir: str | Path) -> list[str]:
    """Every ``rmtweights`` module that importing ``modules`` can run, sorted.

    Raises ``FileNotFoundError`` naming a module whose source file is missing.
    """
    src_dir = Path(src_dir)
    todo = list(modules)
    seen: set[str] = set()
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        path = module_path(module, src_dir)
        if not path.is_file():
            raise FileNotFoundError(f"code fingerprint: module {module} has no source file {path}")
        seen.add(module)
        parts = module.split(".")
        todo.extend(".".join(parts[:i]) for i in range(1, len(parts)))  # parent packages run first
        todo.extend(_imported_modules(_tree(path), module, path.name == "__init__.py", src_dir) - seen)
    return sorted(seen)


def code_fingerprint(modules: Iterable[str], src_dir: str | Path) -> str:
    """A 16-hex-digit hash of the given modules' syntax trees without docstrings (order irrelevant).

    Only the named modules are hashed; :func:`script_fingerprint` adds their import closure.
    Raises ``FileNotFoundError`` naming a module whose source file is missing.
    """
    digest = hashlib.sha256()
    for module in sorted(set(modules)):
        path = module_path(module, src_dir)
        if not path.is_file():
            raise FileNotFoundError(f"code fingerprint: module {module} has no source file {path}")
        digest.update(module.encode())
        digest.update(_code_digest(path, path.stat().st_mtime_ns))
    return digest.hexdigest()[:16]


def script_closure(script: str | Path, src_dir: str | Path) -> list[str]:
    """The ``rmtweights`` modules a workflow script runs: the import closure of those it imports, sorted.
    An edit of any of them (other than a comment or docstring) changes :func:`script_fingerprint`."""
    src_dir = Path(src_dir)
    return import_closure(_imported_modules(_tree(Path(script)), None, False, src_dir), src_dir)


def script_fingerprint(script: str | Path, src_dir: str | Path) -> str:
    """Fingerprint of the library code a workflow script runs: :func:`code_fingerprint` of the
    import closure of the ``rmtweights`` modules the script imports.

    The script's own text is not included (Snakemake already reruns a rule whose script is newer
    than its outputs).
    """
    return code_fingerprint(script_closure(script, src_dir), src_dir)


def file_fingerprint(path: str | Path) -> str:
    """A 16-hex-digit hash of one Python file's syntax tree without docstrings (a model factory's file,
    :func:`rmtweights.factory.factory_fingerprint`): comments, docstrings and layout do not change it.

    Raises ``FileNotFoundError`` for a missing file and ``SyntaxError`` for one that does not parse.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"code fingerprint: no file {path}")
    return hashlib.sha256(_code_digest(path.resolve(), path.stat().st_mtime_ns)).hexdigest()[:16]
