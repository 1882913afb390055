"""Uncertainty and sensitivity of the composite index: Monte Carlo rank intervals against
cases whose answer is known, the fast path against the naive one, Sobol indices on a
constructed example, determinism and configuration errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from citydiplomacy.errors import ValidationError
from citydiplomacy.indices import pipeline, steps
from citydiplomacy.indices.spec import Indicator, PipelineConfig
from citydiplomacy.indices.uncertainty import FACTORS, UncertaintyConfig, _rank_rows, monte_carlo, sensitivity

AXES = ("sustainability", "digital", "engagement")
LEVELS = (*AXES, "overall")


def make_table(units: int = 60, per_axis: int = 3, missing: float = 0.1, seed: int = 0):
    """A seeded table: skewed counts, log-normal and normal indicators, some of them
    lower-is-better, ``missing`` of the cells blank; indicators with goalposts and
    targets so that every normalisation applies; groups for group_mean."""
    rng = np.random.default_rng(seed)
    cols, inds = {}, []
    for a, axis in enumerate(AXES):
        for j in range(per_axis):
            code = f"{axis[:3]}{j}"
            kind = (a + j) % 3
            if kind == 0:
                v = rng.negative_binomial(1, 0.1, units).astype(float)
            elif kind == 1:
                v = rng.lognormal(1.0, 0.8, units)
            else:
                v = rng.normal(50.0, 12.0, units)
            direction = -1 if (a + j) % 4 == 3 else 1
            v[rng.random(units) < missing] = np.nan
            cols[code] = v
            lo, hi = float(np.nanmin(v)), float(np.nanmax(v))
            target = lo + 0.8 * (hi - lo) if direction == 1 else lo + 0.2 * (hi - lo)
            inds.append(Indicator(code=code, name=code, axis=axis, direction=direction,
                                  goalposts=(lo - 1.0, hi + 1.0), target=target))
    X = pd.DataFrame(cols, index=[f"c{i:03d}" for i in range(units)])
    groups = pd.Series(rng.choice(["north", "south", "east"], units), index=X.index)
    return X, inds, groups


def only(config: PipelineConfig, **kw) -> UncertaintyConfig:
    """An UncertaintyConfig whose single alternatives are the nominal choices."""
    base = dict(n=8, weight_noise=0.0, imputations=[config.imputation],
                normalisations=[config.normalisation], aggregations=[config.aggregation],
                outliers=[config.outliers])
    return UncertaintyConfig(**(base | kw))


# --- Monte Carlo ------------------------------------------------------------------------


@pytest.mark.parametrize("config", [
    PipelineConfig(imputation="mean"),
    PipelineConfig(imputation="none", outliers=False),
    PipelineConfig(imputation="regression", normalisation="rank", aggregation="geometric"),
    PipelineConfig(imputation="median", normalisation="zscore", zscore_mean_sd=(100, 10),
                   aggregation="harmonic"),
    PipelineConfig(imputation="group_mean", normalisation="goalposts", weighting="pca",
                   axis_weights={"sustainability": 2, "digital": 1, "engagement": 1}),
], ids=["mean-minmax", "none-no-outliers", "regression-rank-geometric", "median-zscore-harmonic",
        "group-goalposts-pca"])
def test_without_noise_the_interval_is_the_nominal_rank(config):
    X, inds, groups = make_table()
    nominal = pipeline.compute(X, inds, config, groups=groups)
    mc = monte_carlo(X, inds, config, only(config), groups=groups)
    assert list(mc.summary.index) == list(nominal.ranks.index)
    for level in LEVELS:
        want = nominal.ranks[level].to_numpy()
        for col in ("nominal_rank", "median_rank", "rank_lo", "rank_hi"):
            np.testing.assert_array_equal(mc.summary[f"{level}_{col}"].to_numpy(), want,
                                          err_msg=f"{level}_{col}")
        for col in ("score_lo", "score_hi"):  # scores are kept as float32
            np.testing.assert_allclose(mc.summary[f"{level}_{col}"], nominal.scores[level], rtol=1e-6)
    np.testing.assert_array_equal(mc.ranks, np.tile(nominal.ranks["overall"].to_numpy(), (8, 1)))


def test_a_unit_best_on_every_indicator_always_ranks_first():
    X, inds, groups = make_table(units=50, missing=0.1, seed=3)
    best = {i.code: (X[i.code].max() + 5 if i.direction == 1 else X[i.code].min() - 5) for i in inds}
    X.loc["best"] = pd.Series(best)
    groups["best"] = "north"
    uc = UncertaintyConfig(n=200, weight_noise=0.5, seed=1,
                           imputations=["none", "mean", "median", "group_mean", "regression"],
                           normalisations=["minmax", "rank", "zscore", "goalposts", "distance_to_target"],
                           aggregations=["arithmetic", "geometric", "harmonic"])
    mc = monte_carlo(X, inds, PipelineConfig(imputation="mean"), uc, groups=groups)
    for level in LEVELS:
        row = mc.summary.loc["best"]
        interval = (row[f"{level}_rank_lo"], row[f"{level}_median_rank"], row[f"{level}_rank_hi"])
        assert interval == (1, 1, 1), level
    assert (mc.ranks[:, list(mc.summary.index).index("best")] == 1).all()
    assert set(mc.choices["aggregation"]) == {"arithmetic", "geometric", "harmonic"}


def swap_table():
    """Two cities that trade places with the aggregation: 'even' (50, 50) and 'uneven'
    (20, 95), between 'top' (100, 100) and 'bottom' (0, 0), so that min-max changes
    nothing. Arithmetic means: top 100, uneven 57.5, even 50, bottom 0. Geometric means
    on the scale (1, 100), i.e. of 1 + 0.99 x: even 50.5, uneven sqrt(20.8 * 95.05) =
    44.5. Weights between 0.45 and 0.55 (noise 0.1) keep both orders."""
    X = pd.DataFrame({"a": [100.0, 50.0, 20.0, 0.0], "b": [100.0, 50.0, 95.0, 0.0]},
                     index=["top", "even", "uneven", "bottom"])
    inds = [Indicator(code="a", name="A", axis="digital"), Indicator(code="b", name="B", axis="digital")]
    config = PipelineConfig(imputation="mean", outliers=False)
    return X, inds, config


def test_two_cities_swap_with_the_aggregation():
    X, inds, config = swap_table()
    uc = UncertaintyConfig(n=100, weight_noise=0.1, imputations=["mean"], normalisations=["minmax"],
                           aggregations=["arithmetic", "geometric"], outliers=[False])
    mc = monte_carlo(X, inds, config, uc)
    s = mc.summary
    assert s.loc["uneven", "overall_nominal_rank"] == 2 and s.loc["even", "overall_nominal_rank"] == 3
    for unit, (lo, hi) in {"top": (1, 1), "even": (2, 3), "uneven": (2, 3), "bottom": (4, 4)}.items():
        assert (s.loc[unit, "overall_rank_lo"], s.loc[unit, "overall_rank_hi"]) == (lo, hi), unit
        assert (s.loc[unit, "digital_rank_lo"], s.loc[unit, "digital_rank_hi"]) == (lo, hi), unit
    geometric = (mc.choices["aggregation"] == "geometric").to_numpy()
    assert 0 < geometric.sum() < 100
    even = list(s.index).index("even")
    np.testing.assert_array_equal(mc.ranks[:, even], np.where(geometric, 2, 3))
    # the score interval spans both means: 50 (arithmetic) and 50.5 (geometric) for 'even'
    assert s.loc["even", "overall_score_lo"] == pytest.approx(50.0, abs=1e-4)
    assert s.loc["even", "overall_score_hi"] == pytest.approx(50.5, abs=1e-4)


@pytest.mark.parametrize("seed", [0, 7])
def test_the_fast_path_equals_the_naive_path(seed):
    X, inds, groups = make_table(units=40, missing=0.15, seed=seed)
    uc = UncertaintyConfig(n=40, seed=seed, weight_noise=0.3,
                           imputations=["none", "mean", "median", "group_mean", "regression"],
                           normalisations=["minmax", "rank", "zscore", "goalposts", "distance_to_target"],
                           aggregations=["arithmetic", "geometric", "harmonic"])
    config = PipelineConfig(imputation="mean")
    fast = monte_carlo(X, inds, config, uc, groups=groups)
    naive = monte_carlo(X, inds, config, uc, groups=groups, engine="naive")
    pd.testing.assert_frame_equal(fast.choices, naive.choices)
    np.testing.assert_array_equal(fast.ranks, naive.ranks)  # replication by replication
    pd.testing.assert_frame_equal(fast.summary, naive.summary, rtol=1e-6)
    assert fast.notes == naive.notes


def test_withheld_ranks_and_axes_left_out_of_the_overall_in_both_paths():
    """The low-data rule in the Monte Carlo: units that may not be ranked at a level get
    no rank there in any replication, the others are ranked among themselves; an axis
    left out of a unit's overall does not enter its overall score."""
    X, inds, groups = make_table(units=40, missing=0.15, seed=3)
    uc = UncertaintyConfig(n=30, seed=3, weight_noise=0.3, imputations=["mean", "median"],
                           normalisations=["minmax", "rank"], aggregations=["arithmetic", "geometric"])
    config = PipelineConfig(imputation="mean")
    nominal = monte_carlo(X, inds, config, uc.model_copy(update={"n": 8}), groups=groups).nominal
    axes = [c for c in nominal.scores.columns if c != "overall"]
    units = nominal.scores.index
    rng = np.random.default_rng(3)
    rankable = pd.DataFrame({lv: rng.random(len(units)) > 0.3 for lv in [*axes, "overall"]}, index=units)
    in_overall = pd.DataFrame({a: rng.random(len(units)) > 0.2 for a in axes}, index=units)
    kw = dict(groups=groups, rankable=rankable, in_overall=in_overall)
    fast = monte_carlo(X, inds, config, uc, **kw)
    naive = monte_carlo(X, inds, config, uc, engine="naive", **kw)
    np.testing.assert_array_equal(fast.ranks, naive.ranks)
    pd.testing.assert_frame_equal(fast.summary, naive.summary, rtol=1e-6)
    s = fast.summary
    for lv in [*axes, "overall"]:
        out = ~rankable[lv].reindex(s.index)
        assert s.loc[out, f"{lv}_rank_lo"].isna().all() and s.loc[out, f"{lv}_nominal_rank"].isna().all()
        # ranks among the rankable units only
        assert s.loc[~out, f"{lv}_rank_hi"].max() <= (~out).sum()
    # every replication ranks the same (rankable) units overall
    col = list(s.index)
    ok = rankable["overall"].reindex(col).to_numpy()
    assert (fast.ranks[:, ~ok] == 0).all() and (fast.ranks[:, ok] > 0).all()
    # with every axis left out for a unit but one, its overall equals that axis's score
    only = pd.DataFrame({a: a == axes[0] for a in axes}, index=units)
    one = monte_carlo(X, inds, config, uc.model_copy(update={"n": 5}), groups=groups, in_overall=only)
    pd.testing.assert_series_equal(one.summary["overall_score_lo"], one.summary[f"{axes[0]}_score_lo"],
                                   check_names=False, rtol=1e-5)


