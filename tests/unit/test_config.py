"""Config checks: the real schema and config, short messages naming the key, checks beyond the schema, and
schema defaults equal to the library's own defaults."""

from __future__ import annotations

import copy
import inspect
from pathlib import Path

import pytest
import yaml

from rmtweights import analyze, api, data, methods
from rmtweights.config import MAX_ERRORS, ConfigError, check_config, config_folder, resolve_paths, validate_config
from rmtweights.rmt import bbp, estimators, heavytail, porter_thomas, threshold, universality
from rmtweights.stages import evaluate_pruning, extract_weights_part, fit_heavy_tail, fit_mp, measure_universality
from rmtweights.sweeps import table1, wigner_outliers
from rmtweights.weights.parts import plan_parts

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = ROOT / "workflow" / "schemas" / "config.schema.yaml"
CONFIG = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
SCHEMA = yaml.safe_load(SCHEMA_PATH.read_text())


def _config() -> dict:
    return copy.deepcopy(CONFIG)


def _error(config: dict, check: bool = False) -> str:
    with pytest.raises(ConfigError) as err:
        validate_config(config, SCHEMA_PATH)
        if check:
            check_config(config)
    return str(err.value)


def _assert_short(message: str) -> None:
    lines = message.splitlines()
    assert 1 <= len(lines) <= MAX_ERRORS + 1 <= 4
    assert all(line.startswith("config error at ") or line.startswith("... and ") for line in lines)
    assert "description" not in message and "$schema" not in message and "additionalProperties" not in message


def test_real_config_validates_and_defaults_are_filled():
    config = _config()
    assert "analyses" not in config["studies"]["demo"] and "batch_size" not in config["analysis"]["prune"]
    assert validate_config(config, SCHEMA_PATH) is config  # filled in place
    check_config(config)
    assert config["studies"]["demo"]["analyses"] == ["heavy_tail", "universality", "prune"]
    assert config["studies"]["demo"]["compare"] is None and config["studies"]["demo"]["sweep"] is None
    assert config["analysis"]["prune"]["batch_size"] == 1000 and config["analysis"]["device"] == "auto"
    assert config["external"] == {}
    assert config["models"]["mlp"]["kwargs"] == {"hidden": [1024, 512, 512]}  # given values kept
    assert config["datasets"]["synthetic"]["synthetic"]["grid"] == 4  # a default inside a given block
    # an omitted block gets its default ({}), which is then filled in turn
    assert config["datasets"]["fashion_mnist"]["synthetic"] == data.SYNTHETIC_DEFAULTS
    assert config["sweeps"]["wigner"]["peche_thetas"] == [0.5, 0.9, 1.5, 2.0, 3.0]


@pytest.mark.parametrize("where, value, expected", [
    (("analysis", "bogus"), 1, "config error at analysis: unknown key 'bogus'"),
    (("analysis", "beta"), "small", "config error at analysis.beta: 'small' is not of type 'number'"),
    (("studies", "demo", "train", "epochs"), -1,
     "config error at studies.demo.train.epochs: -1 is less than the minimum of 1"),
    (("analysis", "prune", "k_fraction"), 1.5, "config error at analysis.prune.k_fraction: 1.5 is greater than"),
    (("sweeps", "wigner", "growth"), "fast", "config error at sweeps.wigner.growth: 'fast' is not one of"),
])
def test_schema_errors_are_short_and_name_the_key(where, value, expected):
    config = _config()
    node = config
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = value
    message = _error(config)
    _assert_short(message)
    assert message.startswith(expected) and where[-1] in message
    if expected.endswith("minimum of 1"):
        assert message == expected  # the whole message, one line


def test_many_errors_are_counted_not_listed():
    config = _config()
    config["analysis"]["beta"] = 2
    config["analysis"]["bogus"] = 1
    config["studies"]["demo"]["seeds"] = [-1]
    config["studies"]["demo"]["train"]["epochs"] = 0
    config["sweeps"]["wigner"]["c"] = -1
    message = _error(config)
    _assert_short(message)
    assert len(message.splitlines()) == MAX_ERRORS + 1 and message.splitlines()[-1] == "... and 2 more"


def test_check_config_refuses_slices_with_universality_or_prune():
    config = _config()
    config["analysis"]["reshape"] = "slices"
    message = _error(config, check=True)
    assert message.startswith("config error at analysis.reshape:") and "studies.demo.analyses" in message
    assert "universality" in message and "prune" in message
    # studies asking only for heavy_tail (or nothing) may pool slices
    for study in config["studies"].values():
        study["analyses"] = ["heavy_tail"]
    validate_config(config, SCHEMA_PATH)
    check_config(config)


