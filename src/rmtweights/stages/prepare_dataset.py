"""Rule ``prepare_dataset``: load (or download) a data set once, where the workflow runs, and describe it.

The summary (:func:`rmtweights.data.summarize`: sizes, shapes, classes, a digest of the tensors) is
what the training and pruning rules check the data set they load against
(:func:`rmtweights.data.load_prepared`), so every job of a study sees the same data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rmtweights import data

__all__ = ["prepare_dataset"]


def prepare_dataset(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The summary of the data set ``spec`` describes (keys ``source``, ``data_dir``, ``synthetic``,
    ``download``, ``normalize``: the rule's ``dataset`` params; :func:`rmtweights.data.load_spec`)."""
    return data.summarize(data.load_spec(spec))