def test_a_unit_without_any_score_gets_nan_summaries():
    X, inds, groups = make_table(units=30, missing=0.0)
    X.loc["blank"] = np.nan
    config = PipelineConfig(imputation="none", min_unit_coverage=0.0)
    none = monte_carlo(X, inds, config, UncertaintyConfig(n=20, imputations=["none"]))
    assert none.summary.loc["blank"].isna().all()
    blank = list(none.summary.index).index("blank")
    assert (none.ranks[:, blank] == 0).all()
    assert none.summary.drop(index="blank").notna().all().all()
    # ranked only in the replications that impute: the interval comes from those
    mixed = monte_carlo(X, inds, config, UncertaintyConfig(n=40, imputations=["none", "mean"]))
    imputes = (mixed.choices["imputation"] == "mean").to_numpy()
    ranks = mixed.ranks[:, blank]
    assert (ranks[~imputes] == 0).all() and (ranks[imputes] > 0).all()
    assert mixed.summary.loc["blank", "overall_rank_lo"] == np.percentile(ranks[imputes], 5, method="lower")
    assert mixed.summary.loc["blank", "overall_rank_hi"] == np.percentile(ranks[imputes], 95, method="higher")
    assert np.isnan(mixed.summary.loc["blank", "overall_nominal_rank"])