@pytest.mark.parametrize("key", ["datasets", "models"])
def test_check_config_refuses_unknown_names(key):
    config = _config()
    config["studies"]["batch"][key] = ["nope"]
    message = _error(config, check=True)
    assert message.startswith(f"config error at studies.batch.{key}: ['nope'] not defined")


def test_check_config_external_prune_layer_needs_checkpoint_and_dataset():
    for spec in ({"weights": "model.safetensors", "prune_layer": "fc2"},
                 {"weights": "model.safetensors", "prune_layer": "fc2", "dataset": "synthetic"},
                 {"checkpoint": "final.pt", "prune_layer": "fc2"}):
        config = _config()
        config["external"] = {"ext": {"net": dict(spec)}}
        message = _error(config, check=True)
        assert message.startswith("config error at external.ext.net.prune_layer:"), spec
    config = _config()
    config["external"] = {"ext": {"net": {"checkpoint": "final.pt", "prune_layer": "fc2", "dataset": "synthetic"}}}
    validate_config(config, SCHEMA_PATH)
    check_config(config)
    config["external"]["ext"]["net"]["dataset"] = "nope"
    assert _error(config, check=True).startswith("config error at external.ext.net.dataset: 'nope'")


def test_external_source_must_be_given():
    config = _config()
    config["external"] = {"ext": {"net": {"include": "fc"}}}
    message = _error(config)
    _assert_short(message)
    assert message.startswith("config error at external.ext.net:")


def test_missing_external_source_names_the_alternatives():
    config = _config()
    config["external"] = {"ext": {"net": {"include": "fc"}}}
    message = _error(config)
    assert all(source in message for source in ("weights", "torchvision", "checkpoint"))


def test_external_checkpoint_and_weights_together_are_refused():
    config = _config()
    config["external"] = {"ext": {"net": {"checkpoint": "final.pt", "weights": "model.safetensors"}}}
    _error(config, check=True)


def test_config_with_only_external_validates():
    config = {"external": {"ext": {"bert": {"weights": "model.safetensors"}}}}
    validate_config(config, SCHEMA_PATH)
    check_config(config)
    assert config["studies"] == {} and config["datasets"] == {}
    assert config["external"]["ext"]["bert"]["layers_per_job"] == 32 and config["sweeps"]["wigner"] is None


# --------------------------------------------------------------------------- schema defaults = library defaults

def _schema_default(*path: str):
    """The ``default`` of a schema property: ``properties`` by key, ``*`` for a name-keyed mapping
    (``additionalProperties``), a sweep's object branch of ``anyOf``."""
    node = SCHEMA
    for key in path:
        if "anyOf" in node:
            node = next(branch for branch in node["anyOf"] if branch.get("type") == "object")
        node = node["additionalProperties"] if key == "*" else node["properties"][key]
    return node["default"]


def _default(function, name: str):
    value = inspect.signature(function).parameters[name].default
    assert value is not inspect.Parameter.empty, f"{function.__qualname__}({name}) has no default"
    return value


def test_synthetic_defaults():
    schema = {key: _schema_default("datasets", "*", "synthetic", key) for key in data.SYNTHETIC_DEFAULTS}
    assert schema == data.SYNTHETIC_DEFAULTS


@pytest.mark.parametrize("path, library", [
    (("analysis", "bema", "alpha"), [(estimators.bema_sigma, "alpha"), (fit_mp.fit_tables, "alpha"),
                                     (api.analyze_model, "alpha")]),
    (("analysis", "gb", "a"), [(estimators.gb_sigma, "a"), (fit_mp.fit_tables, "a"), (api.analyze_model, "a")]),
    (("analysis", "beta"), [(threshold.mp_threshold, "beta"), (fit_mp.fit_tables, "beta"),
                            (api.analyze_model, "beta")]),
    (("analysis", "heavy_tail", "n_bootstrap"), [(heavytail.fit_heavy_tail, "n_bootstrap"),
                                                 (fit_heavy_tail.heavy_tail_table, "n_bootstrap"),
                                                 (api.analyze_model, "n_bootstrap")]),
    (("analysis", "heavy_tail", "seed"), [(heavytail.fit_heavy_tail, "seed"),
                                          (fit_heavy_tail.heavy_tail_table, "seed")]),
    (("analysis", "universality", "a"), [(universality.unfold, "a"), (universality.spacing_test, "a"),
                                         (measure_universality.universality_tables, "a")]),
    (("analysis", "universality", "window"), [(porter_thomas.porter_thomas, "window"),
                                              (extract_weights_part.weights_part_tables, "porter_thomas_window")]),
    (("analysis", "prune", "k_fraction"), [(bbp.curve_k, "k_fraction"), (fit_mp.fit_tables, "k_fraction"),
                                           (evaluate_pruning.prune_tables, "k_fraction")]),
    (("analysis", "prune", "batch_size"), [(evaluate_pruning.prune_tables, "batch_size")]),
    (("analysis", "reshape"), [(api.analyze_model, "reshape"), (extract_weights_part.weights_part_tables, "reshape")]),
    (("external", "*", "*", "layers_per_job"), [(plan_parts, "layers_per_job")]),
    (("sweeps", "wigner", "sigma"), [(wigner_outliers.outlier_sweep, "sigma")]),
    (("sweeps", "wigner", "growth"), [(wigner_outliers.outlier_sweep, "growth")]),
    (("sweeps", "wigner", "c"), [(wigner_outliers.outlier_sweep, "c")]),
    (("sweeps", "wigner", "bulk"), [(wigner_outliers.outlier_sweep, "bulk")]),
    (("sweeps", "bbp_table", "sigma"), [(table1.bbp_table, "sigma")]),
    (("sweeps", "bbp_table", "draws"), [(table1.bbp_table, "draws")]),
    (("sweeps", "bbp_table", "seed"), [(table1.bbp_table, "seed")]),
], ids=lambda v: ".".join(v) if isinstance(v, tuple) else "")
def test_schema_default_equals_library_default(path, library):
    schema = _schema_default(*path)
    for function, name in library:
        assert _default(function, name) == schema, f"{function.__module__}.{function.__qualname__}({name})"


