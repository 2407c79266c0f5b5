"""The A/B statistics engine, on sufficient statistics (n, sums, sums of squares and cross-products), so its
cost never grows with the number of events. Must never be imported by the assignment path (numpy, scipy).

Methods, by name: Welch's t-test with Welch-Satterthwaite df; relative lift by the delta method (Deng et al.
2018); two-proportion z-test (pooled) with an unpooled CI; chi-square goodness of fit for sample ratio
mismatch; Mann-Whitney U with the rank-biserial effect; Cohen's d; CUPED with a pooled theta (Deng et al.
2013); ratio metrics by the delta method; Bayesian normal model on the relative effect (flat or normal prior)
with chance to win and expected loss; beta-binomial chance to win (Miller's closed form); asymptotic
confidence sequences (Waudby-Smith et al. 2023) tuned by N*; Holm-Bonferroni and Benjamini-Hochberg; power
and sample size for a two-sided two-sample z-test."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special
from scipy import stats as st


@dataclass(frozen=True)
class Moments:
    """Per-unit values of one variant: count, sum, sum of squares."""

    n: int
    sum: float
    sum_sq: float

    @classmethod
    def of(cls, values: Sequence[float] | np.ndarray) -> Moments:
        v = np.asarray(values, dtype=float)
        return cls(int(v.size), float(v.sum()), float((v * v).sum()))

    @property
    def mean(self) -> float:
        return self.sum / self.n

    @property
    def var(self) -> float:
        """Sample variance (n - 1)."""
        return (self.sum_sq - self.sum * self.sum / self.n) / (self.n - 1)


@dataclass(frozen=True)
class CrossMoments:
    """Per-unit (y, x) pairs of one variant: y the metric, x a covariate (CUPED) or a denominator (ratio)."""

    n: int
    sum_y: float
    sum_y2: float
    sum_x: float
    sum_x2: float
    sum_xy: float

    @classmethod
    def of(cls, y: Sequence[float] | np.ndarray, x: Sequence[float] | np.ndarray) -> CrossMoments:
        yy, xx = np.asarray(y, dtype=float), np.asarray(x, dtype=float)
        return cls(
            int(yy.size),
            float(yy.sum()),
            float((yy * yy).sum()),
            float(xx.sum()),
            float((xx * xx).sum()),
            float((xx * yy).sum()),
        )

    @property
    def y(self) -> Moments:
        return Moments(self.n, self.sum_y, self.sum_y2)

    @property
    def x(self) -> Moments:
        return Moments(self.n, self.sum_x, self.sum_x2)

    @property
    def cov(self) -> float:
        return (self.sum_xy - self.sum_x * self.sum_y / self.n) / (self.n - 1)


@dataclass(frozen=True)
class Comparison:
    """Treatment against control: absolute and relative effect with their intervals and a p-value."""

    control_mean: float
    treatment_mean: float
    diff: float
    se: float
    ci: tuple[float, float]
    p_value: float
    statistic: float
    df: float | None
    relative: float
    relative_se: float
    relative_ci: tuple[float, float]


def _relative(mean_a: float, var_mean_a: float, mean_b: float, var_mean_b: float) -> tuple[float, float]:
    """Relative lift mean_b/mean_a - 1 and its delta-method standard error (independent groups)."""
    rel = mean_b / mean_a - 1.0
    var = var_mean_b / mean_a**2 + mean_b**2 * var_mean_a / mean_a**4
    return rel, math.sqrt(var)


def _z(alpha: float) -> float:
    return float(st.norm.ppf(1 - alpha / 2))


def welch(control: Moments, treatment: Moments, alpha: float = 0.05) -> Comparison:
    va, vb = control.var / control.n, treatment.var / treatment.n
    se = math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (control.n - 1) + vb**2 / (treatment.n - 1))  # Welch-Satterthwaite
    diff = treatment.mean - control.mean
    t = diff / se
    q = float(st.t.ppf(1 - alpha / 2, df))
    rel, rel_se = _relative(control.mean, va, treatment.mean, vb)
    z = _z(alpha)
    return Comparison(
        control.mean,
        treatment.mean,
        diff,
        se,
        (diff - q * se, diff + q * se),
        float(2 * st.t.sf(abs(t), df)),
        t,
        df,
        rel,
        rel_se,
        (rel - z * rel_se, rel + z * rel_se),
    )


def _z_comparison(
    control: float,
    var_control: float,
    treatment: float,
    var_treatment: float,
    *,
    alpha: float,
    test_se: float | None = None,
) -> Comparison:
    """A normal-theory comparison of two independent estimates. The interval uses the unpooled standard
    error; the test may use another one (the pooled proportion's)."""
    se = math.sqrt(var_control + var_treatment)
    diff = treatment - control
    z_stat = diff / (se if test_se is None else test_se)
    z = _z(alpha)
    rel, rel_se = _relative(control, var_control, treatment, var_treatment)
    return Comparison(
        control,
        treatment,
        diff,
        se,
        (diff - z * se, diff + z * se),
        float(2 * st.norm.sf(abs(z_stat))),
        z_stat,
        None,
        rel,
        rel_se,
        (rel - z * rel_se, rel + z * rel_se),
    )


def two_proportions(
    control_conversions: int,
    control_n: int,
    treatment_conversions: int,
    treatment_n: int,
    alpha: float = 0.05,
) -> Comparison:
    """z-test with the pooled proportion (equivalent to the 2x2 chi-square without continuity correction,
    chi2 = z**2); the interval uses the unpooled standard error."""
    pa, pb = control_conversions / control_n, treatment_conversions / treatment_n
    pooled = (control_conversions + treatment_conversions) / (control_n + treatment_n)
    se_pooled = math.sqrt(pooled * (1 - pooled) * (1 / control_n + 1 / treatment_n))
    return _z_comparison(
        pa, pa * (1 - pa) / control_n, pb, pb * (1 - pb) / treatment_n, alpha=alpha, test_se=se_pooled
    )


@dataclass(frozen=True)
class SampleRatio:
    chi2: float
    p_value: float
    mismatch: bool


SRM_THRESHOLD = 0.001


def sample_ratio_mismatch(counts: Sequence[int], weights: Sequence[float]) -> SampleRatio:
    """Chi-square goodness of fit of the units per variant against the configured weights."""
    observed = np.asarray(counts, dtype=float)
    expected = np.asarray(weights, dtype=float) / float(np.sum(weights)) * observed.sum()
    chi2 = float(((observed - expected) ** 2 / expected).sum())
    p = float(st.chi2.sf(chi2, observed.size - 1))
    return SampleRatio(chi2, p, p < SRM_THRESHOLD)


@dataclass(frozen=True)
class RankTest:
    u: float
    p_value: float
    rank_biserial: float  # 2 * P(T > C) + P(T = C) - 1, in [-1, 1]


def mann_whitney(control: Sequence[float] | np.ndarray, treatment: Sequence[float] | np.ndarray) -> RankTest:
    result = st.mannwhitneyu(treatment, control, alternative="two-sided", method="asymptotic")
    n = len(control) * len(treatment)
    return RankTest(float(result.statistic), float(result.pvalue), 2 * float(result.statistic) / n - 1)


def cohens_d(control: Moments, treatment: Moments) -> float:
    pooled = ((control.n - 1) * control.var + (treatment.n - 1) * treatment.var) / (
        control.n + treatment.n - 2
    )
    return (treatment.mean - control.mean) / math.sqrt(pooled)


@dataclass(frozen=True)
class Cuped:
    theta: float
    comparison: Comparison
    variance_reduction: float  # 1 - Var(adjusted diff) / Var(raw diff)


def cuped(control: CrossMoments, treatment: CrossMoments, alpha: float = 0.05) -> Cuped:
    """Y - theta (X - mean X), theta = Cov(Y, X) / Var(X) pooled over both variants."""
    n = control.n + treatment.n
    pooled = CrossMoments(
        n,
        *(
            getattr(control, f) + getattr(treatment, f)
            for f in ("sum_y", "sum_y2", "sum_x", "sum_x2", "sum_xy")
        ),
    )
    theta = pooled.cov / pooled.x.var
    mean_x = pooled.x.mean

    def adjusted(g: CrossMoments) -> Moments:
        mean = g.y.mean - theta * (g.x.mean - mean_x)
        var = g.y.var + theta**2 * g.x.var - 2 * theta * g.cov
        # Moments with that mean and sample variance: sum = n*mean, sum_sq = (n-1)*var + n*mean^2.
        return Moments(g.n, g.n * mean, (g.n - 1) * var + g.n * mean * mean)

    comparison = welch(adjusted(control), adjusted(treatment), alpha)
    raw = welch(control.y, treatment.y, alpha)
    return Cuped(theta, comparison, 1 - comparison.se**2 / raw.se**2)


@dataclass(frozen=True)
class Ratio:
    value: float
    se: float


def ratio(g: CrossMoments) -> Ratio:
    """sum(y) / sum(x) over units, with the delta-method standard error:
    Var(R) ~ (Var(y) - 2 R Cov(x, y) + R^2 Var(x)) / (n mean(x)^2)."""
    r = g.sum_y / g.sum_x
    var = (g.y.var - 2 * r * g.cov + r * r * g.x.var) / (g.n * g.x.mean**2)
    return Ratio(r, math.sqrt(var))


def ratio_comparison(control: CrossMoments, treatment: CrossMoments, alpha: float = 0.05) -> Comparison:
    a, b = ratio(control), ratio(treatment)
    return _z_comparison(a.value, a.se**2, b.value, b.se**2, alpha=alpha)


@dataclass(frozen=True)
class Posterior:
    mean: float
    sd: float
    chance_to_win: float  # P(effect > 0)
    risk_treatment: float  # expected loss if we ship treatment: E[max(0, -effect)]
    risk_control: float  # expected loss if we keep control: E[max(0, effect)]
    credible_interval: tuple[float, float]


def bayes_normal(
    effect: float, se: float, *, prior_mean: float = 0.0, prior_sd: float | None = None, alpha: float = 0.05
) -> Posterior:
    """Normal likelihood on the (relative) effect; a flat prior, or a normal one (conjugate update)."""
    if prior_sd is None:
        mean, sd = effect, se
    else:
        precision = 1 / prior_sd**2 + 1 / se**2
        sd = math.sqrt(1 / precision)
        mean = (prior_mean / prior_sd**2 + effect / se**2) / precision
    ratio_ = mean / sd
    pdf, cdf = float(st.norm.pdf(ratio_)), float(st.norm.cdf(ratio_))
    z = _z(alpha)
    return Posterior(
        mean, sd, cdf, sd * pdf - mean * (1 - cdf), sd * pdf + mean * cdf, (mean - z * sd, mean + z * sd)
    )


CLOSED_FORM_MAX_TERMS = 5000


def beta_chance_to_win(
    control_conversions: int,
    control_n: int,
    treatment_conversions: int,
    treatment_n: int,
    prior: tuple[float, float] = (1.0, 1.0),
) -> float:
    """P(p_treatment > p_control) under Beta posteriors. Up to 5,000 terms: Evan Miller's closed form (integer
    alpha_B), sum_{i<alpha_B} B(alpha_A+i, beta_A+beta_B) / ((beta_B+i) B(1+i, beta_B) B(alpha_A, beta_A)).
    Beyond, its cost would grow with the conversions: integrate f_B(p) F_A(p) numerically instead
    (constant cost; the two agree to 1e-9 where both run)."""
    a_a, b_a = prior[0] + control_conversions, prior[1] + control_n - control_conversions
    a_b, b_b = prior[0] + treatment_conversions, prior[1] + treatment_n - treatment_conversions
    if a_b <= CLOSED_FORM_MAX_TERMS and a_b == int(a_b):
        i = np.arange(int(a_b))
        terms = (
            special.betaln(a_a + i, b_a + b_b)
            - np.log(b_b + i)
            - special.betaln(1 + i, b_b)
            - special.betaln(a_a, b_a)
        )
        return float(np.exp(special.logsumexp(terms)))
    return beta_chance_to_win_numeric(a_a, b_a, a_b, b_b)


_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(400)


def beta_chance_to_win_numeric(a_a: float, b_a: float, a_b: float, b_b: float) -> float:
    """Gauss-Legendre (400 nodes, one vectorised evaluation) of f_B(p) F_A(p) over both posteriors' mass:
    the integrand is smooth there, so the rule is exact to ~1e-12 at any sample size."""
    treatment, control = st.beta(a_b, b_b), st.beta(a_a, b_a)
    spread = max(treatment.std(), control.std())
    low = max(0.0, min(treatment.mean(), control.mean()) - 12 * spread)
    high = min(1.0, max(treatment.mean(), control.mean()) + 12 * spread)
    p = (high - low) / 2 * _NODES + (high + low) / 2
    value = (high - low) / 2 * float(np.sum(_WEIGHTS * treatment.pdf(p) * control.cdf(p)))
    return min(1.0, max(0.0, value))


@dataclass(frozen=True)
class ConfidenceSequence:
    diff: float
    radius: float
    interval: tuple[float, float]
    p_value: float  # always valid: the smallest alpha whose sequence excludes 0


def _cs_radius(sigma: float, n: int, alpha: float, n_star: int) -> float:
    """Asymptotic confidence sequence (Waudby-Smith et al. 2023), rho tuned to be tightest at N*."""
    rho2 = (-2 * math.log(alpha) + math.log(-2 * math.log(alpha) + 1)) / n_star
    return sigma * math.sqrt(2 * (n * rho2 + 1) / (n * n * rho2) * math.log(math.sqrt(n * rho2 + 1) / alpha))


def confidence_sequence(
    control: Moments, treatment: Moments, *, alpha: float = 0.05, n_star: int | None = None
) -> ConfidenceSequence:
    """Valid at every peek: the interval holds the true difference at all sample sizes simultaneously."""
    n = control.n + treatment.n
    sigma = math.sqrt(
        n * (control.var / control.n + treatment.var / treatment.n)
    )  # per-unit scale of the diff
    n_star = n_star or n
    diff = treatment.mean - control.mean
    radius = _cs_radius(sigma, n, alpha, n_star)

    def excess(log_alpha: float) -> float:
        return abs(diff) - _cs_radius(sigma, n, math.exp(log_alpha), n_star)

    # The radius falls as alpha grows: solve for the alpha where it equals |diff|, in log space (p-values
    # span hundreds of orders of magnitude).
    low, high = math.log(1e-300), math.log(1 - 1e-12)
    if excess(high) <= 0:
        p = 1.0
    elif excess(low) >= 0:
        p = 1e-300
    else:
        p = math.exp(float(optimize.brentq(excess, low, high, xtol=1e-13, maxiter=500)))
    return ConfidenceSequence(diff, radius, (diff - radius, diff + radius), min(1.0, p))


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni step-down adjusted p-values."""
    p = np.asarray(p_values, dtype=float)
    order = np.argsort(p)
    m = p.size
    adjusted = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out = np.empty(m)
    out[order] = np.minimum(adjusted, 1.0)
    return out.tolist()


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg step-up adjusted p-values (false discovery rate)."""
    p = np.asarray(p_values, dtype=float)
    order = np.argsort(p)[::-1]
    m = p.size
    ranks = m - np.arange(m)
    adjusted = np.minimum.accumulate(p[order] * m / ranks)
    out = np.empty(m)
    out[order] = np.minimum(adjusted, 1.0)
    return out.tolist()


def sample_size_per_variant(mde: float, sd: float, *, alpha: float = 0.05, power: float = 0.8) -> int:
    """Smallest units per variant for a two-sided two-sample z-test to reach `power` against an absolute
    effect `mde`. The closed form ignores the opposite tail, so it can only overstate n: step down from it."""
    n = math.ceil(2 * ((_z(alpha) + float(st.norm.ppf(power))) * sd / mde) ** 2)
    while n > 2 and achieved_power(mde, sd * math.sqrt(2 / (n - 1)), alpha=alpha) >= power:
        n -= 1
    return n


def minimum_detectable_effect(
    n_per_variant: int, sd: float, *, alpha: float = 0.05, power: float = 0.8
) -> float:
    """The absolute effect detected with `power`: achieved_power(effect) = power, both tails counted."""
    se = sd * math.sqrt(2 / n_per_variant)
    return float(
        optimize.brentq(
            lambda e: achieved_power(e, se, alpha=alpha) - power, 0.0, 40 * se, xtol=1e-15, rtol=1e-14
        )
    )


def achieved_power(effect: float, se: float, *, alpha: float = 0.05) -> float:
    z, shift = _z(alpha), abs(effect) / se
    return float(st.norm.cdf(shift - z) + st.norm.cdf(-shift - z))