def test_zscore_under_a_geometric_mean_is_made_positive_not_an_error():
    # a z-score is at most (n - 1) / sqrt(n) from the mean: 10 sd needs over 102 units
    X, inds, groups = make_table(units=150, missing=0.0)
    X.loc["c000", "sus2"] = -1e6  # 'sus2' (higher is better): a value far below the others
    uc = UncertaintyConfig(n=10, normalisations=["zscore"], aggregations=["geometric", "harmonic"],
                           outliers=[False], imputations=["mean"])
    mc = monte_carlo(X, inds, PipelineConfig(imputation="mean"), uc)
    assert mc.summary.drop(columns=[c for c in mc.summary if "nominal" in c]).notna().all().all()
    assert any("raised to 0.01" in note and "zscore" in note for note in mc.notes)


def test_group_mean_without_groups_is_left_out_and_said():
    X, inds, _groups = make_table(units=30)
    mc = monte_carlo(X, inds, PipelineConfig(imputation="mean"), UncertaintyConfig(n=30))
    assert "group_mean" not in set(mc.choices["imputation"])
    assert any("group_mean" in note for note in mc.notes)
    with pytest.raises(ValidationError, match="needs groups"):
        monte_carlo(X, inds, PipelineConfig(imputation="mean"),
                    UncertaintyConfig(n=5, imputations=["group_mean"]))