def test_schema_methods_and_defaults_equal_the_registry():
    """The schema repeats the registry's names and defaults for validation (rmtweights.methods)."""
    node = SCHEMA["properties"]["analysis"]["properties"]["methods"]
    assert tuple(node["items"]["enum"]) == methods.METHOD_NAMES == tuple(_schema_default("analysis", "methods"))
    assert _schema_default("analysis", "bema", "alpha") == methods.DEFAULTS["alpha"] == 0.2  # paper 000, App. A
    assert _schema_default("analysis", "gb", "a") == methods.DEFAULTS["a"] == 15  # paper 000, App. B
    assert _schema_default("analysis", "beta") == methods.DEFAULTS["beta"] == 0.1  # paper 000, eq. (3)
    assert _default(api.analyze_model, "methods") == methods.METHOD_NAMES
    for function in (analyze.analyze_spectrum, api.analyze_matrix, analyze.estimate_sigma):
        assert _default(function, "alpha") == methods.DEFAULT_ALPHA and _default(function, "a") == methods.DEFAULT_A


def test_renamed_method_is_refused_with_its_new_name():
    config = _config()
    config["analysis"]["methods"] = ["bema", "mp_fit"]
    message = _error(config)
    _assert_short(message)
    assert message == ("config error at analysis.methods.1: method 'mp_fit' is now called 'modified_mp': "
                       "write modified_mp instead")
    config["analysis"]["methods"] = ["bema", "median"]  # not a renamed one: the schema's own message
    assert "'median' is not one of ['bema', 'gb', 'modified_mp']" in _error(config)


def test_number_variance_windows_default():
    assert list(_default(measure_universality.universality_tables, "ls")) == _schema_default("analysis", "universality",
                                                                                           "ls")


def test_relative_paths_resolve_against_the_config_files_folder(tmp_path):
    """external weights/checkpoint paths mean files next to the config file, rewritten relative to the
    working directory (where jobs run); absolute paths and nulls are kept."""
    work = tmp_path / "project"
    cfg = {"external": {"pre": {"a": {"weights": "models/a.safetensors"},
                                "b": {"checkpoint": "../results/x/final.pt"},
                                "c": {"weights": str(tmp_path / "abs.pt")},
                                "d": {"torchvision": "alexnet", "weights": None}}}}
    resolve_paths(cfg, work / "configs", workdir=work)
    specs = cfg["external"]["pre"]
    assert specs["a"]["weights"] == "configs/models/a.safetensors"
    assert specs["b"]["checkpoint"] == "results/x/final.pt"
    assert specs["c"]["weights"] == str(tmp_path / "abs.pt") and specs["d"]["weights"] is None
    assert config_folder([], "config/config.yaml") == Path("config")
    assert config_folder([Path("/x/a.yaml"), Path("/y/b.yaml")], "config/config.yaml") == Path("/y")


