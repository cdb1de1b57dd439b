"""Choosing tensors by name: ``include`` and ``exclude`` regular expressions, checked against the names."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence

from rmtweights.weights.common import TensorEntry, WeightsError, shown

__all__ = ["select"]


def _patterns(value: Sequence[str] | str | None, role: str, where: str) -> list[re.Pattern[str]]:
    """Compiled patterns of ``include`` or ``exclude``; :class:`WeightsError` on a bad one."""
    if value is None:
        return []
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, Sequence) or not all(isinstance(v, str) for v in values):
        raise WeightsError(f"{role}={value!r} for {where} must be a regular expression or a list of them")
    compiled = []
    for pattern in values:
        try:
            compiled.append(re.compile(pattern))
        except re.error as err:
            raise WeightsError(
                f"{role} pattern {pattern!r} for {where} is not a valid regular expression ({err}); "
                "fix it (escape literal dots and brackets with a backslash)"
            ) from err
    return compiled


def select(entries: Sequence[TensorEntry], include: Sequence[str] | str | None = None,
           exclude: Sequence[str] | str | None = None) -> list[TensorEntry]:
    """The entries whose name matches an ``include`` pattern and no ``exclude`` pattern (``re.search``).

    Parameters
    ----------
    entries : sequence of TensorEntry
        Typically :attr:`WeightsFile.entries`; their order is kept.
    include : str or sequence of str, optional
        Regular expressions; ``None`` keeps every entry. Each must match at least one name (a
        pattern that matches nothing is almost always a typo).
    exclude : str or sequence of str, optional
        Regular expressions; ``None`` drops nothing.

    Raises
    ------
    WeightsError
        If a pattern is not a valid regular expression, an ``include`` pattern matches no name,
        or nothing is left; the message names the file and shows a few names.
    """
    files = list(dict.fromkeys(e.file for e in entries))
    if len(files) <= 1:
        where = files[0] if files else "no file"
    else:
        where = f"{len(files)} files in {os.path.commonpath(files)}"
    keep = _patterns(include, "include", where)
    drop = _patterns(exclude, "exclude", where)
    names = [e.name for e in entries]
    unmatched = [p.pattern for p in keep if not any(p.search(n) for n in names)]
    if unmatched:
        raise WeightsError(
            f"include pattern(s) {shown(unmatched)} match no tensor of {where}; its names are {shown(names)}"
        )
    out = [e for e in entries
           if (not keep or any(p.search(e.name) for p in keep)) and not any(p.search(e.name) for p in drop)]
    if entries and not out:
        raise WeightsError(
            f"include={include!r} and exclude={exclude!r} leave no tensor of {where}; its names are {shown(names)}"
        )
    return out
