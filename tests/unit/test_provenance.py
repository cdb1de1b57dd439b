"""Code fingerprints: docstrings, comments and formatting do not count; code does."""

import pytest

from rmtweights.provenance import code_fingerprint


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


def test_every_workflow_module_exists():
    from pathlib import Path

    src = Path(__file__).resolve().parents[2] / "src"
    for module in ["rmtweights.rmt.mp", "rmtweights.stages", "rmtweights.plots", "rmtweights.prune"]:
        assert len(code_fingerprint([module], src)) == 16
