"""Checking a study configuration before any job runs, with messages that name the key at fault.

:func:`validate_config` checks a config against ``workflow/schemas/config.schema.yaml`` (JSON
Schema 2020-12) and fills in the schema's defaults, like Snakemake's own ``validate``, but stops with
a few lines such as ``config error at studies.demo.train.epochs: -1 is less than the minimum of 1``
instead of a dump of the schema; a value that was renamed (``analysis.methods: [mp_fit]``) is refused
with its new name first. :func:`check_config` then checks what a schema cannot express: that
studies name datasets and models that exist, and that the analyses asked for make sense together.
Pure Python: the Snakefile calls both when it is read.
"""

from __future__ import annotations

import os

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from rmtweights.methods import RENAMED, check_method

__all__ = ["ConfigError", "validate_config", "check_config", "format_error"]

#: How many schema errors one message lists (the rest are counted).
MAX_ERRORS = 3


class ConfigError(ValueError):
    """A configuration the workflow cannot run; the message names the key and what is wrong."""


def _key_path(path: Iterable[Any]) -> str:
    parts = [str(p) for p in path]
    return ".".join(parts) if parts else "(top level)"


def _deepest(error):
    """For oneOf/anyOf failures, the sub-error that got furthest into the instance."""
    while error.context:
        error = max(error.context, key=lambda e: (len(e.absolute_path), -len(e.context or [])))
    return error


def _alternatives(error) -> list[str] | None:
    """The keys a oneOf/anyOf asks for when every branch failed only for a missing key."""
    if error.validator in ("oneOf", "anyOf") and error.context and all(e.validator == "required" for e in error.context):
        return sorted({key for e in error.context for key in e.validator_value})
    return None


def format_error(error) -> str:
    """One line for a ``jsonschema.ValidationError``: the key path and what is wrong with it."""
    keys = _alternatives(error)
    if keys is not None:
        return f"config error at {_key_path(error.absolute_path)}: needs one of {', '.join(keys)}"
    error = _deepest(error)
    where = _key_path(error.absolute_path)
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        unknown = sorted(set(error.instance) - set(allowed))
        hint = f" (allowed: {', '.join(allowed)})" if allowed else ""
        return f"config error at {where}: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}{hint}"
    if error.validator == "required":
        return f"config error at {where}: {error.message}"
    if error.validator == "enum":
        return f"config error at {where}: {error.instance!r} is not one of {error.validator_value}"
    return f"config error at {where}: {error.message}"


def _validator_with_defaults(schema: Mapping[str, Any]):
    """A Draft 2020-12 validator class that fills ``default`` values of missing properties."""
    from jsonschema import Draft202012Validator, validators

    check_properties = Draft202012Validator.VALIDATORS["properties"]

    def properties_with_defaults(validator, properties, instance, schema_):
        if isinstance(instance, dict):
            for name, sub in properties.items():
                if "default" in sub and name not in instance:
                    instance[name] = _copy(sub["default"])
        yield from check_properties(validator, properties, instance, schema_)

    return validators.extend(Draft202012Validator, {"properties": properties_with_defaults})


def _copy(value: Any) -> Any:
    import copy

    return copy.deepcopy(value)


