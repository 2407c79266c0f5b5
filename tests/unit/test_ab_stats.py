"""Every statistic against scipy / statsmodels or an independent closed form, to 1e-9."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportions_ztest

from maestro.ab import stats as ab

TOL = dict(rel=1e-9, abs=1e-12)
rng = np.random.default_rng(7)
A = rng.lognormal(1.0, 0.8, 4000)
B = rng.lognormal(1.03, 0.8, 4200)


def test_welch_matches_scipy() -> None:
    result = ab.welch(ab.Moments.of(A), ab.Moments.of(B))
    t, p = stats.ttest_ind(B, A, equal_var=False)
    assert result.statistic == pytest.approx(t, **TOL)
    assert result.p_value == pytest.approx(p, **TOL)
    t2, p2 = stats.ttest_ind_from_stats(
        B.mean(), B.std(ddof=1), B.size, A.mean(), A.std(ddof=1), A.size, equal_var=False
    )
    assert (result.statistic, result.p_value) == pytest.approx((t2, p2), **TOL)
    va, vb = A.var(ddof=1) / A.size, B.var(ddof=1) / B.size
    df = (va + vb) ** 2 / (va**2 / (A.size - 1) + vb**2 / (B.size - 1))
    assert result.df == pytest.approx(df, **TOL)
    ci = stats.ttest_ind(B, A, equal_var=False).confidence_interval(0.95)
    assert result.ci == pytest.approx((ci.low, ci.high), **TOL)


def test_relative_lift_ci_is_the_delta_method() -> None:
    result = ab.welch(ab.Moments.of(A), ab.Moments.of(B))
    ma, mb = A.mean(), B.mean()
    sa, sb = A.var(ddof=1) / A.size, B.var(ddof=1) / B.size
    # Gradient of g(ma, mb) = mb/ma - 1 is (-mb/ma^2, 1/ma); independent groups.
    grad = np.array([-mb / ma**2, 1 / ma])
    se = math.sqrt(grad @ np.diag([sa, sb]) @ grad)
    assert result.relative == pytest.approx(mb / ma - 1, **TOL)
    assert result.relative_se == pytest.approx(se, **TOL)
    assert result.relative_ci[1] - result.relative == pytest.approx(stats.norm.ppf(0.975) * se, **TOL)


def test_two_proportions_match_statsmodels_and_the_chi_square() -> None:
    xa, na, xb, nb = 480, 10_000, 552, 10_100
    result = ab.two_proportions(xa, na, xb, nb)
    z, p = proportions_ztest([xb, xa], [nb, na])
    assert (result.statistic, result.p_value) == pytest.approx((z, p), **TOL)
    chi2, p_chi2, _, _ = stats.chi2_contingency([[xa, na - xa], [xb, nb - xb]], correction=False)
    assert result.statistic**2 == pytest.approx(chi2, **TOL)
    assert result.p_value == pytest.approx(p_chi2, **TOL)


def test_sample_ratio_mismatch_matches_scipy_and_flags_below_0_001() -> None:
    counts, weights = [5120, 4880], [0.5, 0.5]
    result = ab.sample_ratio_mismatch(counts, weights)
    reference = stats.chisquare(counts, f_exp=[5000, 5000])
    assert (result.chi2, result.p_value) == pytest.approx((reference.statistic, reference.pvalue), **TOL)
    assert result.mismatch is False
    assert ab.sample_ratio_mismatch([5300, 4700], [0.5, 0.5]).mismatch is True
    three = ab.sample_ratio_mismatch([2000, 3000, 5000], [0.2, 0.3, 0.5])
    assert three.chi2 == pytest.approx(0.0, abs=1e-12)


def test_mann_whitney_u_and_effect_against_pairwise_counting() -> None:
    a, b = rng.integers(0, 20, 300).astype(float), rng.integers(1, 21, 280).astype(float)  # ties on purpose
    result = ab.mann_whitney(a, b)
    wins = (b[:, None] > a[None, :]).sum() + 0.5 * (b[:, None] == a[None, :]).sum()
    assert result.u == pytest.approx(wins, **TOL)
    assert result.rank_biserial == pytest.approx(2 * wins / (a.size * b.size) - 1, **TOL)
    # Normal approximation with tie correction and continuity correction, written out.
    n1, n2 = b.size, a.size
    _, tie_counts = np.unique(np.concatenate([a, b]), return_counts=True)
    n = n1 + n2
    sigma = math.sqrt(n1 * n2 / 12 * ((n + 1) - (tie_counts**3 - tie_counts).sum() / (n * (n - 1))))
    z = (abs(wins - n1 * n2 / 2) - 0.5) / sigma
    assert result.p_value == pytest.approx(2 * stats.norm.sf(z), **TOL)


def test_cohens_d() -> None:
    pooled = math.sqrt(((A.size - 1) * A.var(ddof=1) + (B.size - 1) * B.var(ddof=1)) / (A.size + B.size - 2))
    assert ab.cohens_d(ab.Moments.of(A), ab.Moments.of(B)) == pytest.approx(
        (B.mean() - A.mean()) / pooled, **TOL
    )


def test_cuped_equals_adjusting_the_raw_data_and_reduces_variance() -> None:
    xa, xb = rng.normal(10, 3, 3000), rng.normal(10, 3, 3100)
    ya, yb = 2 * xa + rng.normal(0, 2, 3000), 2 * xb + 0.3 + rng.normal(0, 2, 3100)
    result = ab.cuped(ab.CrossMoments.of(ya, xa), ab.CrossMoments.of(yb, xb))
    x, y = np.concatenate([xa, xb]), np.concatenate([ya, yb])
    theta = np.cov(y, x, ddof=1)[0, 1] / x.var(ddof=1)
    assert result.theta == pytest.approx(theta, **TOL)
    t, p = stats.ttest_ind(yb - theta * (xb - x.mean()), ya - theta * (xa - x.mean()), equal_var=False)
    assert (result.comparison.statistic, result.comparison.p_value) == pytest.approx(
        (t, p), rel=1e-9, abs=1e-15
    )
    assert result.variance_reduction > 0.8  # corr(x, y)^2 is ~0.9 here


def test_ratio_metric_delta_method_by_matrix_algebra() -> None:
    clicks, views = rng.poisson(3, 2000).astype(float), rng.poisson(20, 2000).astype(float) + 1
    result = ab.ratio(ab.CrossMoments.of(clicks, views))
    mean = np.array([clicks.mean(), views.mean()])
    cov = np.cov(np.vstack([clicks, views]), ddof=1) / clicks.size
    grad = np.array([1 / mean[1], -mean[0] / mean[1] ** 2])
    assert result.value == pytest.approx(clicks.sum() / views.sum(), **TOL)
    assert result.se == pytest.approx(math.sqrt(grad @ cov @ grad), **TOL)


@pytest.mark.parametrize("prior_sd", [None, 0.05])
def test_bayes_normal_chance_to_win_and_risk_by_integration(prior_sd: float | None) -> None:
    post = ab.bayes_normal(0.012, 0.008, prior_sd=prior_sd)
    if prior_sd is not None:
        precision = 1 / prior_sd**2 + 1 / 0.008**2
        assert post.mean == pytest.approx(0.012 / 0.008**2 / precision, **TOL)
        assert post.sd == pytest.approx(precision**-0.5, **TOL)
    dist = stats.norm(post.mean, post.sd)
    lo, hi = post.mean - 12 * post.sd, post.mean + 12 * post.sd
    assert post.chance_to_win == pytest.approx(dist.sf(0), **TOL)
    loss_treat = integrate.quad(
        lambda e: max(0.0, -e) * dist.pdf(e), lo, hi, points=[0.0], epsabs=1e-14, epsrel=1e-12
    )[0]
    loss_ctrl = integrate.quad(
        lambda e: max(0.0, e) * dist.pdf(e), lo, hi, points=[0.0], epsabs=1e-14, epsrel=1e-12
    )[0]
    assert post.risk_treatment == pytest.approx(loss_treat, rel=1e-8, abs=1e-13)
    assert post.risk_control == pytest.approx(loss_ctrl, rel=1e-8, abs=1e-13)


def test_beta_chance_to_win_by_integration() -> None:
    xa, na, xb, nb = 48, 1000, 63, 1000
    a, b = stats.beta(1 + xa, 1 + na - xa), stats.beta(1 + xb, 1 + nb - xb)
    expected = integrate.quad(
        lambda p: b.pdf(p) * a.cdf(p), 0, 1, points=[0.05, 0.06], epsabs=1e-14, epsrel=1e-12
    )[0]
    assert ab.beta_chance_to_win(xa, na, xb, nb) == pytest.approx(expected, rel=1e-9)


def test_large_counts_integrate_and_agree_with_the_closed_form() -> None:
    # 4,000 treatment conversions: both methods run; they must agree.
    closed = ab.beta_chance_to_win(3900, 40_000, 4000, 40_000)
    numeric = ab.beta_chance_to_win_numeric(1 + 3900, 1 + 36_100, 1 + 4000, 1 + 36_000)
    assert numeric == pytest.approx(closed, rel=1e-9)
    assert 0.0 < ab.beta_chance_to_win(10**7, 10**8, 10**7 + 3000, 10**8) < 1.0  # constant cost at 1e8


def test_confidence_sequence_closed_form_and_width() -> None:
    a, b = ab.Moments.of(A), ab.Moments.of(B)
    cs = ab.confidence_sequence(a, b, alpha=0.05, n_star=5000)
    n = A.size + B.size
    sigma2 = n * (A.var(ddof=1) / A.size + B.var(ddof=1) / B.size)
    rho2 = (-2 * np.log(0.05) + np.log(-2 * np.log(0.05) + 1)) / 5000
    radius = np.sqrt(sigma2 * 2 * (n * rho2 + 1) / (n**2 * rho2) * np.log(np.sqrt(n * rho2 + 1) / 0.05))
    assert cs.radius == pytest.approx(radius, **TOL)
    fixed = ab.welch(a, b)
    assert cs.radius > (fixed.ci[1] - fixed.ci[0]) / 2  # the price of peeking safely
    # The always-valid p-value is the alpha at which the sequence just touches 0.
    if cs.p_value < 1:
        edge = ab.confidence_sequence(a, b, alpha=cs.p_value, n_star=5000)
        assert edge.radius == pytest.approx(abs(cs.diff), rel=1e-9)


def test_peeking_with_the_confidence_sequence_keeps_the_false_positive_rate() -> None:
    sims, looks, per_look, alpha = 300, 20, 100, 0.05
    gen = np.random.default_rng(11)
    cs_false, naive_false = 0, 0
    for _ in range(sims):
        a, b = gen.normal(0, 1, looks * per_look), gen.normal(0, 1, looks * per_look)  # no true effect
        cs_hit = naive_hit = False
        for k in range(1, looks + 1):
            ma, mb = ab.Moments.of(a[: k * per_look]), ab.Moments.of(b[: k * per_look])
            cs_hit |= ab.confidence_sequence(ma, mb, alpha=alpha, n_star=looks * per_look).p_value < alpha
            naive_hit |= ab.welch(ma, mb, alpha).p_value < alpha
        cs_false += cs_hit
        naive_false += naive_hit
    assert cs_false / sims <= alpha + 0.02
    assert naive_false / sims > 2 * alpha  # peeking at a fixed-horizon test inflates errors


def test_multiple_testing_matches_statsmodels() -> None:
    p = [0.001, 0.012, 0.03, 0.04, 0.2, 0.049, 0.7, 0.0004]
    assert ab.holm(p) == pytest.approx(multipletests(p, method="holm")[1].tolist(), **TOL)
    assert ab.benjamini_hochberg(p) == pytest.approx(multipletests(p, method="fdr_bh")[1].tolist(), **TOL)


def test_power_and_sample_size_match_statsmodels() -> None:
    sd, mde = 2.0, 0.1
    nobs = NormalIndPower().solve_power(effect_size=mde / sd, alpha=0.05, power=0.8, ratio=1.0)
    assert ab.sample_size_per_variant(mde, sd) == math.ceil(nobs)
    # statsmodels' own root finder stops near 1e-5; its power function is exact: at our MDE it must be 0.8.
    mde_5000 = ab.minimum_detectable_effect(5000, sd)
    assert NormalIndPower().power(
        effect_size=mde_5000 / sd, nobs1=5000, alpha=0.05, ratio=1.0
    ) == pytest.approx(0.8, **TOL)
    n = ab.sample_size_per_variant(mde, sd)
    assert (
        ab.achieved_power(mde, sd * math.sqrt(2 / n))
        >= 0.8
        > ab.achieved_power(mde, sd * math.sqrt(2 / (n - 1)))
    )
    se = sd * math.sqrt(2 / 5000)
    power = NormalIndPower().power(effect_size=0.08 / sd, nobs1=5000, alpha=0.05, ratio=1.0)
    assert ab.achieved_power(0.08, se) == pytest.approx(power, **TOL)
