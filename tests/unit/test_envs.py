"""Software on cluster nodes: every third-party package a rule's script (and the library modules it
imports, transitively) needs is listed in that rule's conda env file and in pyproject.toml, and the
exact pins of requirements.txt satisfy both."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.version import Version

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "src"

# import name -> (PyPI distribution, conda-forge package)
DISTRIBUTIONS = {
    "numpy": ("numpy", "numpy"),
    "scipy": ("scipy", "scipy"),
    "pandas": ("pandas", "pandas"),
    "pyarrow": ("pyarrow", "pyarrow"),
    "matplotlib": ("matplotlib", "matplotlib-base"),
    "statsmodels": ("statsmodels", "statsmodels"),
    "powerlaw": ("powerlaw", "powerlaw"),
    "torch": ("torch", "pytorch"),
    "torchvision": ("torchvision", "torchvision"),
    "PIL": ("pillow", "pillow"),
    "mpmath": ("mpmath", "mpmath"),
    "safetensors": ("safetensors", "safetensors"),
    "gguf": ("gguf", "gguf"),
    "yaml": ("pyyaml", "pyyaml"),
    "jsonschema": ("jsonschema", "jsonschema"),
}
# pandas reads and writes Parquet through pyarrow (engine="pyarrow"), which it does not import by name.
IMPLIED = {"pandas": {"pyarrow"}}


def imports_of(path: Path) -> set[str]:
    """Top-level module names imported anywhere in a file (TYPE_CHECKING-only imports excluded)."""
    tree = ast.parse(path.read_text())
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip |= {id(n) for n in ast.walk(node)}
    names = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def third_party_closure(path: Path) -> set[str]:
    """Third-party packages needed by a file and the library modules it imports (their import
    closure, the one the code fingerprints use: rmtweights.provenance.import_closure)."""
    from rmtweights.provenance import PACKAGE, import_closure, module_path

    modules = sorted({name for name in imports_of(path) if name.split(".")[0] == PACKAGE
                      and module_path(name, SRC).is_file()})
    files = [path] + [module_path(name, SRC) for name in import_closure(modules, SRC)]
    packages = set()
    for current in files:
        for name in imports_of(current):
            top = name.split(".")[0]
            if top in DISTRIBUTIONS:
                packages.add(top)
                packages |= IMPLIED.get(top, set())
            elif top not in sys.stdlib_module_names and top not in ("snakemake", "__future__", PACKAGE, "_adapter"):
                raise AssertionError(f"{current} imports {top}, which is not in DISTRIBUTIONS: list it")
    return packages


def rule_scripts_and_envs() -> list[tuple[str, Path, Path]]:
    """(rule, script, conda env file) for every rule with both directives."""
    out = []
    for smk in (REPO / "workflow" / "rules").glob("*.smk"):
        for block in re.split(r"(?:^|\n)\s*rule ", smk.read_text())[1:]:
            name = block.split(":", 1)[0].strip()
            conda = re.search(r'conda:\s*\n\s*"([^"]+)"', block)
            script = re.search(r'script:\s*\n\s*"([^"]+)"', block)
            if conda and script:
                out.append((name, (smk.parent / script.group(1)).resolve(), (smk.parent / conda.group(1)).resolve()))
    return out


def conda_packages(env_file: Path) -> dict[str, str]:
    """conda and pip package names of an env file -> version spec ('' when unpinned)."""
    spec = yaml.safe_load(env_file.read_text())
    packages = {}
    for dep in spec["dependencies"]:
        if isinstance(dep, dict):
            for pip_dep in dep.get("pip", []):
                req = Requirement(pip_dep)
                packages[req.name] = str(req.specifier)
        else:
            name, _, version = dep.partition("=")
            packages[name] = version.split("=")[0]
    return packages


def pins() -> dict[str, Version]:
    out = {}
    for line in (REPO / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            req = Requirement(line)
            out[req.name] = Version(next(iter(req.specifier)).version)
    return out


def conda_spec_admits(spec: str, version: Version) -> bool:
    """conda's `2.4` means 2.4.*, `2.*` any 2.x; '' anything; pip specs use PEP 440."""
    if not spec:
        return True
    if spec[0] in "=<>!~":
        return version in Requirement(f"x{spec}").specifier
    prefix = spec.rstrip("*").rstrip(".")
    return str(version) == prefix or str(version).startswith(prefix + ".")


RULES = rule_scripts_and_envs()


def test_every_scripted_rule_has_an_env():
    assert len(RULES) >= 20
    for rule, script, env in RULES:
        assert script.is_file() and env.is_file(), rule


@pytest.mark.parametrize("rule,script,env", RULES, ids=[r[0] for r in RULES])
def test_rule_env_lists_what_its_code_imports(rule, script, env):
    listed = conda_packages(env)
    versions = pins()
    project = {Requirement(d).name: Requirement(d) for d in
               tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]}
    for module in sorted(third_party_closure(script)):
        pypi, conda = DISTRIBUTIONS[module]
        name = conda if conda in listed else pypi
        assert name in listed, f"rule {rule}: {script.name} needs {module}, missing from {env.name}"
        assert pypi in project, f"{pypi} missing from pyproject.toml"
        if pypi in versions:  # the environment `make` builds must satisfy both declarations
            assert versions[pypi] in project[pypi].specifier, f"{pypi}=={versions[pypi]} vs pyproject"
            assert conda_spec_admits(listed[name], versions[pypi]), f"{pypi}=={versions[pypi]} vs {env.name}"


def test_closure_follows_library_imports():
    packages = third_party_closure(REPO / "scripts" / "fit_mp.py")
    assert {"numpy", "scipy", "pandas", "pyarrow"} <= packages
