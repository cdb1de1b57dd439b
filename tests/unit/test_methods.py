"""The estimator registry: names, defaults, outputs, the functions it names, and renamed names refused."""

from __future__ import annotations

import dataclasses
import inspect
import typing
from pathlib import Path

import pytest

from rmtweights import methods
from rmtweights.methods import METHOD_NAMES, METHODS, RENAMED, THRESHOLD_METHODS, check_method, check_methods
from rmtweights.provenance import import_closure


def test_names_outputs_and_defaults():
    assert METHOD_NAMES == ("bema", "gb", "modified_mp")
    assert THRESHOLD_METHODS == ("bema", "gb")  # the modified MP fit describes the bulk only
    assert [METHODS[name].display for name in METHOD_NAMES] == ["BEMA", "GB", "modified MP fit"]
    # paper 000, Sec. 4: "alpha = 0.2 and a = 15, respectively, with beta in (3) set to 0.1"
    assert methods.DEFAULTS == {"alpha": 0.2, "a": 15, "beta": 0.1}
    assert not set(RENAMED) & set(METHOD_NAMES) and set(RENAMED.values()) <= set(METHOD_NAMES)


@pytest.mark.parametrize("name", METHOD_NAMES)
def test_each_entry_names_a_function_that_takes_its_options(name):
    method = METHODS[name]
    function = method.load()
    assert function.__module__ == method.function.rpartition(".")[0]
    parameters = inspect.signature(function).parameters
    for option in method.options:
        assert parameters[option].default == methods.DEFAULTS[option], option
    result = typing.get_type_hints(function)["return"]
    if method.records:  # a fit: its sigma and the recorded attributes are fields of the result
        assert {"sigma", *method.records} <= {field.name for field in dataclasses.fields(result)}
    else:  # sigma itself
        assert result is float


def test_registry_imports_no_estimator_code():
    """Figures import the registry, which must not import the fitting code (code fingerprints)."""
    root = Path(methods.__file__).resolve().parents[1]
    assert import_closure(["rmtweights.methods"], root) == ["rmtweights", "rmtweights.methods"]


def test_unknown_and_renamed_names_are_refused_clearly():
    assert check_method("gb") is METHODS["gb"]
    assert check_methods(["bema", "modified_mp"]) == ("bema", "modified_mp")
    assert check_methods("gb") == ("gb",)
    with pytest.raises(ValueError, match=r"method 'mp_fit' is now called 'modified_mp': write modified_mp"):
        check_methods(["bema", "mp_fit"])
    with pytest.raises(ValueError, match=r"method must be one of \['bema', 'gb', 'modified_mp'\], got 'median'"):
        check_method("median")
    with pytest.raises(ValueError, match="methods is empty"):
        check_methods([])
