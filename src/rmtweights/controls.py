r"""Random controls of a layer: what its Ave_w curve would look like without learned structure.

Paper 000 ([1]_, Sec. 4, Fig. 2) reports that Ave_w over a candidate rank s tracks the accuracy of
the network that keeps the top s singular values of a layer. Under the ``implied`` reading
(:func:`rmtweights.rmt.bbp.ave_w_curve`) Ave_w(s) rises with s for almost any spectrum, so a high
correlation says something about the trained weights only if it beats the same correlation for
matrices without learned structure, computed against the *same* accuracy curve. The controls:

* ``initial``: the weights training started from (already a state of every run);
* ``gaussian``: a matrix of the layer's shape with i.i.d. normal entries, mean 0 and the trained
  matrix's entry standard deviation (:func:`gaussian_control`);
* ``shuffled``: the trained matrix with its entries permuted at random (:func:`shuffled_control`),
  which keeps the entry distribution (and any heavy tail) but destroys the matrix structure.

The two made from the trained matrix (:data:`DERIVED_CONTROLS`) are spectra states of their own,
decomposed once by rule ``extract_spectra`` for the pruned layer of the runs that correlate.

**Scale.** Ave_w(s) does not change when the whole spectrum is multiplied by c > 0, under both
readings: the weights :math:`\gamma_i - \gamma_{s+1}` scale by c and cancel in the ratio of eq. (6)
of [1]_, and :math:`\hat\phi_i` depends on :math:`\gamma_i/\sigma` only, where
:math:`\sigma = \gamma_{s+1}/c(q, n, \beta)` (``implied``) scales with the spectrum by construction
and :math:`\hat\sigma` (``fixed``) does because BEMA and Gaussian broadening are scale-equivariant,
:math:`\hat\sigma(c\gamma) = c\,\hat\sigma(\gamma)` (``tests/unit/test_controls.py`` checks both
to 1e-12). So "a Gaussian matrix of the layer's shape at the fitted σ" and one at the layer's
entry standard deviation have the same curve; the latter needs no fit and keeps the data flowing one
way (spectra, then fits).

**Seeds.** Each control is drawn from ``numpy.random.default_rng([seed, crc32(layer),
crc32(control)])``, ``seed`` the run's seed: the controls differ between seeds, as the trained
weights do, and do not depend on the order in which layers are decomposed.

References
----------
.. [1] K. Nishikawa, K. Shimizu, H. Hashiguchi, "Evaluating Singular Value Thresholds for DNN
   Weight Matrices based on Random Matrix Theory", 2025, arXiv:2512.12911, eqs. (3)–(6), Fig. 2.
"""

from __future__ import annotations

import zlib

import numpy as np

__all__ = ["CONTROLS", "DERIVED_CONTROLS", "control_rng", "gaussian_control", "shuffled_control",
           "derived_controls"]

#: The states made from the trained matrix (spectra states besides ``trained`` and ``initial``).
DERIVED_CONTROLS: tuple[str, ...] = ("gaussian", "shuffled")
#: Every control a correlation verdict compares the trained weights with, in the order they are reported.
CONTROLS: tuple[str, ...] = ("initial", *DERIVED_CONTROLS)


def control_rng(seed: int, layer: str, control: str) -> np.random.Generator:
    """The generator of one control of one layer: ``default_rng([seed, crc32(layer), crc32(control)])``."""
    if control not in DERIVED_CONTROLS:
        raise ValueError(f"control must be one of {DERIVED_CONTROLS}, got {control!r}")
    return np.random.default_rng([int(seed), zlib.crc32(layer.encode()), zlib.crc32(control.encode())])


def gaussian_control(matrix: np.ndarray, rng: np.random.Generator, mean: float = 0.0) -> np.ndarray:
    """A float64 matrix of ``matrix``'s shape with i.i.d. N(mean, sd²) entries, sd the entry standard
    deviation of ``matrix`` (population SD). Mean 0 for the controls: a non-zero mean would add a
    rank-one spike that pure noise does not have. Its scale does not matter for Ave_w (module notes).
    :func:`rmtweights.baselines.baseline_matrix` passes the layer's own mean."""
    values = np.asarray(matrix, dtype=np.float64)
    return rng.normal(float(mean), float(values.std()), size=values.shape)


def shuffled_control(matrix: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``matrix`` (float64) with its entries permuted uniformly at random: the same entries, no structure."""
    values = np.asarray(matrix, dtype=np.float64)
    return rng.permutation(values.ravel()).reshape(values.shape)


def derived_controls(matrix: np.ndarray, seed: int, layer: str) -> dict[str, np.ndarray]:
    """The controls of :data:`DERIVED_CONTROLS` of one trained layer matrix, by name."""
    makers = {"gaussian": gaussian_control, "shuffled": shuffled_control}
    return {name: makers[name](matrix, control_rng(seed, layer, name)) for name in DERIVED_CONTROLS}
