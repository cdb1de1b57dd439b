"""The locked rerun map: for an edit of each library module, which rules' code fingerprints change.

A rule reruns when the code its script runs changes (``rmtweights.provenance``): an edit of a module reruns
exactly the rules whose script's import closure holds it. ``tests/unit/rerun_map.json`` is the committed map
{module: [rules]}; a change that widens a rule's closure (an import that pulls a module into rules that do not
use it) fails here with the difference. If the change is intended, regenerate the map and commit it:

    .venv/bin/python tests/unit/test_rerun_map.py --write
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "src"
MAP = Path(__file__).with_name("rerun_map.json")
sys.path.insert(0, str(SRC))
from rmtweights.provenance import script_closure, script_fingerprint  # noqa: E402

#: A statement that changes a module's code but not what it computes.
NO_OP = "\n_rerun_probe = None\n"


def rule_scripts(scripts: Path = REPO / "scripts") -> list[Path]:
    """The adapters of scripts/ (one per rule)."""
    return sorted(p for p in scripts.glob("*.py") if not p.name.startswith("_") and "snakemake.script" in p.read_text())


def library_modules(src: Path = SRC) -> list[str]:
    """Every module of the rmtweights package, dotted."""
    modules = []
    for path in sorted((src / "rmtweights").rglob("*.py")):
        parts = path.relative_to(src).with_suffix("").parts
        modules.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return modules


def current_map(src: Path = SRC) -> dict[str, list[str]]:
    """{module: sorted rules whose fingerprint an edit of the module changes}."""
    closures = {script.stem: set(script_closure(script, src)) for script in rule_scripts()}
    return {module: sorted(rule for rule, closure in closures.items() if module in closure)
            for module in library_modules(src)}


def _difference(expected: dict[str, list[str]], actual: dict[str, list[str]]) -> list[str]:
    lines = []
    for module in sorted(set(expected) | set(actual)):
        before, after = set(expected.get(module, [])), set(actual.get(module, []))
        if module not in expected:
            lines.append(f"  {module}: new module, reruns {sorted(after) or 'nothing'}")
        elif module not in actual:
            lines.append(f"  {module}: removed")
        elif before != after:
            more, fewer = sorted(after - before), sorted(before - after)
            lines.append(f"  {module}:" + (f" now also reruns {more}" if more else "")
                         + (f" no longer reruns {fewer}" if fewer else ""))
    return lines


def test_rerun_map_is_locked():
    expected = json.loads(MAP.read_text())
    lines = _difference(expected, current_map())
    assert not lines, ("an edit of these modules now reruns other rules than the committed map says "
                       "(tests/unit/rerun_map.json):\n" + "\n".join(lines)
                       + "\nIf intended: .venv/bin/python tests/unit/test_rerun_map.py --write")


@pytest.mark.parametrize("module", ["rmtweights.train_batched", "rmtweights.plots.spectrum", "rmtweights.api",
                                    "rmtweights.weights.torch_file", "rmtweights.sweeps.growth_law",
                                    "rmtweights.rmt.estimators"])
def test_a_real_no_op_edit_reruns_what_the_map_says(tmp_path, module):
    """The map is read off import closures; a real edit of a copy of src/ changes the same fingerprints."""
    src = tmp_path / "src"
    shutil.copytree(SRC, src, ignore=shutil.ignore_patterns("__pycache__"))
    scripts = rule_scripts()
    before = {p.stem: script_fingerprint(p, src) for p in scripts}
    path = src / Path(*module.split(".")).with_suffix(".py")
    path.write_text(path.read_text() + NO_OP)
    changed = sorted(p.stem for p in scripts if script_fingerprint(p, src) != before[p.stem])
    assert changed == current_map()[module]


def test_the_issue_rows_rerun_only_the_rules_that_use_the_code():
    """The measured cases that motivated the split (issue 21): each edit reruns only its own rules."""
    rules = current_map()
    assert rules["rmtweights.train_batched"] == ["train_models_batched"]  # no unbatched training reruns
    assert rules["rmtweights.plots.spectrum"] == ["plot_spectrum"]
    assert rules["rmtweights.api"] == []  # the Python API reruns nothing
    assert rules["rmtweights.sweeps.growth_law"] == ["aggregate_spike_counts"]
    assert "compute_bbp_table" not in rules["rmtweights.sweeps.growth_law"]
    assert not {"train_model", "evaluate_pruning", "extract_spectra", "fit_mp"} & set(rules["rmtweights.weights.torch_file"])


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        MAP.write_text(json.dumps(current_map(), indent=1, sort_keys=True) + "\n")
        print(f"wrote {MAP}")
    else:
        print(__doc__)