def test_files_of_your_own_model_and_data_resolve_against_the_config_files_folder(tmp_path):
    """datasets.*.path and the file part of models.*.factory resolve like external weights; a factory named as
    an importable module, and built-in sources, are kept."""
    work = tmp_path / "project"
    cfg = {"datasets": {"mine": {"source": "npz", "path": "data/mine.npz"},
                        "pics": {"source": "imagefolder", "path": str(tmp_path / "pics"), "size": [8, 8]},
                        "fm": {"source": "fashion_mnist"}},
           "models": {"own": {"factory": "models/mynet.py:build"}, "pkg": {"factory": "mypackage.nets:build"},
                      "mlp": {"arch": "mlp"}}}
    resolve_paths(cfg, work / "configs", workdir=work)
    assert cfg["datasets"]["mine"]["path"] == "configs/data/mine.npz"
    assert cfg["datasets"]["pics"]["path"] == str(tmp_path / "pics") and "path" not in cfg["datasets"]["fm"]
    assert cfg["models"]["own"]["factory"] == "configs/models/mynet.py:build"
    assert cfg["models"]["pkg"]["factory"] == "mypackage.nets:build" and "factory" not in cfg["models"]["mlp"]


OWN_SPECS = [
    # a model is an arch or a factory
    ("models", "net", {"kwargs": {}}, "config error at models.net: needs one of arch, factory"),
    ("models", "net", {"arch": "mlp", "factory": "net.py:build"}, "config error at models.net"),
    ("models", "net", {"factory": "net.py"}, "models.net.factory: 'net.py' does not match"),
    ("models", "net", {"factory": "net.py:build", "init": "kaiming"},
     "models.net.init: 'kaiming' is not one of ['own', 'glorot']"),
    # a data set of your own names its files
    ("datasets", "mine", {"source": "npz"}, "config error at datasets.mine: 'path' is a required property"),
    ("datasets", "mine", {"source": "imagefolder", "path": "pics"},
     "config error at datasets.mine: 'size' is a required property"),
    ("datasets", "mine", {"source": "torchvision"}, "config error at datasets.mine: 'name' is a required property"),
    ("datasets", "mine", {"source": "npz", "path": "x.npz", "classes": 1},
     "datasets.mine.classes: 1 is less than the minimum of 2"),
]


@pytest.mark.parametrize("section,name,spec,needle", OWN_SPECS, ids=[n for _, _, _, n in OWN_SPECS])
def test_models_and_data_of_your_own_are_checked_with_short_messages(section, name, spec, needle):
    config = _config()
    config[section][name] = spec
    message = _error(config)
    _assert_short(message)
    assert needle in message, message


def test_a_factory_model_may_be_the_spike_count_sweeps_only_if_it_is_spike_mlp():
    config = _config()
    config["models"]["net"] = {"factory": "net.py:build"}
    config["studies"]["spikes"]["models"] = ["net"]
    assert "spike_count trains spike_mlp only" in _error(config, check=True)


def test_series_lists_globs_and_bases_resolve_against_the_config_folder(tmp_path):
    work = tmp_path / "project"
    cfg = {"external": {"pre": {"s": {"weights": ["ckpt/a", str(tmp_path / "b")], "steps": [1, 2]},
                                "g": {"weights": "ckpt/step*"},
                                "f": {"weights": "ft.safetensors", "base": "base.safetensors"}}}}
    resolve_paths(cfg, work / "configs", workdir=work)
    specs = cfg["external"]["pre"]
    assert specs["s"]["weights"] == ["configs/ckpt/a", str(tmp_path / "b")]
    assert specs["g"]["weights"] == "configs/ckpt/step*" and specs["f"]["base"] == "configs/base.safetensors"


@pytest.mark.parametrize("spec, needle", [
    ({"weights": ["a.pt", "b.pt"]}, "external.pre.m.weights: a list of checkpoints is a series: it needs `steps`"),
    ({"weights": "a.pt", "steps": [1]}, "external.pre.m.steps: steps belong to a series"),
    ({"weights": "ckpt/*.pt", "base": "b.pt"}, "external.pre.m.base: a base is compared with one weights file"),
    ({"torchvision": "alexnet", "base": "b.pt"}, "external.pre.m.base"),
])
def test_series_and_base_specs_are_checked(spec, needle):
    config = {"external": {"pre": {"m": spec}}}
    assert needle in _error(config, check=True)


def test_snapshot_epochs_must_lie_within_every_variants_epochs():
    config = _config()
    config["studies"]["demo"]["train"]["snapshot_epochs"] = [0, 1, 2]
    config["studies"]["demo"]["variants"] = {"short": {"train": {"epochs": 1}}, "long": {}}
    message = _error(config, check=True)
    assert message == ("config error at studies.demo.train.snapshot_epochs: epochs [2] lie beyond the 1 epochs of "
                       "variant short")
    config = _config()
    config["studies"]["demo"]["train"]["snapshot_epochs"] = {"every": 0}
    assert "studies.demo.train.snapshot_epochs" in _error(config)
