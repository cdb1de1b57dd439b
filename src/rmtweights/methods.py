"""The estimators of the noise level sigma: one registry that every other module reads.

Each entry says what a method is called (in tables, configs and the ``--methods`` option, and for a
reader), which options it takes and their defaults, what it can output, where it is described,
and which function fits it. Everything else (the schema check in :mod:`rmtweights.config`, the fit
stage, :func:`rmtweights.api.analyze_model`, the command line, the figures and the summary) takes
the list of names and their properties from here; ``workflow/schemas/config.schema.yaml`` repeats the
names and defaults for the config's validation, and a unit test checks that it agrees.

Data only: the fitting functions are named by a dotted path and imported when :meth:`Method.load`
is called. A workflow rule reruns when a module its script imports changes
(:mod:`rmtweights.provenance`); figures and the summary import this module, and must not be redrawn
because an estimator's code changed.

References
----------
.. [1] K. Nishikawa, K. Shimizu, H. Hashiguchi, "Evaluating Singular Value Thresholds for DNN
   Weight Matrices based on Random Matrix Theory", 2025, arXiv:2512.12911, eq. (3), App. A, App. B.
.. [2] M. Thamm, M. Staats, B. Rosenow, "Random matrix theory analysis of neural network weight
   matrices", 2024 (an earlier version: Phys. Rev. E 106, 054124 (2022), arXiv:2203.14661), Sec. 4.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

__all__ = [
    "DEFAULT_ALPHA",
    "DEFAULT_A",
    "DEFAULT_BETA",
    "DEFAULTS",
    "Method",
    "METHODS",
    "METHOD_NAMES",
    "THRESHOLD_METHODS",
    "RENAMED",
    "check_method",
    "check_methods",
]

#: BEMA's trimmed fraction at each end of the spectrum (App. A of [1]_); also the start value and
#: outlier fence of the estimators that begin from BEMA.
DEFAULT_ALPHA = 0.2
#: Half-width of the Gaussian-broadening window, in neighbouring singular values (App. B of [1]_).
DEFAULT_A = 15
#: Tail probability of the Tracy–Widom correction of the threshold (eq. (3) of [1]_).
DEFAULT_BETA = 0.1
#: The defaults by option name, as in the config's ``analysis`` section.
DEFAULTS: dict[str, float] = {"alpha": DEFAULT_ALPHA, "a": DEFAULT_A, "beta": DEFAULT_BETA}


@dataclass(frozen=True)
class Method:
    """One estimator of sigma.

    Attributes
    ----------
    name : str
        The name in tables (the ``method`` column), configs (``analysis.methods``) and the command line.
    display : str
        The name a reader sees in figures and the summary.
    description : str
        What it does, in one line.
    reference : str
        Where it is defined (paper and section).
    function : str
        Dotted path of the function that fits it, called as ``function(gammas, q, **options)``.
    options : tuple of str
        The keywords of :data:`DEFAULTS` that ``function`` takes.
    threshold : bool
        True when the fitted sigma is the noise level that eq. (3) of [1]_ needs: the method then
        gives a threshold, s-hat, theta-hat, phi-hat and Ave_w. False for a fit that describes the
        bulk only (its sigma is an amplitude); its rows carry the fit and no count.
    records : tuple of str
        Attributes of ``function``'s result that the fit row records besides sigma (empty when the
        function returns sigma itself).
    """

    name: str
    display: str
    description: str
    reference: str
    function: str
    options: tuple[str, ...]
    threshold: bool
    records: tuple[str, ...] = ()

    def load(self) -> Callable:
        """The fitting function (imported now: this module imports no estimator code itself)."""
        module, _, name = self.function.rpartition(".")
        return getattr(importlib.import_module(module), name)


#: Every estimator, by name, in the order tables and figures list them.
METHODS: dict[str, Method] = {
    method.name: method for method in (
        Method(name="bema", display="BEMA",
               description="bulk-edge matching of the trimmed spectrum's quantiles to the MP law",
               reference="paper 000, App. A", function="rmtweights.rmt.estimators.bema_sigma",
               options=("alpha",), threshold=True),
        Method(name="gb", display="GB",
               description="Gaussian broadening of the spectral density, matched to the MP law",
               reference="paper 000, App. B", function="rmtweights.rmt.estimators.gb_sigma",
               options=("a", "alpha"), threshold=True),
        # No threshold: with the lower edge fixed at the smallest value and the upper edge nu_+ free,
        # the density's mass is free too, and sigma is an amplitude that absorbs the part of the
        # spectrum that is not MP. Its fitted edge is no substitute either: on pure Gaussian noise
        # nu_+/(1 + sqrt q) comes out about 1 % below the true sigma (400 x 200 ... 1000 x 500, 10
        # seeds each), which puts eq. (3)'s threshold below the Tracy-Widom quantile and reports
        # spikes in 5 to 13 of 20 noise matrices instead of the design level beta = 10 %.
        Method(name="modified_mp", display="modified MP fit",
               description="the MP law with free edges fitted to the bulk's shape (no threshold)",
               reference="paper 001, Sec. 4", function="rmtweights.rmt.estimators.modified_mp_fit",
               options=("a", "alpha"), threshold=False, records=("fraction_mp", "nu_max")),
    )
}
#: The names, in order (the default of ``analysis.methods`` and of ``--methods``).
METHOD_NAMES: tuple[str, ...] = tuple(METHODS)
#: The methods whose sigma sets a threshold (eq. (3) of [1]_), hence s-hat, spikes and Ave_w.
THRESHOLD_METHODS: tuple[str, ...] = tuple(name for name, method in METHODS.items() if method.threshold)
#: Names used before, with the name to write now (refused with that advice, never mapped silently).
RENAMED: dict[str, str] = {"mp_fit": "modified_mp"}


def check_method(name: str) -> Method:
    """The registry entry of ``name``; ``ValueError`` naming the valid names, or the new name of a
    renamed one."""
    if name in METHODS:
        return METHODS[name]
    if name in RENAMED:
        raise ValueError(f"method {name!r} is now called {RENAMED[name]!r}: write {RENAMED[name]} instead")
    raise ValueError(f"method must be one of {list(METHOD_NAMES)}, got {name!r}")


def check_methods(names: Iterable[str]) -> tuple[str, ...]:
    """``names`` as a tuple after :func:`check_method` of each (``ValueError`` for an empty list)."""
    if isinstance(names, str):
        names = (names,)
    names = tuple(names)
    if not names:
        raise ValueError(f"methods is empty: name one or more of {list(METHOD_NAMES)}")
    for name in names:
        check_method(name)
    return names
