"""One stage module per rule, and lean imports for the rules that read only Parquet.

A rule's code fingerprint is the import closure of the modules its script imports
(:mod:`rmtweights.provenance`): each script imports one stage module named like its rule (and
:mod:`rmtweights.io`), so the closure holds what the rule runs and nothing else. Rules that only read
Parquet tables must not pay for importing torch (about 1 s of CPU per job) or scipy submodules they
do not use; each such stage module is imported in a fresh interpreter and its ``sys.modules`` checked.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SCRIPTS = ROOT / "scripts"

#: Rules that read only Parquet tables -> what their stage module must not import besides torch and
#: matplotlib (scipy submodules they do not use; an import inside the function that needs it is fine).
PARQUET_ONLY = {
    "fit_mp": ("scipy.stats", "scipy.integrate"),
    "fit_heavy_tail": ("scipy",),
    "measure_universality": (),  # scipy.stats (its KS test) imports scipy.integrate itself
    "correlate": ("scipy",),
    "aggregate_table": ("scipy",),
    "aggregate_spike_counts": (),
    "gather_spectra": ("scipy",),
    "gather_dynamics": ("scipy",),
    "aggregate_dynamics": ("scipy",),
    "record_snapshot_settings": ("scipy",),
}


def rule_scripts() -> list[Path]:
    """The adapters of scripts/ (one per rule; `_adapter.py` and the environment's helpers excluded)."""
    return sorted(path for path in SCRIPTS.glob("*.py")
                  if not path.name.startswith("_") and "snakemake.script" in path.read_text())


def rmtweights_imports(path: Path) -> dict[str, list[str]]:
    """``{module: [imported names]}`` of a script's ``from rmtweights... import`` statements."""
    imports: dict[str, list[str]] = {}
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("rmtweights"):
            imports.setdefault(node.module, []).extend(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            assert not [a.name for a in node.names if a.name.startswith("rmtweights")], path
    return imports


@pytest.mark.parametrize("script", rule_scripts(), ids=lambda p: p.stem)
def test_each_script_calls_one_function_of_the_stage_module_named_like_its_rule(script):
    imports = rmtweights_imports(script)
    stage = f"rmtweights.stages.{script.stem}"
    assert (ROOT / "src" / "rmtweights" / "stages" / f"{script.stem}.py").is_file()
    assert set(imports) - {"rmtweights"} == {stage}, imports
    assert len(imports[stage]) == 1, imports[stage]  # exactly one function of its stage module
    # and the I/O of rmtweights.io (tables: rmtweights.table_files)
    assert set(imports.get("rmtweights", ["io"])) <= {"io", "table_files"}, imports
    name = imports[stage][0]
    assert f"{name}(" in script.read_text()
    assert 12 <= len(script.read_text().splitlines()) <= 25


def test_every_rule_script_is_covered():
    names = {p.stem for p in rule_scripts()}
    assert set(PARQUET_ONLY) <= names
    assert len(names) >= 23


@pytest.mark.parametrize("rule", sorted(PARQUET_ONLY))
def test_parquet_only_stages_import_neither_torch_nor_unused_scipy(rule):
    code = (f"import sys, json; import rmtweights.io, rmtweights.stages.{rule}; "
            "print(json.dumps(sorted(sys.modules)))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(ROOT / "src"), "PATH": ""})
    assert proc.returncode == 0, proc.stderr
    loaded = set(json.loads(proc.stdout))
    assert f"rmtweights.stages.{rule}" in loaded  # the check looks at the right interpreter
    for banned in ("torch", "matplotlib", *PARQUET_ONLY[rule]):
        assert banned not in loaded, f"importing rmtweights.stages.{rule} imports {banned}"
