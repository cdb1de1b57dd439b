"""Code fingerprints: derived from the import closure of a script; docstrings, comments and layout do not count."""

import shutil
from pathlib import Path

import pytest

from rmtweights.methods import METHODS
from rmtweights.provenance import code_fingerprint, import_closure, script_fingerprint

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "src"


def write(tmp_path, text):
    pkg = tmp_path / "pkg"
    pkg.mkdir(exist_ok=True)
    (pkg / "mod.py").write_text(text)
    return code_fingerprint(["pkg.mod"], tmp_path)


def test_docstrings_comments_and_formatting_are_ignored(tmp_path):
    base = write(tmp_path, 'def f(x):\n    return x + 1\n')
    same = write(tmp_path, '"""Module."""\n\n# a comment\ndef f(x):\n    """Doc."""\n    return (x +\n            1)  # c\n')
    assert base == same


def test_a_code_change_changes_the_fingerprint(tmp_path):
    assert write(tmp_path, 'def f(x):\n    return x + 1\n') != write(tmp_path, 'def f(x):\n    return x + 2\n')


def test_missing_module_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="pkg.nope"):
        code_fingerprint(["pkg.nope"], tmp_path)


def make_package(root: Path) -> Path:
    """rmtweights/{__init__, a, b, c, sub/__init__, sub/d} with known imports."""
    pkg = root / "rmtweights"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text('"""Package."""\nimport importlib\n\ndef __getattr__(name):\n'
                                     '    return importlib.import_module("rmtweights.c")\n')
    (pkg / "a.py").write_text("from rmtweights import b\nimport numpy\n")
    (pkg / "b.py").write_text("def f():\n    from .sub import d\n    return d\n")
    (pkg / "c.py").write_text("X = 1\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "d.py").write_text("from ..c import X\n")
    return root


def test_import_closure_follows_absolute_relative_and_function_level_imports(tmp_path):
    root = make_package(tmp_path)
    assert import_closure(["rmtweights.a"], root) == [
        "rmtweights", "rmtweights.a", "rmtweights.b", "rmtweights.c", "rmtweights.sub", "rmtweights.sub.d"]
    # lazy re-exports by a computed name are not followed; third-party imports are ignored
    assert import_closure(["rmtweights.c"], root) == ["rmtweights", "rmtweights.c"]


def test_script_fingerprint_changes_only_with_its_closure(tmp_path):
    root = make_package(tmp_path)
    script = tmp_path / "script.py"
    script.write_text("import sys\nfrom rmtweights import a\n")
    other = tmp_path / "other.py"
    other.write_text("from rmtweights.c import X\n")
    before = script_fingerprint(script, root), script_fingerprint(other, root)
    (root / "rmtweights" / "b.py").write_text("def f():\n    from .sub import d\n    return d, 1\n")
    after = script_fingerprint(script, root), script_fingerprint(other, root)
    assert after[0] != before[0]  # b is in the script's closure
    assert after[1] == before[1]  # but not in the other script's


def test_every_workflow_script_fingerprints():
    scripts = sorted((REPO / "scripts").glob("*.py"))
    assert len(scripts) > 15
    for script in scripts:
        assert len(script_fingerprint(script, SRC)) == 16


def test_stage_closures_are_separate():
    """Per-run stages do not depend on the aggregation, and the spectra do not depend on the estimators."""
    def closure(script):
        from rmtweights.provenance import _imported_modules, _tree

        return set(import_closure(_imported_modules(_tree(REPO / "scripts" / f"{script}.py"), None, False, SRC), SRC))

    per_run = ["extract_spectra", "fit_mp", "fit_heavy_tail", "measure_universality", "evaluate_pruning", "correlate"]
    for script in per_run:
        assert "rmtweights.stages.aggregate_table" not in closure(script), script
    assert "rmtweights.rmt.estimators" not in closure("extract_spectra")
    assert "rmtweights.rmt.estimators" in closure("fit_mp")
    assert "rmtweights.stages.summarise_wigner_outliers" in closure("summarise_wigner_outliers")
    assert not {"rmtweights.train", "rmtweights.train_common", "rmtweights.models"} & closure("fit_mp")
    # module boundaries are rerun boundaries (issue 21): each concept in the closures that run it only
    for script in ("train_model", "evaluate_pruning", "import_model", "extract_spectra"):
        assert "rmtweights.train_batched" not in closure(script), script
    assert "rmtweights.train_batched" in closure("train_models_batched")
    for script in ("extract_spectra", "evaluate_pruning", "fit_mp"):
        assert not {"rmtweights.weights.source", "rmtweights.weights.torch_file"} & closure(script), script
    assert "rmtweights.weights.torch_file" in closure("extract_weights_part")
    assert not {"rmtweights.api", "rmtweights.spectrum"} & closure("fit_mp")
    assert "rmtweights.sweeps.growth_law" not in closure("compute_bbp_table")
    assert "rmtweights.sweeps.wigner_outliers" not in closure("summarise_wigner_outliers")
    # every estimator the registry names is code of the fits, and of no figure or summary
    modules = {method.function.rpartition(".")[0] for method in METHODS.values()}
    assert modules <= closure("fit_mp")
    for script in ["write_summary", "summarise_wigner_outliers"] + [p.stem for p in (REPO / "scripts").glob("plot_*.py")]:
        assert not modules & closure(script), script


NO_OP = "\n    _rerun_probe = None  # a statement: changes the code, not what it computes\n"


def _changed_fingerprints(tmp_path, module: str, anchor: str) -> set[str]:
    """The scripts whose fingerprint changes when a no-op statement goes before ``anchor`` in a copy
    of ``src/rmtweights/<module>``."""
    src = tmp_path / "src"
    shutil.copytree(SRC, src, ignore=shutil.ignore_patterns("__pycache__"))
    scripts = [p for p in sorted((REPO / "scripts").glob("*.py")) if not p.stem.startswith("_")]
    before = {p.stem: script_fingerprint(p, src) for p in scripts}
    path = src / "rmtweights" / module
    text = path.read_text()
    assert text.count(anchor) == 1, (module, anchor)
    path.write_text(text.replace(anchor, NO_OP.lstrip("\n") + anchor))
    return {p.stem for p in scripts if script_fingerprint(p, src) != before[p.stem]}


def test_a_figure_edit_changes_only_its_rules_fingerprint(tmp_path):
    changed = _changed_fingerprints(tmp_path, "plots/spectrum.py",
                                    '    require_columns(spectra, ("layer", "state", "gamma", "q", "n", "m"), "spectra")')
    assert changed == {"plot_spectrum"}


def test_an_estimator_edit_changes_the_fits_and_no_figure(tmp_path):
    changed = _changed_fingerprints(tmp_path, "rmt/estimators.py", "    k_lo = max(1, math.ceil(alpha * m - 1e-9))")
    assert "fit_mp" in changed
    assert not {"extract_spectra", "train_model", "write_summary", "summarise_wigner_outliers"} & changed
    assert not {name for name in changed if name.startswith("plot_")}


def test_a_summary_check_edit_changes_only_the_summary(tmp_path):
    changed = _changed_fingerprints(tmp_path, "summary/paper003.py", "    kinds = {v.kind for v in verdicts}")
    assert changed == {"write_summary"}


def test_a_markdown_view_edit_changes_only_the_rules_that_write_tables(tmp_path):
    changed = _changed_fingerprints(tmp_path, "table_files.py", "    columns = list(frame.columns)")
    assert changed == {"aggregate_table", "aggregate_spike_counts", "aggregate_dynamics", "compute_bbp_table",
                       "summarise_wigner_outliers"}


def test_the_data_readers_are_code_of_the_rules_that_load_data_only(tmp_path):
    changed = _changed_fingerprints(tmp_path, "data_sources.py", "    nx_train, ny_train, nx_test, ny_test = names")
    assert changed == {"prepare_dataset", "train_model", "train_models_batched", "evaluate_pruning", "import_model",
                       "take_snapshot"}  # take_snapshot replays training where an epoch was not kept


def test_file_fingerprint_is_that_of_the_code(tmp_path):
    from rmtweights.provenance import file_fingerprint

    path = tmp_path / "net.py"
    path.write_text('"""Doc."""\ndef build(x):\n    return x  # comment\n')
    first = file_fingerprint(path)
    path.write_text('"""Other doc."""\n\ndef build(x):\n    return x\n')
    assert file_fingerprint(path) == first and len(first) == 16
    path.write_text('def build(x):\n    return x + 1\n')
    assert file_fingerprint(path) != first
    with pytest.raises(FileNotFoundError, match="no file"):
        file_fingerprint(tmp_path / "missing.py")


def test_the_factory_loader_is_code_of_the_rules_that_build_models_only(tmp_path):
    changed = _changed_fingerprints(tmp_path, "factory.py", "    shape = tuple(int(s) for s in input_shape)")
    assert changed == {"train_model", "train_models_batched", "evaluate_pruning", "import_model", "take_snapshot"}


@pytest.mark.parametrize("module, anchor, rules", [
    # the dynamics and differences (issue 22): each edit reruns its own rules only
    ("plots/dynamics.py", '    axis = "epoch" if "epoch" in table.columns else "step"', {"plot_dynamics"}),
    ("stages/gather_dynamics.py", "    snapshots = sorted(", {"gather_dynamics"}),
    ("stages/aggregate_dynamics.py", "    by = [*GROUP, axis,", {"aggregate_dynamics"}),
    ("stages/snapshot_tables.py", "    rows, vectors = [], []", {"analyze_snapshot", "analyze_checkpoint"}),
    ("stages/layer_states.py", "    vectors: dict[str, np.ndarray] = {}",
     {"analyze_snapshot", "analyze_checkpoint", "diff_weights"}),
    ("rmt/subspace.py", "    a = _basis(\"va\", va)\n    b = _basis(\"vb\", vb, a.shape[0])\n    d, k_a",
     {"gather_dynamics", "diff_weights"}),
    ("diff.py", "    methods = check_methods(methods)\n    heavy_tail", {"diff_weights"}),
    ("stages/take_snapshot.py", "    log = log or (lambda line: None)", {"take_snapshot"}),
])
def test_a_dynamics_edit_changes_only_its_rules_fingerprints(tmp_path, module, anchor, rules):
    assert _changed_fingerprints(tmp_path, module, anchor) == rules