def validate_config(config: dict[str, Any], schema_path: str | Path) -> dict[str, Any]:
    """Check ``config`` against the schema, filling defaults in place; raise :class:`ConfigError` on errors.

    The message lists up to :data:`MAX_ERRORS` errors, one line each (:func:`format_error`).
    """
    import yaml

    _check_renamed(config)
    schema = yaml.safe_load(Path(schema_path).read_text())
    validator = _validator_with_defaults(schema)(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        lines = [format_error(e) for e in errors[:MAX_ERRORS]]
        if len(errors) > MAX_ERRORS:
            lines.append(f"... and {len(errors) - MAX_ERRORS} more")
        raise ConfigError("\n".join(dict.fromkeys(lines)))
    return config


def _check_renamed(config: Mapping[str, Any]) -> None:
    """Refuse a method name that was renamed, saying what to write (:data:`rmtweights.methods.RENAMED`)."""
    analysis = config.get("analysis") if isinstance(config, Mapping) else None
    methods = analysis.get("methods") if isinstance(analysis, Mapping) else None
    for position, name in enumerate(methods if isinstance(methods, list) else []):
        if isinstance(name, str) and name in RENAMED:
            try:
                check_method(name)
            except ValueError as err:
                raise ConfigError(f"config error at analysis.methods.{position}: {err}") from None


def check_config(cfg: Mapping[str, Any]) -> None:
    """Checks beyond the schema: names that must exist, and analyses that need each other.

    Raises :class:`ConfigError` naming the key path.
    """
    for study, spec in cfg["studies"].items():
        for key, known in (("datasets", cfg["datasets"]), ("models", cfg["models"])):
            unknown = [name for name in spec[key] if name not in known]
            if unknown:
                raise ConfigError(f"config error at studies.{study}.{key}: {unknown} not defined under "
                                  f"`{key}:` (defined: {sorted(known)})")
        _check_snapshot_epochs(study, spec)
        if spec["sweep"] == "spike_count":
            archs = {cfg["models"][name].get("arch", "factory") for name in spec["models"]}  # arch xor factory
            if archs != {"spike_mlp"}:
                raise ConfigError(f"config error at studies.{study}.sweep: spike_count trains spike_mlp only, "
                                  f"but the study's models are {sorted(archs)}")
            for variant, override in spec["variants"].items():
                if "width" not in override["model"]:
                    raise ConfigError(f"config error at studies.{study}.variants.{variant}.model.width: required "
                                      "by the spike-count sweep (N of the N x N layer)")
    for study, models in cfg["external"].items():
        if study in cfg["studies"]:
            raise ConfigError(f"config error at external.{study}: a training study has the same name")
        for name, spec in models.items():
            where = f"external.{study}.{name}"
            if spec["dataset"] is not None and spec["dataset"] not in cfg["datasets"]:
                raise ConfigError(f"config error at {where}.dataset: {spec['dataset']!r} is not defined under "
                                  "`datasets:`")
            _check_series_and_base(where, spec)
            if spec["prune_layer"] is not None and (spec["dataset"] is None or "checkpoint" not in spec):
                raise ConfigError(f"config error at {where}.prune_layer: the keep-top-s evaluation needs an "
                                  "rmtweights `checkpoint` (an architecture to run) and a `dataset`")
    if cfg["analysis"]["reshape"] == "slices":
        _check_slices(cfg)
    for name, sweep in cfg["sweeps"].items():
        if sweep is None:
            continue
        missing = [k for k in {"wigner": ("Ns", "seeds", "interval"), "bbp_table": ("sizes", "thetas")}[name]
                   if k not in sweep]
        if missing:
            raise ConfigError(f"config error at sweeps.{name}: missing {missing}")


def _check_snapshot_epochs(study: str, spec: Mapping[str, Any]) -> None:
    """Snapshot epochs must lie within every variant's epochs."""
    for variant, override in spec["variants"].items():
        recipe = {**spec["train"], **override["train"]}
        chosen = recipe.get("snapshot_epochs")
        beyond = sorted(e for e in chosen if e > recipe["epochs"]) if isinstance(chosen, list) else []
        if beyond:
            raise ConfigError(f"config error at studies.{study}.train.snapshot_epochs: epochs {beyond} lie beyond "
                              f"the {recipe['epochs']} epochs of variant {variant}")


def _check_series_and_base(where: str, spec: Mapping[str, Any]) -> None:
    """``steps`` belong to a series of checkpoints, ``base`` to a weights file without an architecture."""
    from rmtweights.plan import is_series  # the one definition of a series (plan imports no config)

    weights, series = spec.get("weights"), is_series(spec)
    if isinstance(weights, list) and ("torchvision" in spec or spec["steps"] is None):
        raise ConfigError(f"config error at {where}.weights: a list of checkpoints is a series: it needs `steps` "
                          "(one per checkpoint) and no `torchvision`")
    if spec["steps"] is not None and not series:
        raise ConfigError(f"config error at {where}.steps: steps belong to a series (`weights` a list or a glob "
                          "pattern)")
    if spec["base"] is not None and (series or "weights" not in spec or "torchvision" in spec):
        raise ConfigError(f"config error at {where}.base: a base is compared with one weights file (`weights`, "
                          "without `torchvision`), not a series")


def _check_slices(cfg: Mapping[str, Any]) -> None:
    """``reshape: slices`` pools the spectra of the kh*kw slices of a conv kernel: fine for the MP fit
    and the heavy-tail test (each slice is an MP matrix of the same shape), meaningless for level
    spacings (independent spectra superposed lose their level repulsion), and without one rank per
    slice for keep-top-s pruning. Refuse the combination, naming the study."""
    for study, spec in cfg["studies"].items():
        bad = sorted({"universality", "prune"} & set(spec["analyses"]))
        if bad:
            raise ConfigError(
                f"config error at analysis.reshape: `slices` pools the kh*kw spectra of a conv kernel, on which "
                f"{' and '.join(bad)} ha{'ve' if len(bad) > 1 else 's'} no meaning (level spacings of superposed "
                f"independent spectra; one rank for many slices), but studies.{study}.analyses asks for "
                f"{bad}: use reshape spatial or flatten, or set studies.{study}.analyses to [heavy_tail] or []")
    if cfg["external"]:
        raise ConfigError("config error at analysis.reshape: `slices` cannot be used with `external` studies, "
                          "which always run the universality tests; use spatial or flatten")


#: Keys that name files, per section of the config, resolved against the config file's folder: the weights
#: (a file, a list of files or a glob pattern), checkpoints and bases of ``external`` specs, the files and
#: folders of ``datasets`` (npz, imagefolder) and the factory files of ``models`` (the file part of
#: ``"path/to/file.py:function"``).
PATH_KEYS: dict[str, tuple[str, ...]] = {"external": ("weights", "checkpoint", "base"), "datasets": ("path",),
                                         "models": ("factory",)}


def config_folder(given: Sequence[str | os.PathLike], default: str | os.PathLike) -> Path:
    """The folder relative paths in the config resolve against: that of the last ``--configfile`` given
    (Snakemake's ``workflow.overwrite_configfiles``; the last one wins where files are merged), else that of
    the workflow's own config file ``default`` (relative to the working directory)."""
    return Path(given[-1] if given else default).parent


def _specs(cfg: Mapping[str, Any], section: str) -> Iterable[dict[str, Any]]:
    """The specs of a config section that may hold file keys (``external`` nests one level deeper)."""
    if section == "external":
        return [spec for models in cfg.get("external", {}).values() for spec in models.values()]
    return list(cfg.get(section, {}).values())


def resolve_paths(cfg: dict[str, Any], folder: str | os.PathLike, workdir: str | os.PathLike = ".") -> dict[str, Any]:
    """Rewrite, in place, every relative file path of the config (:data:`PATH_KEYS`) from the config file's
    ``folder`` to the working directory ``workdir``, where the jobs run.

    A path written in a config file means the same file wherever Snakemake runs (``--directory``), and
    the rewritten path stays relative, so moving the whole project reruns nothing. Absolute paths are
    kept; so are factories named as an importable module (``"package.module:function"``). Returns ``cfg``.
    """
    base, work = Path(folder).absolute(), Path(workdir).absolute()

    def resolve(value: Any) -> Any:
        if isinstance(value, list):
            return [resolve(item) for item in value]
        if isinstance(value, str) and value and not os.path.isabs(value):
            return os.path.relpath(os.path.normpath(base / value), work)
        return value

    for section, keys in PATH_KEYS.items():
        for spec in _specs(cfg, section):
            for key in keys:
                value = spec.get(key)
                if key == "factory" and isinstance(value, str):  # only the file part of "file.py:function"
                    where, colon, function = value.rpartition(":")
                    if colon and where.endswith(".py"):
                        spec[key] = f"{resolve(where)}:{function}"
                elif key in spec:
                    spec[key] = resolve(value)
    return cfg
