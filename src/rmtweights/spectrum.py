r"""Singular values (and right singular vectors) of one layer matrix: fast, float64-accurate.

A layer matrix :math:`W` (any orientation) is oriented tall, :math:`A \in \mathbb R^{n\times m}`
with :math:`n \ge m` (:math:`A = W` or :math:`W^\top`), and its singular values are taken from the
eigenvalues of the :math:`m \times m` Gram matrix formed in float64,

.. math::

    G = A^\top A, \qquad \hat s_i = \sqrt{\max(\hat\lambda_i(G), 0)}, \qquad
    A^\top A\, v_i = s_i^2 v_i ,

so the eigenvectors :math:`v_i` of :math:`G` are the right singular vectors of :math:`A` (the
vectors of length :math:`m`, the shorter side). :math:`G` is one BLAS ``dsyrk`` (half the flops of
a general product), its eigenvalues one LAPACK ``dsyevd`` (tridiagonal reduction + ``dsterf``
without vectors, divide and conquer with vectors), both through :mod:`scipy.linalg`.

**Why this path.** Weights are stored in float32 or coarser, so singular values accurate to a
few float32 units of :math:`s_{\max}` carry all the information in the data. Measured on one thread
for 37 transformer layers (384x384 x25, 384x1536 x6, 1536x384 x6; ``benchmarks/bench_spectrum.py``)
the float64 Gram path is the fastest one that keeps every singular value within
:math:`10^{-5} s_{\max}` of float64 LAPACK ``gesdd`` (observed :math:`\sim 10^{-11} s_{\max}`): about
0.45 of the time of float64 ``gesdd`` and 0.75 of float32 ``gesdd`` (error
:math:`\sim 10^{-6} s_{\max}`); a float32 Gram matrix is faster still but off by
:math:`\sim 10^{-4} s_{\max}` (its eigenvalue error :math:`u_{32} s_{\max}^2` becomes
:math:`\sqrt{u_{32}}\, s_{\max}` on small singular values) and is not used. The same holds for each
shape on its own (square ties with float32 ``gesdd``, 4:1 wins by ~1.7x), so there is one path.
The LAPACK drivers ev / evd / evr / evx take the same time without vectors (all reduce to
tridiagonal form and call ``dsterf``); with vectors ``evd`` is the fastest, and the Gram path is
about 2.5x faster than float64 ``gesdd`` (which also computes the :math:`n \times m` left vectors).

**Error bound and** ``rank_tolerance``. Forming :math:`G` in float64 (unit roundoff
:math:`u = 2^{-53}`) perturbs each entry by at most :math:`\gamma_n |a_i|^\top |a_j|`
(eq. (3.13) of [1]_), with the probabilistic constant :math:`\gamma_n \approx \sqrt n\, u`
of [2]_, hence :math:`\|\delta G\|_2 \le \|\delta G\|_F \lesssim \sqrt n\, u\, \|A\|_F^2`; the
symmetric eigensolver is backward stable with error :math:`\lesssim m\, u\, \lambda_{\max}` (Sec. 5.4
of [3]_). By Weyl's inequality (Cor. 8.1.6 of [4]_) every computed eigenvalue then lies within

.. math::

    \delta\lambda = u \left(\sqrt n\, \|A\|_F^2 + m\, \lambda_{\max}\right), \qquad
    |\hat s_i - s_i| = \frac{|\hat\lambda_i - s_i^2|}{\hat s_i + s_i}
                   \le \min\!\left(\sqrt{\delta\lambda},\ \frac{\delta\lambda}{s_i}\right),

so the *path floor* is :math:`P = \sqrt{\delta\lambda}` (:math:`\|A\|_F^2 = \operatorname{tr} G`,
free). Large singular values are accurate to :math:`\delta\lambda / s_i` (relative
:math:`\sim 10^{-13}`); values at or below :math:`P` cannot be told from zero. The input's own
precision adds a *data floor*: a matrix stored with unit roundoff :math:`u_{\rm in}`
(:math:`2^{-24}` float32, :math:`2^{-11}` float16, :math:`2^{-8}` bfloat16, :math:`2^{-53}` float64)
is the rounding of one that differs entrywise by :math:`|E_{ij}| \le u_{\rm in} |A_{ij}|`, so
:math:`\operatorname{rms}(E) \le u_{\rm in} \operatorname{rms}(A)`, and a matrix of independent
centred entries of that size has spectral norm :math:`\approx \operatorname{rms}(E)(\sqrt n+\sqrt m)`
(Bai–Yin [5]_; Latała [6]_ for unequal variances):

.. math::

    D = u_{\rm in}\, \|A\|_F\, \frac{\sqrt n + \sqrt m}{\sqrt{nm}}, \qquad
    \texttt{rank\_tolerance} = P + D

(the two perturbations add by Weyl's inequality for singular values, Cor. 8.6.2 of [4]_).
``path_tolerance`` is :math:`P` alone: the right scale to compare the returned values with an exact
SVD of the *same* stored matrix. Note that for coarse inputs :math:`D` is large
(:math:`\approx u_{\rm in} s_{\max}`, i.e. :math:`4\cdot 10^{-3} s_{\max}` for bfloat16): the hard-edge
singular values of a square bfloat16 matrix really are below the precision of its data.

**Vectors.** The computed :math:`\hat v_i` is within an angle
:math:`\lesssim \delta\lambda / \mathrm{gap}_i` of :math:`v_i`, with
:math:`\mathrm{gap}_i = \min_{j\ne i}|s_i^2 - s_j^2|` (Davis–Kahan [7]_). For singular values
separated by more than a few :math:`10^{-3} s_{\max}^2` (the bulk and the spikes of a Gaussian layer)
this is :math:`\lesssim 10^{-10}`; measured against ``gesdd`` the entries agree to
:math:`\sim 10^{-14}` there, and to :math:`< 10^{-11}` even for gaps of :math:`10^{-7} s_{\max}^2`
near the hard edge of square matrices up to 2000 x 2000 (the tests assert :math:`10^{-8}`).
Vectors of (nearly) repeated or zero singular values are, as with any SVD, only determined up to a
rotation within their cluster.

**GPU.** With a torch ``device`` (``"cuda"``, ``"cuda:1"``, a :class:`torch.device`, or ``"auto"``
when CUDA is available) the same computation runs in torch: the matrix is moved to the device in
float64, :math:`G = A^\top A` by ``torch.matmul``, then ``torch.linalg.eigvalsh`` (or ``eigh``) on
the device; results come back as float64 numpy. ``device="cpu"`` runs this torch code on the CPU
(torch's own LAPACK and thread pool), which is how it is tested without a GPU. The bounds above
hold unchanged (same algorithm, same precision).

**Fallback.** If the eigensolver does not converge (``LinAlgError``, not observed in practice), the
singular values come from float64 ``gesdd`` (``gesvd`` if that fails too), method ``"gesdd-f64"``,
with path floor :math:`P = \max(n, m)\, \epsilon\, s_{\max}` (:math:`\epsilon = 2u`), the
backward-error rule of ``numpy.linalg.matrix_rank`` (Sec. 2.6 of [8]_).

References
----------
.. [1] N. J. Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed., SIAM (2002),
   Sec. 3.5, eq. (3.13). :doi:`10.1137/1.9780898718027`
.. [2] N. J. Higham, T. Mary, "A new approach to probabilistic rounding error analysis", SIAM
   Journal on Scientific Computing 41(5), A2815–A2835 (2019). :doi:`10.1137/18M1226312`
.. [3] J. W. Demmel, *Applied Numerical Linear Algebra*, SIAM (1997), Secs. 5.2 and 5.4.
   :doi:`10.1137/1.9781611971446`
.. [4] G. H. Golub, C. F. Van Loan, *Matrix Computations*, 4th ed., Johns Hopkins University Press
   (2013), Cor. 8.1.6 and Cor. 8.6.2.
.. [5] Z. D. Bai, Y. Q. Yin, "Limit of the smallest eigenvalue of a large dimensional sample
   covariance matrix", Annals of Probability 21(3), 1275–1294 (1993).
   :doi:`10.1214/aop/1176989118`
.. [6] R. Latała, "Some estimates of norms of random matrices", Proceedings of the American
   Mathematical Society 133(5), 1273–1282 (2005). :doi:`10.1090/S0002-9939-04-07800-1`
.. [7] C. Davis, W. M. Kahan, "The rotation of eigenvectors by a perturbation. III", SIAM Journal
   on Numerical Analysis 7(1), 1–46 (1970). :doi:`10.1137/0707001`
.. [8] W. H. Press, S. A. Teukolsky, W. T. Vetterling, B. P. Flannery, *Numerical Recipes*, 3rd ed.,
   Cambridge University Press (2007), Sec. 2.6.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.linalg
from scipy.linalg import blas as _blas

__all__ = ["Spectrum", "LayerSpectrum", "singular_values", "check_matrix", "layer_spectrum"]

_U64 = 2.0**-53  # unit roundoff of float64
# Rescale float64 input by a power of two (exact) when tr(A^T A) leaves [2^-800, inf): below it the
# Gram entries and eigensolver intermediates would lose accuracy to (gradual) underflow.
_TINY_FRO2 = 2.0**-800


@dataclass(frozen=True, eq=False)
class Spectrum:
    """Singular values (and right singular vectors) of one matrix; see :mod:`rmtweights.spectrum`.

    Attributes
    ----------
    sv : numpy.ndarray
        The m = min(rows, cols) singular values, float64, descending, >= 0 (read-only).
    right_vectors : numpy.ndarray or None
        m x m float64 (read-only) whose column ``i`` is the unit right singular vector of ``sv[i]``
        of the tall orientation A (length m, the shorter side; for a wide input these are the left
        singular vectors of the input), sign arbitrary; None unless requested.
    method : str
        Path used: ``"gram-eigh-f64"`` (scipy), ``"torch-<device type>-gram-f64"`` (torch), or a
        fallback ``"gesdd-f64"`` / ``"gesvd-f64"`` / ``"torch-<device type>-svd-f64"``.
    rank_tolerance : float
        :math:`P + D`: singular values at or below it are indistinguishable from zero for this path
        and this input dtype.
    path_tolerance : float
        :math:`P`: the path's own absolute error bound on every singular value (module docstring).
    n, m : int
        Shape after orientation (n >= m).
    """

    sv: np.ndarray
    right_vectors: np.ndarray | None
    method: str
    rank_tolerance: float
    path_tolerance: float
    n: int
    m: int


# ---------------------------------------------------------------------------------- input checks
def _is_tensor(matrix: Any) -> bool:
    """A torch.Tensor (duck-typed, so torch is imported only when a tensor is passed)."""
    return hasattr(matrix, "detach") and hasattr(matrix, "dtype") and hasattr(matrix, "device")


def _unit_roundoff(dtype: Any) -> float | None:
    """Unit roundoff of a real numpy / torch dtype (max with float64's); None if not real numeric."""
    if not isinstance(dtype, np.dtype):  # torch dtype
        import torch

        if dtype.is_complex:
            return None
        if dtype.is_floating_point:
            return max(torch.finfo(dtype).eps / 2.0, _U64)
        return _U64  # integers and bool: exact in float64 up to 2^53
    if dtype.kind == "f":
        return max(float(np.finfo(dtype).eps) / 2.0, _U64)
    if dtype.kind in "iub":
        return _U64
    return None


def check_matrix(matrix: Any) -> str | None:
    """The reason ``matrix`` cannot be decomposed, or None if :func:`singular_values` accepts it.

    Parameters
    ----------
    matrix : numpy.ndarray, torch.Tensor or array_like
        Candidate layer matrix.

    Returns
    -------
    str or None
        "not a 2-d matrix (shape ...)", "empty matrix (shape ...)", "complex matrix (dtype ...)",
        "not a real numeric matrix (dtype ...)" or "k NaN/Inf entries (shape ...)"; None when the
        matrix is a finite, non-empty, real 2-d matrix. Scans every entry once.
    """
    if _is_tensor(matrix):
        shape, dtype = tuple(matrix.shape), matrix.dtype
        is_complex = dtype.is_complex
    else:
        matrix = np.asarray(matrix)
        shape, dtype = matrix.shape, matrix.dtype
        is_complex = dtype.kind == "c"
    if len(shape) != 2:
        return f"not a 2-d matrix (shape {shape})"
    if 0 in shape:
        return f"empty matrix (shape {shape})"
    if is_complex:
        return f"complex matrix (dtype {dtype}); only real matrices are supported"
    if _unit_roundoff(dtype) is None:
        return f"not a real numeric matrix (dtype {dtype})"
    if _is_tensor(matrix):
        import torch

        bad = int((~torch.isfinite(matrix.detach())).sum()) if dtype.is_floating_point else 0
    else:
        bad = int(np.count_nonzero(~np.isfinite(matrix))) if dtype.kind == "f" else 0
    if bad:
        return f"{bad} NaN/Inf entr{'y' if bad == 1 else 'ies'} (shape {shape})"
    return None


def _raise_bad(matrix: Any) -> None:
    """Raise ValueError with :func:`check_matrix`'s reason (if any)."""
    reason = check_matrix(matrix)
    if reason is not None:
        raise ValueError(f"cannot decompose the matrix: {reason}")


# ---------------------------------------------------------------------------------- tolerances
def _tolerances(n: int, m: int, fro2: float, lam_max: float, u_in: float, gram: bool) -> tuple[float, float]:
    """(rank_tolerance, path_tolerance) = (P + D, P) of the module docstring."""
    s_max = math.sqrt(max(lam_max, 0.0))
    if gram:
        # delta-lambda: eq. (3.13) of [1] with the constant of [2], Sec. 5.4 of [3], Cor. 8.1.6 of [4]
        path = math.sqrt(_U64 * (math.sqrt(n) * fro2 + m * max(lam_max, 0.0)))
    else:
        path = max(n, m) * 2.0 * _U64 * s_max  # SVD backward error, Sec. 2.6 of [8]
    data = u_in * math.sqrt(fro2) * (math.sqrt(n) + math.sqrt(m)) / math.sqrt(n * m)  # norm of E: [5], [6]
    return path + data, path


def _finish(lam: np.ndarray, vecs: np.ndarray | None, scale: float, n: int, m: int, fro2: float,
            u_in: float, method: str, gram: bool) -> Spectrum:
    """Descending sv (sqrt of clipped eigenvalues for the Gram path), vectors, tolerances, read-only."""
    if gram:
        lam = lam[::-1]  # eigh: ascending
        sv = np.sqrt(np.maximum(lam, 0.0))  # G = A^T A, s_i = sqrt(lambda_i)
        vecs = None if vecs is None else np.ascontiguousarray(vecs[:, ::-1])
    else:
        sv = np.asarray(lam, dtype=np.float64)
    lam_max = float(sv[0]) ** 2
    rank_tol, path_tol = _tolerances(n, m, fro2, lam_max, u_in, gram)
    if scale != 1.0:
        sv = sv * scale
        rank_tol, path_tol = rank_tol * scale, path_tol * scale
    sv = np.ascontiguousarray(sv, dtype=np.float64)
    sv.flags.writeable = False
    if vecs is not None:
        vecs = np.asarray(vecs, dtype=np.float64)
        vecs.flags.writeable = False
    return Spectrum(sv=sv, right_vectors=vecs, method=method, rank_tolerance=float(rank_tol),
                    path_tolerance=float(path_tol), n=n, m=m)


# ---------------------------------------------------------------------------------- numpy path
def _gram(a: np.ndarray) -> np.ndarray:
    """Upper triangle of A^T A (float64, m x m) by one dsyrk, without copying a contiguous ``a``."""
    if a.flags.f_contiguous:
        return _blas.dsyrk(1.0, a, trans=1)
    if a.flags.c_contiguous:  # a.T is Fortran-ordered m x n: (a.T)(a.T)^T = A^T A
        return _blas.dsyrk(1.0, a.T, trans=0)
    return _blas.dsyrk(1.0, np.asfortranarray(a), trans=1)


def _eigh(g: np.ndarray, vectors: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """LAPACK dsyevd on the upper triangle of ``g`` (overwritten): ascending eigenvalues[, vectors]."""
    if vectors:
        return scipy.linalg.eigh(g, lower=False, driver="evd", overwrite_a=True, check_finite=False)
    return scipy.linalg.eigh(g, lower=False, eigvals_only=True, driver="evd", overwrite_a=True,
                             check_finite=False), None


def _svd_fallback(a: np.ndarray, vectors: bool) -> tuple[np.ndarray, np.ndarray | None, str]:
    """float64 gesdd (gesvd if it fails): descending values[, right vectors as columns], method."""
    def svd(driver: str) -> tuple[np.ndarray, np.ndarray | None, str]:
        work = np.array(a, dtype=np.float64, order="F", copy=True)
        if not vectors:
            return scipy.linalg.svd(work, compute_uv=False, overwrite_a=True, check_finite=False,
                                    lapack_driver=driver), None, f"{driver}-f64"
        _, sv, vt = scipy.linalg.svd(work, full_matrices=False, overwrite_a=True, check_finite=False,
                                     lapack_driver=driver)
        return sv, vt.T, f"{driver}-f64"

    try:
        return svd("gesdd")
    except np.linalg.LinAlgError:
        return svd("gesvd")


def _numpy_spectrum(arr: np.ndarray, vectors: bool, u_in: float, original: Any) -> Spectrum:
    a = arr if arr.shape[0] >= arr.shape[1] else arr.T  # orientation: n >= m
    n, m = a.shape
    a = np.asarray(a, dtype=np.float64)  # no copy for float64 input; keeps the memory order
    scale = 1.0
    g = _gram(a)
    fro2 = float(np.trace(g))  # ||A||_F^2; NaN/Inf in A reach the diagonal (squares)
    if not (_TINY_FRO2 <= fro2 < math.inf):
        if not math.isfinite(fro2):
            _raise_bad(original)  # NaN/Inf entries; otherwise float64 overflow: rescale below
        amax = max(float(a.max()), -float(a.min()))
        if amax > 0.0:  # overflow or underflow (the zero matrix stays as it is)
            scale = math.ldexp(1.0, math.frexp(amax)[1])  # max|A| / scale in [0.5, 1)
            a = a / scale  # exact (power of two)
            g = _gram(a)
            fro2 = float(np.trace(g))
    try:
        lam, vecs = _eigh(g, vectors)
        return _finish(lam, vecs, scale, n, m, fro2, u_in, "gram-eigh-f64", gram=True)
    except np.linalg.LinAlgError:
        sv, vecs, method = _svd_fallback(a, vectors)
        return _finish(sv, vecs, scale, n, m, fro2, u_in, method, gram=False)


# ---------------------------------------------------------------------------------- torch path
def _torch_device(device: Any) -> Any:
    """None (numpy path) or the torch.device to run on."""
    if device is None:
        return None
    import torch

    if isinstance(device, str) and device == "auto":
        return torch.device("cuda") if torch.cuda.is_available() else None
    try:
        return torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"device must be None, 'auto' or a torch device, got {device!r}: {err}") from None


def _torch_spectrum(matrix: Any, vectors: bool, u_in: float, dev: Any) -> Spectrum:
    import torch

    if _is_tensor(matrix):
        t = matrix.detach()
    else:
        arr = np.asarray(matrix)
        if any(s < 0 for s in arr.strides):
            arr = np.ascontiguousarray(arr)
        t = torch.from_numpy(arr)
    t = t.to(device=dev, dtype=torch.float64)
    a = t if t.shape[0] >= t.shape[1] else t.T  # orientation: n >= m
    n, m = int(a.shape[0]), int(a.shape[1])
    scale = 1.0
    g = a.T @ a  # G = A^T A in float64 on the device
    fro2 = float(torch.trace(g))
    if not (_TINY_FRO2 <= fro2 < math.inf):
        if not math.isfinite(fro2):
            _raise_bad(matrix)
        amax = float(a.abs().max())
        if amax > 0.0:  # overflow or underflow (the zero matrix stays as it is)
            scale = math.ldexp(1.0, math.frexp(amax)[1])  # max|A| / scale in [0.5, 1)
            a = a / scale  # exact (power of two)
            g = a.T @ a
            fro2 = float(torch.trace(g))
    kind = dev.type
    try:
        if vectors:
            lam, vecs = torch.linalg.eigh(g)
            vecs_np = vecs.cpu().numpy()
        else:
            lam, vecs_np = torch.linalg.eigvalsh(g), None
        return _finish(lam.cpu().numpy(), vecs_np, scale, n, m, fro2, u_in, f"torch-{kind}-gram-f64",
                       gram=True)
    except torch.linalg.LinAlgError:
        if vectors:
            _, sv, vh = torch.linalg.svd(a, full_matrices=False)
            vecs_np = vh.T.cpu().numpy()
        else:
            sv, vecs_np = torch.linalg.svdvals(a), None
        return _finish(sv.cpu().numpy(), vecs_np, scale, n, m, fro2, u_in, f"torch-{kind}-svd-f64",
                       gram=False)


# ---------------------------------------------------------------------------------- public API
def singular_values(matrix: Any, *, vectors: bool = False, device: Any = None) -> Spectrum:
    r"""Singular values (optionally right singular vectors) of a real matrix, float64-accurate.

    The matrix is oriented tall (:math:`A`, :math:`n \ge m`) and

    .. math::

        s_i = \sqrt{\lambda_i(A^\top A)}, \qquad
        |\hat s_i - s_i| \le \min\!\left(\sqrt{\delta\lambda}, \delta\lambda / s_i\right), \quad
        \delta\lambda = u\left(\sqrt n\,\|A\|_F^2 + m\,\lambda_{\max}\right)

    (eq. (3.13) of [1]_ with the probabilistic constant of [2]_, Weyl's inequality; see the module
    docstring for the derivation, the data-precision term and the measurements behind the choice).

    Parameters
    ----------
    matrix : numpy.ndarray or torch.Tensor
        Real 2-d matrix of any float dtype (float16, bfloat16, float32, float64; integers and
        bool are accepted as exact values), either orientation, finite.
    vectors : bool, default False
        Also return the right singular vectors of the tall orientation (m x m, columns).
    device : None, "auto", str or torch.device, default None
        None: scipy/LAPACK on the CPU (``"gram-eigh-f64"``). A torch device (``"cuda"``,
        ``"cpu"``, ...): the same algorithm in torch on that device. ``"auto"``: CUDA if
        ``torch.cuda.is_available()``, else None. BLAS / torch thread settings are left as they are.

    Returns
    -------
    Spectrum
        ``sv`` (descending float64), ``right_vectors``, ``method``, ``rank_tolerance``,
        ``path_tolerance``, ``n``, ``m``.

    Raises
    ------
    ValueError
        ``matrix`` not 2-d, empty, complex, not numeric or with NaN/Inf entries (the reason of
        :func:`check_matrix`); ``device`` not understood.
    numpy.linalg.LinAlgError
        Neither the eigensolver nor both SVD fallbacks converged.

    References
    ----------
    .. [1] Higham, *Accuracy and Stability of Numerical Algorithms* (2002), eq. (3.13).
    .. [2] Higham, Mary, SIAM J. Sci. Comput. 41(5), A2815 (2019).
    """
    if not isinstance(vectors, (bool, np.bool_)):
        raise ValueError(f"vectors must be a bool, got {vectors!r}")
    dev = _torch_device(device)
    if not _is_tensor(matrix):
        matrix = np.asarray(matrix)
    u_in = _unit_roundoff(matrix.dtype)
    if len(matrix.shape) != 2 or 0 in matrix.shape or u_in is None:
        _raise_bad(matrix)  # shape / dtype problems (NaN/Inf are caught on the Gram diagonal)
    if dev is not None:
        return _torch_spectrum(matrix, bool(vectors), u_in, dev)
    if isinstance(matrix, np.ndarray):
        arr = matrix
    else:
        import torch

        t = matrix.detach().cpu()
        if t.dtype == torch.bfloat16:  # numpy has no bfloat16; float32 holds it exactly
            t = t.to(torch.float32)
        arr = t.numpy()
    return _numpy_spectrum(arr, bool(vectors), u_in, matrix)


# ---------------------------------------------------------------------------------- one layer, with a status
@dataclass(frozen=True, eq=False)
class LayerSpectrum:
    """A layer's spectrum, or why it has none: the one place that decides whether a layer is analysed.

    ``status`` is "ok", "skipped" (too small or all zeros: nothing to analyse) or "failed" (NaN/Inf
    entries, or no decomposition converged); ``reason`` says why ("" when ok). ``sv`` (descending,
    float64) and ``right_vectors`` as in :class:`Spectrum`; ``sv`` is None unless the singular values
    are known: ok, or an all-zero matrix (m zeros).
    """

    status: str
    reason: str
    sv: np.ndarray | None = None
    right_vectors: np.ndarray | None = None
    method: str = ""


def layer_spectrum(matrix: Any, *, min_dim: int = 10, vectors: bool = False, device: Any = None) -> LayerSpectrum:
    """Decompose a layer matrix, or say why not (:class:`LayerSpectrum`).

    ``matrix`` is an oriented ``n x m`` matrix (n >= m) or a stack ``B x n x m`` (the ``slices``
    reshape: the B spectra are pooled, descending; ``vectors`` is not available for a stack).
    Rules, in order: ``m <= min_dim`` is skipped (a 10-way classification head has too few singular
    values for a spectral fit); NaN/Inf entries fail; an all-zero matrix is skipped; a decomposition
    that does not converge fails.

    Small singular values: the Gram path cannot tell values at or below its floor
    ``path_tolerance`` from zero. When a layer has such values (a rank-deficient matrix, or very
    rarely the smallest value of a square one), it is decomposed again by float64 ``gesdd``, whose
    error is ``max(n, m) eps s_max``, so that rank deficiency is recognised by the analysis
    (:func:`rmtweights.analyze.analyze_spectrum`) exactly as for an SVD.
    """
    if int(min_dim) != min_dim or min_dim < 0:
        raise ValueError(f"min_dim={min_dim!r} must be a non-negative integer")
    shape = tuple(matrix.shape)
    if len(shape) not in (2, 3):
        raise ValueError(f"a layer matrix is 2-d (or a 3-d stack of slices), got shape {shape}")
    if len(shape) == 3 and vectors:
        raise ValueError("singular vectors of a stack of slices are not defined (reshape 'slices')")
    m = shape[-1]
    if m <= min_dim:
        return LayerSpectrum("skipped", f"m={m} <= min_dim={min_dim}: too few singular values for a spectral fit")
    slices = list(matrix) if len(shape) == 3 else [matrix]
    for part in slices:
        reason = check_matrix(part)
        if reason is not None:
            return LayerSpectrum("failed", f"cannot decompose the matrix: {reason}")
    if not any(np.any(np.asarray(part) != 0) for part in slices):
        return LayerSpectrum("skipped", "all-zero matrix (no spectrum to analyse)", np.zeros(len(slices) * m))
    values, right, methods = [], None, []
    try:
        for part in slices:
            result = singular_values(part, vectors=vectors, device=device)
            sv, right, method = result.sv, result.right_vectors, result.method
            if result.sv[-1] <= result.path_tolerance and method.startswith(("gram", "torch")):
                a = np.asarray(part, dtype=np.float64)
                sv, right, method = _svd_fallback(a if a.shape[0] >= a.shape[1] else a.T, vectors)
            values.append(np.asarray(sv))
            methods.append(method)
    except np.linalg.LinAlgError as err:
        return LayerSpectrum("failed", f"no decomposition converged: {err}")
    sv = np.sort(np.concatenate(values))[::-1] if len(values) > 1 else values[0]
    return LayerSpectrum("ok", "", sv, right, "+".join(dict.fromkeys(methods)))
