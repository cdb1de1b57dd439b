r"""Deformed Wigner matrices :math:`W = R/\sqrt{N} + S` and their outliers.

Simulation and closed forms for the symmetric model of Afanasiev, Berlyand and Kiyashko [1]_,

.. math::

    W = \frac{1}{\sqrt{N}} R + S ,

with :math:`R` an :math:`N \times N` GOE matrix (off-diagonal entries :math:`\mathcal N(0, \sigma^2)`)
and :math:`S` real symmetric with :math:`r = r(N)` eigenvalues ("spikes") outside the support of the
limiting bulk measure :math:`\nu_0` of its spectrum (Assumption 2 of [1]_: :math:`r \to \infty`,
:math:`r = o(N)`).

Conventions (all from [1]_, followed exactly):

* Stieltjes transform, eq. (1.4): :math:`g_\tau(z) = \int d\tau(t) / (t - z)`. For real :math:`z` to the
  right of the support :math:`g_\tau(z) < 0` (e.g. :math:`g_{\delta_0}(z) = -1/z`).
* Subordination function, eq. (1.6): :math:`\omega_\tau(z) = z + \sigma^2 g_\tau(z)`.
* Outlier map, eq. (1.9): :math:`\Phi(z) = z - \sigma^2 g_{\nu_0}(z)`; for :math:`\nu_0 = \delta_0`,
  :math:`\Phi(\theta) = \theta + \sigma^2/\theta`. By Lemma 4.1 of [1]_,
  :math:`\Phi(\omega_{\mu_0}(z)) = z`, so :math:`\omega_{\mu_0}` is the inverse of :math:`\Phi` on
  the outlier region (:func:`outlier_map_inverse`).
* A spike :math:`\lambda` produces an outlier only if it lies beyond the critical point
  :math:`x^*` where :math:`\Phi'(x^*) = 1 - \sigma^2 g_{\nu_0}'(x^*) = 0` (eq. (4.26) of [1]_); the
  bulk edge of :math:`\mu_0` is :math:`\Phi(x^*)`. For :math:`\nu_0 = \delta_0`, :math:`x^* = \sigma`
  and :math:`\Phi(x^*) = 2\sigma`: Péché's phase transition, eq. (1.8) of [1]_ (:func:`peche_limit`).

Bulk measures :math:`\nu_0` are given as ``None`` (:math:`\delta_0`), a dict
``{"kind": "uniform", "low": a, "high": b}`` (uniform density on :math:`[a, b]`) or
``{"kind": "discrete", "values": [...]}`` (equal-weight atoms), or directly as an array of atoms.

Since the GOE is orthogonally invariant, :math:`U R U^\top \overset{d}{=} R` for any orthogonal
:math:`U`, so the spectrum of :math:`R/\sqrt N + U \Lambda U^\top` has the same law as that of
:math:`R/\sqrt N + \Lambda` (the argument opening the proof of Proposition 3.1 of [1]_). The
simulations therefore use a diagonal :math:`S` by default; ``basis="haar"`` gives the general form.

References
----------
.. [1] I. Afanasiev, L. Berlyand, M. Kiyashko, "Asymptotic behavior of eigenvalues of large rank
   perturbations of large random matrices", preprint, 2025 (paper 003; arXiv:2507.12182).
.. [2] S. Péché, "The largest eigenvalue of small rank perturbations of Hermitian random matrices",
   Probab. Theory Related Fields 134(1):127-173, 2006. :doi:`10.1007/s00440-005-0466-z`.
.. [3] F. Mezzadri, "How to generate random matrices from the classical compact groups",
   Notices of the AMS 54(5):592-604, 2007. arXiv:math-ph/0609050.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import scipy.linalg
import scipy.optimize
import scipy.sparse.linalg

from rmtweights.checks import check_sigma

__all__ = [
    "GROWTHS",
    "goe",
    "haar_orthogonal",
    "bulk_eigenvalues",
    "deformation",
    "deformed_wigner",
    "spike_count",
    "spike_positions",
    "stieltjes",
    "stieltjes_derivative",
    "outlier_map",
    "critical_spikes",
    "bulk_edges",
    "outlier_map_inverse",
    "peche_limit",
    "predicted_outliers",
    "top_eigenvalues",
    "parse_bulk",
    "check_solver",
]

GROWTHS = ("constant", "sqrt", "n_over_log")
"""Spike-count growth laws r(N) understood by :func:`spike_count`."""

Solver = Literal["eigh", "lanczos"]
BulkSpec = None | Mapping[str, Any] | Sequence[float] | np.ndarray


# --------------------------------------------------------------------------------------------------
# validation helpers
# --------------------------------------------------------------------------------------------------
def _rng(rng: np.random.Generator | int) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise ValueError(f"rng must be a numpy.random.Generator or an int seed, got {rng!r}")


def _check_size(N: int, name: str = "N") -> int:
    if isinstance(N, bool) or not isinstance(N, (int, np.integer)) or N < 1:
        raise ValueError(f"{name} must be a positive integer, got {N!r}")
    return int(N)


def check_solver(solver: str) -> None:
    """``ValueError`` unless ``solver`` is ``"eigh"`` or ``"lanczos"``."""
    if solver not in ("eigh", "lanczos"):
        raise ValueError(f"solver must be 'eigh' or 'lanczos', got {solver!r}")


def parse_bulk(bulk: BulkSpec) -> dict[str, Any]:
    """Normalise a bulk specification to ``{"kind": "delta0"|"uniform"|"discrete", ...}`` (``ValueError`` if bad).

    A normalised specification is accepted again unchanged.
    """
    if bulk is None:
        return {"kind": "delta0"}
    if isinstance(bulk, Mapping):
        kind = bulk.get("kind")
        if kind == "delta0":
            return {"kind": "delta0"}
        if kind == "uniform":
            extra = set(bulk) - {"kind", "low", "high"}
            if extra or "low" not in bulk or "high" not in bulk:
                raise ValueError(f"uniform bulk needs exactly 'low' and 'high', got {dict(bulk)!r}")
            low, high = float(bulk["low"]), float(bulk["high"])
            if not (np.isfinite(low) and np.isfinite(high) and low < high):
                raise ValueError(f"uniform bulk needs finite low < high, got {dict(bulk)!r}")
            return {"kind": "uniform", "low": low, "high": high}
        if kind == "discrete":
            if set(bulk) != {"kind", "values"}:
                raise ValueError(f"discrete bulk needs exactly 'values', got {dict(bulk)!r}")
            return parse_bulk(np.asarray(bulk["values"], dtype=float))
        raise ValueError(f"bulk kind must be 'delta0', 'uniform' or 'discrete', got {kind!r}")
    values = np.asarray(bulk, dtype=float).ravel()
    if values.size == 0 or not np.all(np.isfinite(values)):
        raise ValueError(f"discrete bulk needs a non-empty array of finite atoms, got {bulk!r}")
    return {"kind": "discrete", "values": np.sort(values)}


def _hull(nu0: dict[str, Any]) -> tuple[float, float]:
    """Convex hull [inf supp, sup supp] of the bulk measure."""
    if nu0["kind"] == "delta0":
        return 0.0, 0.0
    if nu0["kind"] == "uniform":
        return nu0["low"], nu0["high"]
    return float(nu0["values"][0]), float(nu0["values"][-1])


# --------------------------------------------------------------------------------------------------
# matrices
# --------------------------------------------------------------------------------------------------
def _outside_hull(z: float | np.ndarray, bulk: dict[str, Any]) -> tuple[np.ndarray, float, float]:
    """``z`` as a float array with the hull (lo, hi) of the bulk; ValueError if some z is inside or not finite."""
    z = np.asarray(z, dtype=float)
    lo, hi = _hull(bulk)
    if np.any((z >= lo) & (z <= hi)) or not np.all(np.isfinite(z)):
        raise ValueError(f"z must be finite and outside the support hull [{lo}, {hi}], got {z!r}")
    return z, lo, hi


def goe(N: int, sigma: float = 1.0, rng: np.random.Generator | int = 0) -> np.ndarray:
    r"""Symmetric Gaussian matrix :math:`R` of the GOE with off-diagonal variance :math:`\sigma^2`.

    .. math::

        R = (A + A^\top)/\sqrt 2, \quad A_{ij} \overset{iid}{\sim} \mathcal N(0, \sigma^2),

    so :math:`\operatorname{Var} R_{ij} = \sigma^2` for :math:`i \ne j` and
    :math:`\operatorname{Var} R_{ii} = 2\sigma^2`.

    Diagonal convention: the GOE diagonal (variance :math:`2\sigma^2`) makes the law of :math:`R`
    invariant under :math:`R \mapsto U R U^\top`, which the diagonal-:math:`S` shortcut of
    :func:`deformation` needs. Paper [1]_ writes all entries as :math:`\mathcal N(0, \sigma^2)`; the
    :math:`N` diagonal entries of :math:`R/\sqrt N` are :math:`O(N^{-1/2})` and change none of the
    limits (eqs. (1.7)-(1.9), Theorems 2.1-2.2 of [1]_). :math:`R/\sqrt N` has the semicircle law on
    :math:`[-2\sigma, 2\sigma]`, eq. (1.7) of [1]_.

    Parameters
    ----------
    N : int
        Matrix size.
    sigma : float
        Off-diagonal entry standard deviation.
    rng : numpy.random.Generator or int
        Source of randomness (an int is a seed).

    Returns
    -------
    numpy.ndarray
        ``(N, N)`` symmetric float64 array (not yet divided by :math:`\sqrt N`).

    References
    ----------
    .. [1] I. Afanasiev, L. Berlyand, M. Kiyashko, "Asymptotic behavior of eigenvalues of large rank
       perturbations of large random matrices", preprint, 2025 (paper 003; arXiv:2507.12182).
    """
    N = _check_size(N)
    sigma = check_sigma(sigma)
    gen = _rng(rng)
    a = gen.standard_normal((N, N))
    r = a + a.T
    r *= sigma / np.sqrt(2.0)
    return r


def haar_orthogonal(N: int, rng: np.random.Generator | int = 0) -> np.ndarray:
    r"""Haar-distributed orthogonal matrix by QR of a Gaussian matrix with the sign fix of [3]_.

    .. math::

        Z = QR_{\text{QR}}, \quad U = Q \operatorname{diag}(\operatorname{sign} \operatorname{diag} R_{\text{QR}}).

    Without the sign fix the LAPACK QR is not Haar distributed (Sec. 5 of [3]_).

    References
    ----------
    .. [3] F. Mezzadri, "How to generate random matrices from the classical compact groups",
       Notices of the AMS 54(5):592-604, 2007. arXiv:math-ph/0609050.
    """
    N = _check_size(N)
    gen = _rng(rng)
    q, r = np.linalg.qr(gen.standard_normal((N, N)))
    signs = np.sign(np.diag(r))
    signs[signs == 0] = 1.0
    return q * signs  # Sec. 5 of [3]: multiply column j by sign(R_jj)


def bulk_eigenvalues(count: int, bulk: BulkSpec = None) -> np.ndarray:
    r"""Deterministic bulk eigenvalues: the quantiles of :math:`\nu_0` at :math:`(k + 1/2)/\text{count}`.

    :math:`\nu_0 = \delta_0` gives zeros; a uniform bulk on :math:`[a, b]` gives
    :math:`a + (b - a)(k + 1/2)/\text{count}`; a discrete bulk gives the equal-weight quantiles of
    its atoms, so the empirical spectral distribution converges to :math:`\nu_0` (Assumption 1
    of [1]_). Returned in descending order.

    References
    ----------
    .. [1] I. Afanasiev, L. Berlyand, M. Kiyashko, "Asymptotic behavior of eigenvalues of large rank
       perturbations of large random matrices", preprint, 2025 (paper 003; arXiv:2507.12182).
    """
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 0:
        raise ValueError(f"count must be a non-negative integer, got {count!r}")
    nu0 = parse_bulk(bulk)
    p = (np.arange(count) + 0.5) / max(count, 1)
    if nu0["kind"] == "delta0":
        out = np.zeros(count)
    elif nu0["kind"] == "uniform":
        out = nu0["low"] + (nu0["high"] - nu0["low"]) * p
    else:
        atoms = nu0["values"]
        out = atoms[np.minimum((p * atoms.size).astype(int), atoms.size - 1)]
    return np.sort(out)[::-1]


def _spectrum(N: int, spikes: Sequence[float] | np.ndarray, bulk: BulkSpec) -> np.ndarray:
    """Eigenvalues of S: the spikes, then the N - r bulk eigenvalues (validated)."""
    N = _check_size(N)
    spikes = np.asarray(spikes, dtype=float).ravel()
    if spikes.size >= N or not np.all(np.isfinite(spikes)):
        raise ValueError(f"spikes must be fewer than N={N} finite values, got {spikes.size} values")
    return np.concatenate([spikes, bulk_eigenvalues(N - spikes.size, bulk)])


def deformation(
    N: int,
    spikes: Sequence[float] | np.ndarray,
    bulk: BulkSpec = None,
    rng: np.random.Generator | int | None = None,
    *,
    basis: Literal["diagonal", "haar"] = "diagonal",
) -> np.ndarray:
    r"""Deformation :math:`S = U \operatorname{diag}(\lambda_1(S), \dots, \lambda_N(S)) U^\top`.

    The eigenvalues are the :math:`r` given spikes followed by the :math:`N - r` bulk eigenvalues of
    :func:`bulk_eigenvalues` (zeros for :math:`\nu_0 = \delta_0`). ``basis="diagonal"`` takes
    :math:`U = I`; ``basis="haar"`` draws :math:`U` from the Haar measure (:func:`haar_orthogonal`).
    For :math:`W = R/\sqrt N + S` with a GOE :math:`R` both give the same law of the spectrum of
    :math:`W`, since :math:`U^\top R U \overset{d}{=} R` (proof of Proposition 3.1 of [1]_); the
    diagonal form costs :math:`O(N^2)` instead of an :math:`O(N^3)` QR.

    Parameters
    ----------
    N : int
        Matrix size.
    spikes : array_like
        The :math:`r < N` spike eigenvalues.
    bulk : None, dict or array_like
        Bulk measure :math:`\nu_0` (module docstring).
    rng : numpy.random.Generator or int, optional
        Needed for ``basis="haar"`` only.
    basis : {"diagonal", "haar"}
        Eigenbasis of :math:`S`.

    Returns
    -------
    numpy.ndarray
        ``(N, N)`` symmetric matrix; with ``basis="diagonal"`` its diagonal holds the spikes first.

    References
    ----------
    .. [1] I. Afanasiev, L. Berlyand, M. Kiyashko, "Asymptotic behavior of eigenvalues of large rank
       perturbations of large random matrices", preprint, 2025 (paper 003; arXiv:2507.12182).
    """
    if basis not in ("diagonal", "haar"):
        raise ValueError(f"basis must be 'diagonal' or 'haar', got {basis!r}")
    if basis == "haar" and rng is None:
        raise ValueError("basis='haar' needs rng (a Generator or int seed), got None")
    eigenvalues = _spectrum(N, spikes, bulk)
    if basis == "diagonal":
        return np.diag(eigenvalues)
    u = haar_orthogonal(N, rng)
    s = (u * eigenvalues) @ u.T
    return (s + s.T) / 2.0  # symmetrise away rounding


def deformed_wigner(
    N: int,
    spikes: Sequence[float] | np.ndarray,
    sigma: float = 1.0,
    bulk: BulkSpec = None,
    rng: np.random.Generator | int = 0,
) -> np.ndarray:
    r"""One draw of :math:`W = R/\sqrt N + S`, eq. (1.2) of [1]_, with :math:`S` diagonal.

    :math:`R` from :func:`goe`, :math:`S` from :func:`deformation` with ``basis="diagonal"``
    (equivalent in law for the spectrum, see there).

    References
    ----------
    .. [1] I. Afanasiev, L. Berlyand, M. Kiyashko, "Asymptotic behavior of eigenvalues of large rank
       perturbations of large random matrices", preprint, 2025 (paper 003; arXiv:2507.12182).
    """
    diag = _spectrum(N, spikes, bulk)  # S = diag(spikes, bulk), see deformation()
    w = goe(N, sigma, rng)
    w /= np.sqrt(N)  # eq. (1.2) of [1]
    w[np.diag_indices(N)] += diag
    return w


def spike_count(N: int, growth: str = "constant", c: float = 1.0) -> int:
    r"""Number of spikes :math:`r(N)` for a growth law (Assumption 2 of [1]_ wants
    :math:`r \to \infty`, :math:`r = o(N)`).

    .. math::

        r(N) = \operatorname{round}\begin{cases} c & \text{constant (finite rank, Péché's regime)}\\
        c\sqrt N & \text{sqrt} \\ c N / \log N & \text{n\_over\_log} \end{cases}

    clipped to :math:`1 \le r \le N - 1`.

    References
    ----------
    .. [1] I. Afanasiev, L. Berlyand, M. Kiyashko, "Asymptotic behavior of eigenvalues of large rank
       perturbations of large random matrices", preprint, 2025 (paper 003; arXiv:2507.12182).
    """
    N = _check_size(N)
    if growth not in GROWTHS:
        raise ValueError(f"growth must be one of {GROWTHS}, got {growth!r}")
    c = float(c)
    if not np.isfinite(c) or c <= 0:
        raise ValueError(f"c must be a positive finite number, got {c!r}")
    if N < 2:
        raise ValueError(f"N must be at least 2 to hold a spike and a bulk, got {N!r}")
    if growth == "constant":
        raw = c
    elif growth == "sqrt":
        raw = c * np.sqrt(N)
    else:
        raw = c * N / np.log(N)
    return int(min(max(round(raw), 1), N - 1))


def spike_positions(
    r: int,
    interval: tuple[float, float] = (3.0, 5.0),
    placement: Literal["equal", "uniform"] = "equal",
    rng: np.random.Generator | int | None = None,
) -> np.ndarray:
    r"""Spike values in :math:`[a, b]` (the support of :math:`\nu_1^+` in Theorem 2.2 of [1]_), descending.

    ``"equal"``: :math:`b - (b - a)(j - 1)/(r - 1)`, :math:`j = 1..r` (:math:`(a+b)/2` for
    :math:`r = 1`); their counting measure converges to the uniform :math:`\nu_1^+` on
    :math:`[a, b]`. ``"uniform"``: :math:`r` i.i.d. uniform draws (needs ``rng``), sorted.

    References
    ----------
    .. [1] I. Afanasiev, L. Berlyand, M. Kiyashko, "Asymptotic behavior of eigenvalues of large rank
       perturbations of large random matrices", preprint, 2025 (paper 003; arXiv:2507.12182).
    """
    if isinstance(r, bool) or not isinstance(r, (int, np.integer)) or r < 1:
        raise ValueError(f"r must be a positive integer, got {r!r}")
    a, b = (float(v) for v in interval)
    if not (np.isfinite(a) and np.isfinite(b) and a <= b):
        raise ValueError(f"interval must be finite (a, b) with a <= b, got {interval!r}")
    if placement == "equal":
        return np.linspace(b, a, r) if r > 1 else np.array([(a + b) / 2.0])
    if placement == "uniform":
        if rng is None:
            raise ValueError("placement='uniform' needs rng (a Generator or int seed), got None")
        return np.sort(_rng(rng).uniform(a, b, size=r))[::-1]
    raise ValueError(f"placement must be 'equal' or 'uniform', got {placement!r}")


# --------------------------------------------------------------------------------------------------
# closed forms
# --------------------------------------------------------------------------------------------------
def stieltjes(z: float | np.ndarray, nu0: BulkSpec = None) -> np.ndarray:
    r"""Stieltjes transform :math:`g_{\nu_0}(z) = \int d\nu_0(t)/(t - z)`, eq. (1.4) of [1]_, for real
    :math:`z` outside the convex hull of :math:`\operatorname{supp}\nu_0`.

    .. math::

        g_{\delta_0}(z) = -\frac1z, \qquad
        g_{U[a,b]}(z) = \frac{1}{b-a} \log\left|\frac{b - z}{a - z}\right|, \qquad
        g_{\text{discrete}}(z) = \frac1K \sum_{k=1}^K \frac{1}{t_k - z}.

    Sign convention of [1]_: :math:`g(z) < 0` to the right of the support, :math:`> 0` to its left.

    Raises
    ------
    ValueError
        If some ``z`` lies in the closed convex hull of the support.

    References
    ----------
    .. [1] I. Afanasiev, L. Berlyand, M. Kiyashko, "Asymptotic behavior of eigenvalues of large rank
       perturbations of large random matrices", preprint, 2025 (paper 003; arXiv:2507.12182).
    """
    bulk = parse_bulk(nu0)
    z, lo, hi = _outside_hull(z, bulk)
    if bulk["kind"] == "delta0":
        out = -1.0 / z  # eq. (1.4) of [1] with nu0 = delta_0
    elif bulk["kind"] == "uniform":
        out = np.log((hi - z) / (lo - z)) / (hi - lo)  # eq. (1.4) of [1], integrated in closed form
    else:
        out = np.mean(1.0 / (bulk["values"] - z[..., None]), axis=-1)  # eq. (1.4) of [1]
    return out[()]


def stieltjes_derivative(z: float | np.ndarray, nu0: BulkSpec = None) -> np.ndarray:
    r"""Derivative :math:`g_{\nu_0}'(z) = \int d\nu_0(t)/(t - z)^2 > 0` for real :math:`z` outside the hull.

    .. math::

        g_{\delta_0}'(z) = \frac{1}{z^2}, \qquad g_{U[a,b]}'(z) = \frac{1}{(z - a)(z - b)}, \qquad
        g_{\text{discrete}}'(z) = \frac1K \sum_k \frac{1}{(t_k - z)^2}.

    References
    ----------
    .. [1] I. Afanasiev, L. Berlyand, M. Kiyashko, "Asymptotic behavior of eigenvalues of large rank
       perturbations of large random matrices", preprint, 2025 (paper 003; arXiv:2507.12182).
    """
    bulk = parse_bulk(nu0)
    z, lo, hi = _outside_hull(z, bulk)
    if bulk["kind"] == "delta0":
        out = 1.0 / z**2
    elif bulk["kind"] == "uniform":
        out = 1.0 / ((z - lo) * (z - hi))
    else:
        out = np.mean(1.0 / (bulk["values"] - z[..., None]) ** 2, axis=-1)
    return out[()]


def outlier_map(z: float | np.ndarray, sigma: float = 1.0, nu0: BulkSpec = None) -> np.ndarray:
    r"""Outlier map :math:`\Phi(z) = z - \sigma^2 g_{\nu_0}(z)`, eq. (1.9) of [1]_.

    For :math:`\nu_0 = \delta_0`: :math:`\Phi(\theta) = \theta + \sigma^2/\theta` (eq. (1.8) of [1]_).
    By Theorem 2.2 of [1]_, :math:`\lambda_j(W) - \Phi(\lambda_j(S)) \to 0` for the :math:`r` spikes,
    provided the spikes lie beyond the critical points of :func:`critical_spikes` (for
    :math:`\delta_0`: :math:`|\theta| > \sigma`). Defined for real ``z`` outside the support hull.

    References
    ----------
    .. [1] I. Afanasiev, L. Berlyand, M. Kiyashko, "Asymptotic behavior of eigenvalues of large rank
       perturbations of large random matrices", preprint, 2025 (paper 003; arXiv:2507.12182).
    """
    sigma = check_sigma(sigma)
    return np.asarray(np.asarray(z, dtype=float) - sigma**2 * stieltjes(z, nu0))[()]  # eq. (1.9) of [1]


def critical_spikes(sigma: float = 1.0, nu0: BulkSpec = None) -> tuple[float, float]:
    r"""Critical spike values :math:`(x^*_-, x^*_+)` where :math:`\Phi'(x) = 1 - \sigma^2 g_{\nu_0}'(x) = 0`.

    :math:`x^*_+ > \sup\operatorname{supp}\nu_0` (and :math:`x^*_- < \inf\operatorname{supp}\nu_0`)
    solve :math:`\sigma^2 \int d\nu_0(t)/(t - x)^2 = 1` (eq. (4.26) of [1]_). :math:`\Phi` is
    increasing on :math:`(x^*_+, \infty)`; spikes beyond :math:`x^*_\pm` give outliers, the others stick
    to the bulk edge. Closed forms: :math:`\delta_0`: :math:`\pm\sigma` (Péché's threshold, eq. (1.8));
    :math:`U[a, b]`: :math:`(a+b)/2 \pm \sqrt{((b-a)/2)^2 + \sigma^2}`; discrete: Brent's method.

    References
    ----------
    .. [1] I. Afanasiev, L. Berlyand, M. Kiyashko, "Asymptotic behavior of eigenvalues of large rank
       perturbations of large random matrices", preprint, 2025 (paper 003; arXiv:2507.12182).
    """
    sigma = check_sigma(sigma)
    bulk = parse_bulk(nu0)
    lo, hi = _hull(bulk)
    if bulk["kind"] == "delta0":
        return -sigma, sigma
    if bulk["kind"] == "uniform":
        half, mid = (hi - lo) / 2.0, (hi + lo) / 2.0
        root = np.sqrt(half**2 + sigma**2)  # (x - a)(x - b) = sigma^2
        return mid - root, mid + root

    def excess(x: float) -> float:
        return sigma**2 * float(stieltjes_derivative(x, bulk["values"])) - 1.0

    # sigma^2 g'(x) <= sigma^2 / dist(x, hull)^2, so the root is within sigma of the hull; at the
    # hull edge the atom there makes g' blow up.
    eps = 1e-12 * max(1.0, abs(lo), abs(hi), sigma)
    right = scipy.optimize.brentq(excess, hi + eps, hi + sigma, xtol=1e-14, rtol=1e-14)
    left = scipy.optimize.brentq(excess, lo - sigma, lo - eps, xtol=1e-14, rtol=1e-14)
    return float(left), float(right)


def bulk_edges(sigma: float = 1.0, nu0: BulkSpec = None) -> tuple[float, float]:
    r"""Outer edges of :math:`\operatorname{supp}\mu_0`, the limiting spectrum of :math:`W`:
    :math:`(\Phi(x^*_-), \Phi(x^*_+))` with :math:`x^*_\pm` from :func:`critical_spikes`.

    :math:`\Phi` maps the outlier region onto the complement of :math:`\operatorname{supp}\mu_0`
    (Lemma 4.1 of [1]_), so its extreme value at the critical point is the edge. For
    :math:`\nu_0 = \delta_0` this is :math:`\pm 2\sigma`, the semicircle edges of eq. (1.7) of [1]_.

    References
    ----------
    .. [1] I. Afanasiev, L. Berlyand, M. Kiyashko, "Asymptotic behavior of eigenvalues of large rank
       perturbations of large random matrices", preprint, 2025 (paper 003; arXiv:2507.12182).
    """
    left, right = critical_spikes(sigma, nu0)
    return float(outlier_map(left, sigma, nu0)), float(outlier_map(right, sigma, nu0))


def outlier_map_inverse(x: float | np.ndarray, sigma: float = 1.0, nu0: BulkSpec = None) -> np.ndarray:
    r""":math:`\omega_{\mu_0}(x)` for real :math:`x` outside :math:`[\text{left edge}, \text{right edge}]`
    of :math:`\mu_0`: the inverse of :math:`\Phi` on the outlier branches (Lemma 4.1 of [1]_,
    :math:`\Phi(\omega_{\mu_0}(x)) = x`).

    For :math:`\nu_0 = \delta_0`: :math:`\omega(x) = (x + \operatorname{sign}(x)\sqrt{x^2 - 4\sigma^2})/2`.
    Otherwise Brent's method on :math:`[x^*_+, x]` (right side; :math:`\Phi(z) > z` there because
    :math:`g < 0`), mirrored on the left. :math:`\pm\infty` map to :math:`\pm\infty`.

    References
    ----------
    .. [1] I. Afanasiev, L. Berlyand, M. Kiyashko, "Asymptotic behavior of eigenvalues of large rank
       perturbations of large random matrices", preprint, 2025 (paper 003; arXiv:2507.12182).
    """
    sigma = check_sigma(sigma)
    bulk = parse_bulk(nu0)
    x = np.asarray(x, dtype=float)
    left_edge, right_edge = bulk_edges(sigma, bulk)
    if np.any(np.isnan(x)) or np.any((x >= left_edge) & (x <= right_edge)):
        raise ValueError(
            f"x must lie outside the bulk [{left_edge:.6g}, {right_edge:.6g}] of mu_0, got {x!r}"
        )
    if bulk["kind"] == "delta0":
        root = np.sqrt(np.maximum(x**2 - 4.0 * sigma**2, 0.0))
        out = np.where(np.isinf(x), x, (x + np.sign(x) * root) / 2.0)
        return np.asarray(out)[()]
    x_left, x_right = critical_spikes(sigma, bulk)
    flat = x.ravel()
    out = np.empty_like(flat)
    for k, value in enumerate(flat):
        if np.isinf(value):
            out[k] = value
            continue
        lo, hi = (x_right, value) if value > right_edge else (value, x_left)

        def residual(z: float, target: float = value) -> float:
            return float(outlier_map(z, sigma, bulk)) - target

        out[k] = scipy.optimize.brentq(residual, lo, hi, xtol=1e-13, rtol=1e-14)
    return out.reshape(x.shape)[()]


def peche_limit(theta: float | np.ndarray, sigma: float = 1.0) -> np.ndarray:
    r"""Almost-sure limit of :math:`\lambda_1(W)` for a rank-one :math:`S = \theta e_1 e_1^\top`,
    eq. (1.8) of [1]_ (Péché [2]_); any :math:`\theta \le \sigma`, negative ones included, leaves
    the top eigenvalue at the semicircle edge:

    .. math::

        \lim_{N\to\infty} \lambda_1(W) = \begin{cases} \theta + \sigma^2/\theta, & \theta > \sigma, \\
        2\sigma, & \theta \le \sigma. \end{cases}

    At :math:`\theta = \sigma` both branches equal :math:`2\sigma` (continuous phase transition).

    References
    ----------
    .. [1] I. Afanasiev, L. Berlyand, M. Kiyashko, "Asymptotic behavior of eigenvalues of large rank
       perturbations of large random matrices", preprint, 2025 (paper 003; arXiv:2507.12182).
    .. [2] S. Péché, "The largest eigenvalue of small rank perturbations of Hermitian random
       matrices", Probab. Theory Related Fields 134(1):127-173, 2006. :doi:`10.1007/s00440-005-0466-z`.
    """
    sigma = check_sigma(sigma)
    theta = np.asarray(theta, dtype=float)
    safe = np.where(theta > sigma, theta, 1.0)
    return np.where(theta > sigma, safe + sigma**2 / safe, 2.0 * sigma)[()]  # eq. (1.8) of [1]


def predicted_outliers(
    spikes: np.ndarray | Sequence[float], sigma: float = 1.0, nu0: BulkSpec = None
) -> np.ndarray:
    r"""Limits of the eigenvalues of :math:`W` matched to the spikes: :math:`\Phi(\lambda_j(S))` (Theorem 2.2
    of [1]_) for spikes beyond the critical points, the bulk edge on that side otherwise (the
    sticking of eq. (1.8), generalised to any :math:`\nu_0` through :func:`critical_spikes`).

    References
    ----------
    .. [1] I. Afanasiev, L. Berlyand, M. Kiyashko, "Asymptotic behavior of eigenvalues of large rank
       perturbations of large random matrices", preprint, 2025 (paper 003; arXiv:2507.12182).
    """
    spikes = np.asarray(spikes, dtype=float)
    left, right = critical_spikes(sigma, nu0)
    left_edge, right_edge = bulk_edges(sigma, nu0)
    out = np.where(spikes > (left + right) / 2.0, right_edge, left_edge).astype(float)
    above, below = spikes > right, spikes < left
    if np.any(above):
        out[above] = outlier_map(spikes[above], sigma, nu0)  # eq. (2.5) of [1]
    if np.any(below):
        out[below] = outlier_map(spikes[below], sigma, nu0)  # eq. (2.5) of [1]
    return out[()]


# --------------------------------------------------------------------------------------------------
# simulations
# --------------------------------------------------------------------------------------------------
def top_eigenvalues(w: np.ndarray, k: int, solver: Solver = "lanczos") -> np.ndarray:
    r"""The ``k`` largest eigenvalues of a symmetric matrix, descending.

    ``"eigh"``: LAPACK ``syevr`` with ``subset_by_index`` (a full tridiagonal reduction, then only
    ``k`` eigenvalues). ``"lanczos"`` (default): implicitly restarted Lanczos (ARPACK,
    ``which="LA"``, tolerance at machine precision, fixed start vector); it needs only matrix-vector
    products, :math:`O(N^2)` each, instead of the :math:`O(N^3)` reduction, and was about 8 times
    faster at N = 2000-3000 with 10 outliers (same eigenvalues to 1e-14).
    """
    check_solver(solver)
    n = w.shape[0]
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= n:
        raise ValueError(f"k must be an integer in [1, {n}], got {k!r}")
    if solver == "lanczos" and k < n - 1:
        v0 = np.ones(n) / np.sqrt(n)  # deterministic start vector
        values = scipy.sparse.linalg.eigsh(w, k=int(k), which="LA", return_eigenvectors=False, v0=v0)
    else:
        values = scipy.linalg.eigh(
            w, eigvals_only=True, subset_by_index=[n - int(k), n - 1], driver="evr", check_finite=False
        )
    return np.sort(values)[::-1]