def test_same_seed_same_result_and_progress_is_reported():
    X, inds, groups = make_table(units=40)
    config = PipelineConfig(imputation="mean")
    calls = []
    a = monte_carlo(X, inds, config, UncertaintyConfig(n=150, seed=4), groups=groups,
                    progress=lambda done, total: calls.append((done, total)))
    b = monte_carlo(X, inds, config, UncertaintyConfig(n=150, seed=4), groups=groups)
    c = monte_carlo(X, inds, config, UncertaintyConfig(n=150, seed=5), groups=groups)
    pd.testing.assert_frame_equal(a.summary, b.summary)
    pd.testing.assert_frame_equal(a.choices, b.choices)
    np.testing.assert_array_equal(a.ranks, b.ranks)
    assert not a.choices.equals(c.choices)
    assert a.ranks.dtype == np.int32 and a.ranks.shape == (150, 40)
    assert calls[-1] == (150, 150) and [d for d, _ in calls] == sorted(d for d, _ in calls)
    expected = [f"{level}_{col}" for level in LEVELS for col in
                ("nominal_rank", "median_rank", "rank_lo", "rank_hi", "score_lo", "score_hi")]
    assert list(a.summary.columns) == expected


def _ranks_by_steps(S: np.ndarray) -> np.ndarray:
    return np.stack([steps.rank(pd.Series(row)).fillna(0).to_numpy().astype(np.int32) for row in S])


@pytest.mark.parametrize("case", ["continuous", "ties", "signed-zeros", "nan", "close-but-distinct"])
def test_batch_ranks_follow_the_ranking_convention(case):
    """The fast path's ranking of a batch equals steps.rank row by row (0 for NaN)."""
    rng = np.random.default_rng(5)
    S = {"continuous": lambda: rng.random((4, 500)) * 100,
         "ties": lambda: np.round(rng.normal(size=(4, 500)), 1),
         "signed-zeros": lambda: rng.choice([-1.0, -0.0, 0.0, 2.0], size=(4, 500)),
         "nan": lambda: np.where(rng.random((4, 500)) < 0.2, np.nan, rng.integers(0, 9, (4, 500))),
         # 2e-12 apart: distinct scores, but several share a sort key (fallback to argsort)
         "close-but-distinct": lambda: 1.0 + rng.permutation(2**15)[None, :] * 2e-12}[case]()
    np.testing.assert_array_equal(_rank_rows(S), _ranks_by_steps(S))


# --- Sensitivity ------------------------------------------------------------------------


