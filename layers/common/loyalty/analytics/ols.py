"""Ordinary least squares with cluster-robust (CR1) standard errors, in pure Python floats.

For the pilot-vs-control uplift (docs/analytics-uplift.md), whose Lambda ships neither numpy nor
statsmodels. The designs are tiny (4 regressors) and the observations many, so the data come as
*cells*: observations of one cluster that share the same regressors `x`, given by their count
and the sum of their `y`. OLS on cells is exactly OLS on the rows they stand for:

    X'X = sum n x x'      X'y = sum x (sum y)      score of cluster g = sum_cells x (sum y - n x'b)

so a partner's 24 months enter as at most 24 cells (2 for the difference-in-differences).
Each cluster is reduced to its cross products (`Moments`: X'X_g, X'y_g, n_g), which is all the
estimate and its covariance need: X'X = sum X'X_g, X'y = sum X'y_g, score s_g = X'y_g - X'X_g b.
`clustered_ols_moments` takes them directly, for designs whose per-cluster sums come from SQL
(the pre-trend test: n, sum t, sum t^2, sum y, sum t*y per partner).

The covariance is statsmodels' `cov_type="cluster"` default: the sandwich
(X'X)^-1 (sum_g s_g s_g') (X'X)^-1 times G/(G-1) * (N-1)/(N-K); tests and intervals use the
normal distribution (statsmodels' default for clustered fits, `use_t=False`). A unit test
checks coefficients, standard errors, intervals and p-values against statsmodels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import NamedTuple

type Vector = tuple[float, ...]
type Matrix = tuple[Vector, ...]

LEVEL = 0.95  # the confidence level of every interval
# a pivot smaller than this times the matrix's largest diagonal entry is a singular design
SINGULAR = 1e-12


class SingularDesign(ValueError):
    """The regressors are collinear (e.g. a group without observations on one side)."""


class Cell(NamedTuple):
    """`n` observations of one cluster with regressors `x` and outcomes summing to `sum_y`."""

    x: Vector
    n: int
    sum_y: float


@dataclass(frozen=True)
class Fit:
    params: Vector
    cov: Matrix  # CR1 cluster-robust covariance of the params
    nobs: int
    clusters: int

    def se(self, j: int) -> float:
        return math.sqrt(max(self.cov[j][j], 0.0))

    def variance(self, gradient: Sequence[float]) -> float:
        """g' V g: the variance of a linear combination (or, with a gradient, the delta method)."""
        k = len(self.params)
        return sum(gradient[i] * self.cov[i][j] * gradient[j] for i in range(k) for j in range(k))

    def p_value(self, j: int) -> float:
        return p_value(self.params[j], self.se(j))

    def ci(self, j: int, level: float = LEVEL) -> tuple[float, float]:
        return interval(self.params[j], self.se(j), level)


def z_quantile(level: float) -> float:
    """The normal quantile of a two-sided interval: 1.959963... for 95 %."""
    return NormalDist().inv_cdf(0.5 + level / 2)


def interval(value: float, se: float, level: float = LEVEL) -> tuple[float, float]:
    half = z_quantile(level) * se
    return value - half, value + half


def p_value(value: float, se: float) -> float:
    """Two-sided normal p-value of value / se (erfc keeps tiny p-values exact)."""
    if se == 0:
        return 0.0 if value else 1.0
    return math.erfc(abs(value / se) / math.sqrt(2))


def invert(matrix: Sequence[Sequence[float]]) -> Matrix:
    """Gauss-Jordan inverse with partial pivoting; SingularDesign when it has none."""
    k = len(matrix)
    a = [[*map(float, row), *(1.0 if i == j else 0.0 for j in range(k))] for i, row in enumerate(matrix)]
    scale = max((abs(matrix[i][i]) for i in range(k)), default=0.0)
    for col in range(k):
        pivot = max(range(col, k), key=lambda r: abs(a[r][col]))
        if abs(a[pivot][col]) <= SINGULAR * scale or scale == 0:
            raise SingularDesign(f"singular design (column {col})")
        a[col], a[pivot] = a[pivot], a[col]
        p = a[col][col]
        a[col] = [v / p for v in a[col]]
        for r in range(k):
            if r != col and a[r][col]:
                f = a[r][col]
                a[r] = [v - f * w for v, w in zip(a[r], a[col], strict=True)]
    return tuple(tuple(row[k:]) for row in a)


def _matmul(a: Matrix, b: Matrix) -> Matrix:
    cols = list(zip(*b, strict=True))
    return tuple(tuple(math.fsum(x * y for x, y in zip(row, col, strict=True)) for col in cols) for row in a)


class Moments(NamedTuple):
    """One cluster's cross products: X'X (k x k), X'y and its number of observations."""

    xtx: Matrix
    xty: Vector
    n: int


def moments(cells: Sequence[Cell]) -> Moments:
    """The cross products of a cluster's cells: X'X = sum n x x', X'y = sum x (sum y)."""
    k = len(cells[0].x)
    xtx = [[0.0] * k for _ in range(k)]
    xty = [0.0] * k
    for c in cells:
        for i in range(k):
            xi = c.x[i]
            if xi:
                xty[i] += xi * c.sum_y
                row = xtx[i]
                for j in range(k):
                    row[j] += c.n * xi * c.x[j]
    return Moments(tuple(tuple(r) for r in xtx), tuple(xty), sum(c.n for c in cells))


def clustered_ols(clusters: Sequence[Sequence[Cell]]) -> Fit:
    """OLS of y on x over the cells of every cluster, with CR1 cluster-robust covariance."""
    kept = [[c for c in cl if c.n] for cl in clusters]
    return clustered_ols_moments([moments(cl) for cl in kept if cl])


def clustered_ols_moments(clusters: Sequence[Moments]) -> Fit:
    """OLS from each cluster's X'X_g and X'y_g, with CR1 cluster-robust covariance: X'X = sum
    X'X_g, X'y = sum X'y_g, b = (X'X)^-1 X'y, and cluster g's score s_g = X'y_g - X'X_g b
    (= sum over its observations of x (y - x'b)). Clusters without observations are dropped."""
    clusters = [m for m in clusters if m.n]
    if not clusters:
        raise SingularDesign("no observations")
    k = len(clusters[0].xty)
    nobs, groups = sum(m.n for m in clusters), len(clusters)
    if groups < 2 or nobs <= k:
        raise SingularDesign(f"{nobs} observations in {groups} clusters for {k} parameters")
    xtx = [[math.fsum(m.xtx[i][j] for m in clusters) for j in range(k)] for i in range(k)]
    xty = [math.fsum(m.xty[i] for m in clusters) for i in range(k)]
    bread = invert(xtx)
    beta = tuple(math.fsum(bread[i][j] * xty[j] for j in range(k)) for i in range(k))
    meat = [[0.0] * k for _ in range(k)]
    for m in clusters:
        score = [m.xty[i] - math.fsum(row[j] * beta[j] for j in range(k)) for i, row in enumerate(m.xtx)]
        for i in range(k):
            si, out = score[i], meat[i]
            for j in range(k):
                out[j] += si * score[j]
    correction = groups / (groups - 1) * (nobs - 1) / (nobs - k)
    sandwich = _matmul(_matmul(bread, tuple(tuple(r) for r in meat)), bread)
    cov = tuple(tuple(v * correction for v in row) for row in sandwich)
    return Fit(beta, cov, nobs, groups)