def test_sensitivity_finds_the_aggregation_when_only_it_moves_the_ranks():
    X, inds, config = swap_table()
    uc = UncertaintyConfig(weight_noise=0.1, imputations=["mean", "median"], normalisations=["minmax"],
                           aggregations=["arithmetic", "geometric"], outliers=[False])
    si = sensitivity(X, inds, config, uc, n_base=64).set_index("factor")
    assert list(si.index) == list(FACTORS)
    assert list(si.columns) == ["S1", "S1_conf", "ST", "ST_conf"]
    assert si["ST"].idxmax() == "aggregation"
    assert si.loc["aggregation", "ST"] == pytest.approx(1.0, abs=0.05)
    assert si.loc["aggregation", "S1"] == pytest.approx(1.0, abs=0.15)
    # the weights and the imputation never change a rank here: their indices vanish
    for factor in ("weights", "imputation", "normalisation", "outliers"):
        assert si.loc[factor, "ST"] == pytest.approx(0.0, abs=1e-12), factor
        assert si.loc[factor, "S1"] == pytest.approx(0.0, abs=1e-12), factor
    # geometric swaps 'even' and 'uneven': mean shift (1 + 1) / 4 units in half the runs
    assert si.attrs["mean_rank_shift"] == pytest.approx(0.25, abs=0.05)
    assert si.attrs["runs"] == 64 * (3 + 2)


def test_sensitivity_is_deterministic_given_the_seed():
    X, inds, groups = make_table(units=40)
    config = PipelineConfig(imputation="mean")
    uc = UncertaintyConfig(seed=3, imputations=["mean", "regression"])
    a = sensitivity(X, inds, config, uc, n_base=16, groups=groups)
    b = sensitivity(X, inds, config, uc, n_base=16, groups=groups)
    pd.testing.assert_frame_equal(a, b)
    assert a["ST"].notna().all() and (a["ST"] > 0).any()


def test_sensitivity_with_nothing_uncertain_is_all_zero():
    X, inds, config = swap_table()
    si = sensitivity(X, inds, config, only(config), n_base=8)
    assert (si[["S1", "S1_conf", "ST", "ST_conf"]] == 0).all().all()


# --- Configuration errors ---------------------------------------------------------------


@pytest.mark.parametrize("settings, message", [
    ({"n": 0}, "n is 0; give the number of Monte Carlo replications"),
    ({"n": -3}, "n is -3"),
    ({"weight_noise": 1.0}, r"weight_noise is 1; give a share in \[0, 1\)"),
    ({"weight_noise": -0.1}, "weight_noise is -0.1"),
    ({"imputations": ["mean", "knn"]}, "unknown imputation 'knn'; choose among none, mean"),
    ({"imputations": ["locf"]}, "applies to panels"),
    ({"normalisations": ["minmax", "softmax"]}, "unknown normalisation 'softmax'"),
    ({"aggregations": ["median"]}, "unknown aggregation 'median'; choose among arithmetic"),
    ({"outliers": []}, "outliers is empty; list at least one alternative"),
    ({"aggregations": ["geometric", "geometric"]}, "lists geometric more than once"),
    ({"seed": -1}, "seed is -1"),
    ({"replications": 10}, "unknown uncertainty setting 'replications'"),
])
def test_a_bad_configuration_is_a_user_error(settings, message):
    with pytest.raises(ValidationError, match=message):
        UncertaintyConfig(**settings)


def test_other_bad_arguments_are_user_errors():
    X, inds, config = swap_table()
    with pytest.raises(ValidationError, match="n_base is 100; give a power of two"):
        sensitivity(X, inds, config, UncertaintyConfig(), n_base=100)
    with pytest.raises(ValidationError, match="engine is 'quick'"):
        monte_carlo(X, inds, config, UncertaintyConfig(n=5), engine="quick")
    with pytest.raises(ValidationError, match="must be an UncertaintyConfig"):
        monte_carlo(X, inds, config, {"n": 5})
    # an alternative the indicators cannot support is the step's own error, not a crash
    with pytest.raises(ValidationError, match="goalposts normalisation needs goalposts .* missing for a, b"):
        monte_carlo(X, inds, config, UncertaintyConfig(n=20, normalisations=["minmax", "goalposts"]))
