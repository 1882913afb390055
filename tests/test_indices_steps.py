"""The composite-indicator steps and pipeline against hand-computed examples.

Each table lives in tests/data/indices/; its README.md shows how every expected value
below was worked out by hand.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from citydiplomacy.errors import ValidationError
from citydiplomacy.indices import pipeline, steps
from citydiplomacy.indices.spec import Indicator, PipelineConfig

DATA = Path(__file__).parent / "data" / "indices"


def table(name: str) -> pd.DataFrame:
    X = pd.read_csv(DATA / f"{name}.csv", index_col="unit")
    X.index = X.index.astype(str)
    return X


def numeric(name: str) -> pd.DataFrame:
    return table(name).select_dtypes("number").astype(float)


def col(frame: pd.DataFrame, code: str) -> list:
    """A column as a list, NaN as None (so lists compare with ==)."""
    return [None if math.isnan(v) else v for v in frame[code].tolist()]


def vals(frame: pd.DataFrame, code: str) -> list:
    return frame[code].tolist()


def approx(values, **kw):
    return pytest.approx([math.nan if v is None else v for v in values], nan_ok=True, **kw)


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return np.array_equal(np.asarray(a, dtype=np.float64).view(np.int64),
                          np.asarray(b, dtype=np.float64).view(np.int64))


# --- screening -----------------------------------------------------------------------------


def test_screen_indicators_then_units():
    X = numeric("screening")
    before = X.copy()
    s = steps.screen(X, min_unit_coverage=0.5, min_indicator_coverage=0.3)
    assert s.dropped_indicators == {
        "c": "observed for 1 of 6 units (16.7%), under the 30% threshold",
        "d": "does not vary: all 6 observed values are 5, so it cannot tell units apart",
    }
    # coverage over the kept a, b: u2 and u4 observe 1 of 2 = 50%, which passes
    assert s.dropped_units == {"u5": "observes 0 of 2 indicators (0%), under the 50% threshold"}
    assert list(s.X.columns) == ["a", "b"]
    assert list(s.X.index) == ["u1", "u2", "u3", "u4", "u6"]
    pd.testing.assert_frame_equal(X, before)


def test_screen_stricter_unit_threshold_and_keeping_constants():
    X = numeric("screening")
    s = steps.screen(X, min_unit_coverage=0.6, min_indicator_coverage=0.3)
    assert s.dropped_units == {
        "u2": "observes 1 of 2 indicators (50%), under the 60% threshold",
        "u4": "observes 1 of 2 indicators (50%), under the 60% threshold",
        "u5": "observes 0 of 2 indicators (0%), under the 60% threshold",
    }
    kept = steps.screen(X, min_unit_coverage=0.6, min_indicator_coverage=0.3, drop_constant=False)
    assert list(kept.X.columns) == ["a", "b", "d"]
    # now u2 observes a and d: 2 of 3 (66.7%) passes; u5 observes d only: 1 of 3
    assert kept.dropped_units == {"u5": "observes 1 of 3 indicators (33.3%), under the 60% threshold"}


def test_screen_threshold_out_of_range():
    with pytest.raises(ValidationError, match="min_unit_coverage is 50; give a share between 0 and 1"):
        steps.screen(numeric("screening"), min_unit_coverage=50, min_indicator_coverage=0.1)


# --- imputation ----------------------------------------------------------------------------


IMPUTED = {
    # column -> {method: expected values of u1..u6}
    "mean": {"x": [1, 3, 5, 5, 11, 5], "y": [2, 5.5, 6, 10, 5.5, 4]},
    "median": {"x": [1, 3, 4, 5, 11, 4], "y": [2, 5, 6, 10, 5, 4]},
    "group_mean": {"x": [1, 3, 2, 5, 11, 5], "y": [2, 4, 6, 10, 10, 4]},
    "none": {"x": [1, 3, None, 5, 11, None], "y": [2, None, 6, 10, None, 4]},
}


@pytest.mark.parametrize("method", sorted(IMPUTED))
def test_impute_by_hand(method):
    T = table("imputation")
    X, groups = T[["x", "y", "z"]].astype(float), T["group"]
    before = X.copy()
    res = steps.impute(X, method, groups=groups)
    for code, expected in IMPUTED[method].items():
        assert col(res.X, code) == expected
    assert res.X["z"].isna().all()  # nothing observed: stays missing
    filled = method != "none"
    assert col(res.mask, "x") == [False, False, filled, False, False, filled]
    assert col(res.mask, "y") == [False, filled, False, False, filled, False]
    assert not res.mask["z"].any()
    pd.testing.assert_frame_equal(X, before)
    if filled:
        assert res.notes[0] == f"{method} imputation filled 4 missing value(s) in 2 indicator(s)"
        assert "'z' has no observed value: its gaps stay missing" in res.notes


def test_group_mean_fallback_is_noted():
    T = table("imputation")
    res = steps.impute(T[["x", "y"]].astype(float), "group_mean", groups=T["group"])
    assert ("'x': group(s) C observe no value, so 1 gap(s) got the column mean instead of a "
            "group mean") in res.notes
    # a unit missing from groups gets the column mean too
    res = steps.impute(T[["x"]].astype(float), "group_mean", groups=T["group"].drop("u3"))
    assert col(res.X, "x") == [1, 3, 5, 5, 11, 5]
    assert any("1 unit(s) have no group" in n for n in res.notes)


def test_group_mean_needs_groups():
    with pytest.raises(ValidationError, match="group_mean imputation needs groups"):
        steps.impute(numeric("regression"), "group_mean")


def test_impute_regression_by_hand():
    X = numeric("regression")
    res = steps.impute(X, "regression")
    # y = 1 + 2x - z on r1..r4; x = (y + z - 1)/2 on r1..r5 once y is mean-imputed (3.5)
    assert vals(res.X, "y") == approx([-1, 4, 4, 7, 3.5, 1], abs=1e-9)
    assert vals(res.X, "x") == approx([1, 2, 3, 4, 5, 4.25], abs=1e-9)
    assert col(res.X, "z") == [4, 1, 3, 2, 7.5, 6]
    assert int(res.mask.to_numpy().sum()) == 3


def test_impute_regression_too_few_units_falls_back_to_mean():
    X = pd.DataFrame({"a": [1.0, 2, 3, 4], "b": [2.0, 5, 4, 3], "c": [7.0, np.nan, np.nan, np.nan]},
                     index=list("pqrs"))
    res = steps.impute(X, "regression")
    assert col(res.X, "c") == [7, 7, 7, 7]
    assert any("fewer than the 3 regression coefficients" in n for n in res.notes)


def test_impute_locf_by_hand():
    long = pd.read_csv(DATA / "panel.csv")
    before = long.copy()
    out = steps.impute_locf(long)
    got = {(r.unit, r.indicator, r.year): (None if math.isnan(r.value) else r.value, r.imputed)
           for r in out.itertuples()}
    assert got == {
        ("c1", "a", 2018): (1, False), ("c1", "a", 2019): (1, True),
        ("c1", "a", 2020): (3, False), ("c1", "a", 2021): (3, True),
        ("c2", "a", 2019): (5, False), ("c2", "a", 2020): (5, True), ("c2", "a", 2021): (5, True),
        ("c1", "b", 2019): (7, False), ("c1", "b", 2020): (7, True), ("c1", "b", 2021): (7, True),
        ("c2", "b", 2018): (2, False), ("c2", "b", 2019): (2, True),
        ("c2", "b", 2020): (4, False), ("c2", "b", 2021): (4, True),
    }
    # never backwards: c2/a and c1/b have nothing before their first year
    assert out["imputed"].dtype == bool
    pd.testing.assert_frame_equal(long, before)


def test_impute_locf_rejects_duplicates_and_missing_columns():
    long = pd.read_csv(DATA / "panel.csv")
    with pytest.raises(ValidationError, match="duplicate .unit, indicator, year. row"):
        steps.impute_locf(pd.concat([long, long.head(1)]))
    with pytest.raises(ValidationError, match=r"lacks column\(s\) \['value'\]"):
        steps.impute_locf(long.drop(columns="value"))


def test_impute_locf_method_on_a_cross_section_is_a_user_error():
    with pytest.raises(ValidationError, match="use impute_locf on the long table"):
        steps.impute(numeric("regression"), "locf")


def test_unknown_imputation():
    with pytest.raises(ValidationError, match="unknown imputation method 'knn'; choose one of none, mean"):
        steps.impute(numeric("regression"), "knn")


finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@st.composite
def gappy_tables(draw):
    n = draw(st.integers(2, 9))
    k = draw(st.integers(1, 4))
    values = draw(st.lists(st.lists(st.one_of(finite, st.just(math.nan)), min_size=k, max_size=k),
                           min_size=n, max_size=n))
    X = pd.DataFrame(values, index=[f"u{i}" for i in range(n)], columns=[f"i{j}" for j in range(k)],
                     dtype=np.float64)
    groups = pd.Series(draw(st.lists(st.sampled_from(["A", "B", None]), min_size=n, max_size=n)),
                       index=X.index)
    return X, groups


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(gappy_tables(), st.sampled_from(["none", "mean", "median", "group_mean", "regression"]))
def test_imputation_never_changes_an_observed_value(data, method):
    X, groups = data
    before = X.to_numpy(copy=True)
    res = steps.impute(X, method, groups=groups)
    seen = ~np.isnan(before)
    assert same_bits(res.X.to_numpy()[seen], before[seen])
    assert not res.mask.to_numpy()[seen].any()
    assert same_bits(X.to_numpy(), before)  # the input is untouched


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["p", "q"]), st.sampled_from(["a", "b"]),
                          st.integers(2000, 2005), st.one_of(finite, st.just(math.nan))),
                max_size=30, unique_by=lambda r: r[:3]))
def test_locf_never_changes_an_observed_value(rows):
    long = pd.DataFrame(rows, columns=["unit", "indicator", "year", "value"])
    if long.empty:
        return
    out = steps.impute_locf(long).set_index(["unit", "indicator", "year"])
    given_ = long.set_index(["unit", "indicator", "year"])["value"]
    seen = given_.dropna()
    assert same_bits(out.loc[seen.index, "value"].to_numpy(), seen.to_numpy())
    assert not out.loc[seen.index, "imputed"].any()


# --- outliers ------------------------------------------------------------------------------


def test_outliers_winsorise_one_and_two_steps():
    X = numeric("outliers")
    before = X.copy()
    t = steps.treat_outliers(X)
    rep = t.report
    assert rep["action"].to_dict() == {"one_step": "winsorised", "two_steps": "winsorised",
                                       "tied": "winsorised", "calm": "none"}
    assert rep["n_winsorised"].to_dict() == {"one_step": 1, "two_steps": 2, "tied": 1, "calm": 0}
    assert rep["n_changed"].to_dict() == {"one_step": 1, "two_steps": 2, "tied": 2, "calm": 0}
    assert col(t.X, "one_step")[:11] == [1, 2, 3, 4, 5, 6, 7, 8, 9, 9, None]
    assert col(t.X, "two_steps")[-3:] == [18, 18, 18]  # 100 -> 50, then both 50 -> 18
    assert col(t.X, "tied")[11:15] == [12, 12, 12, None]  # the tied 100s move together
    assert col(t.X, "calm") == list(range(1, 21))
    assert rep.loc["one_step", "skew_before"] == pytest.approx(3.119, abs=1e-3)
    assert rep.loc["one_step", "kurtosis_before"] == pytest.approx(9.799, abs=1e-3)
    assert rep.loc["one_step", "skew_after"] == pytest.approx(-0.151, abs=1e-3)
    assert rep.loc["calm", "skew_after"] == pytest.approx(0.0, abs=1e-12)
    pd.testing.assert_frame_equal(X, before)


def test_outliers_fall_back_to_log_positive_and_negative_skew():
    v = numeric("outliers")["two_steps"].to_numpy()
    X = pd.DataFrame({"pos": v, "neg": -v})
    t = steps.treat_outliers(X, max_winsorised=1)  # one step is not enough: undo, take logs
    assert t.report["action"].tolist() == ["log", "log"]
    assert t.report["n_winsorised"].tolist() == [0, 0]
    # pos: log(x - 1 + 1) = ln x; neg: -log(max - x + 1) = -log(-1 - x + 1) = -ln(-x)
    assert t.X["pos"].tolist() == pytest.approx([math.log(x) for x in v])
    assert t.X["neg"].tolist() == pytest.approx([-math.log(x) for x in v])
    assert t.X["pos"].iloc[0] == 0.0 and t.X["pos"].iloc[-1] == pytest.approx(math.log(100))
    assert abs(t.report.loc["pos", "skew_after"]) < abs(t.report.loc["pos", "skew_before"])


def test_outliers_nan_and_short_columns_are_left_alone():
    X = pd.DataFrame({"short": [1.0, 1000.0, np.nan], "empty": [np.nan] * 3, "flat": [2.0] * 3})
    t = steps.treat_outliers(X)
    assert t.report["action"].tolist() == ["none"] * 3
    pd.testing.assert_frame_equal(t.X, X)


# --- normalisation -------------------------------------------------------------------------

DIRS = {"a": 1, "b": 1, "c": 1, "d": -1, "e": 1}


@pytest.mark.parametrize("method, code, expected", [
    ("minmax", "a", [0, 25, 100, None]),             # (x - 2)/8
    ("minmax", "d", [50, 75, 100, 0]),               # direction -1: (9 - x)/8
    ("minmax", "c", [50, 50, 50, 50]),               # constant: middle of the scale
    ("zscore", "b", [-1, 0, 1, None]),               # mean 3, sd 2
    ("zscore", "c", [0, 0, 0, 0]),
    ("rank", "a", [0, 50, 100, None]),               # ranks 1,2,3 of 3
    ("rank", "d", [100 / 3, 200 / 3, 100, 0]),       # ranks of -x: 2,3,4,1 of 4
    ("rank", "e", [250 / 3, 250 / 3, 0, 100 / 3]),   # ties 4,4 share rank 3.5
    ("rank", "c", [50, 50, 50, 50]),
])
def test_normalise_by_hand(method, code, expected):
    X = numeric("normalisation")
    before = X.copy()
    out = steps.normalise(X, method, directions=DIRS)
    assert vals(out, code) == approx(expected, abs=1e-12)
    pd.testing.assert_frame_equal(X, before)


def test_normalise_scale_and_zscore_parameters():
    X = numeric("normalisation")
    assert vals(steps.normalise(X, "minmax", directions=DIRS, scale=(1, 100)), "a") == \
        approx([1, 25.75, 100, None])
    z = steps.normalise(X, "zscore", directions={**DIRS, "b": -1}, zscore_mean_sd=(100, 10))
    assert vals(z, "b") == approx([110, 100, 90, None])


def test_normalise_rank_single_value_goes_to_top():
    X = pd.DataFrame({"a": [np.nan, 3.0, np.nan]})
    assert col(steps.normalise(X, "rank", directions={"a": 1}), "a") == [None, 100, None]


def test_normalise_goalposts_with_clipping():
    X = numeric("normalisation")[["a", "d"]]
    out = steps.normalise(X, "goalposts", directions=DIRS, goalposts={"a": (0, 8), "d": (0, 8)})
    assert vals(out, "a") == approx([25, 50, 100, None])    # 10 is past the top goalpost
    assert vals(out, "d") == approx([37.5, 62.5, 87.5, 0])  # (8 - x)/8, 9 clipped to 0


def test_normalise_distance_to_target():
    X = numeric("normalisation")[["a", "d"]]
    out = steps.normalise(X, "distance_to_target", directions=DIRS, targets={"a": 8, "d": 3})
    assert vals(out, "a") == approx([0, 100 / 3, 100, None])       # (x - 2)/(8 - 2), clipped
    assert vals(out, "d") == approx([200 / 3, 100, 100, 0])        # (9 - x)/(9 - 3), clipped
    # every unit already meets a target below the minimum
    assert col(steps.normalise(X[["a"]], "distance_to_target", directions=DIRS, targets={"a": 1}),
               "a") == [100, 100, 100, None]


@pytest.mark.parametrize("method, kw, message", [
    ("goalposts", {}, "goalposts normalisation needs goalposts .low, high. for every indicator; "
                      "missing for a, d"),
    ("goalposts", {"goalposts": {"a": (0, 8)}}, "missing for d "),
    ("goalposts", {"goalposts": {"a": (8, 0), "d": (0, 1)}}, "goalposts of 'a' .8, 0. need low < high"),
    ("distance_to_target", {"targets": {"a": 3}}, "needs a target for every indicator; missing for d"),
    ("minmaxx", {}, "unknown normalisation method 'minmaxx'; choose one of minmax, zscore, rank"),
])
def test_normalise_user_errors(method, kw, message):
    X = numeric("normalisation")[["a", "d"]]
    with pytest.raises(ValidationError, match=message):
        steps.normalise(X, method, directions=DIRS, **kw)


def test_normalise_needs_a_direction_for_each_indicator():
    with pytest.raises(ValidationError, match="missing for e"):
        steps.normalise(numeric("normalisation"), "minmax", directions={"a": 1, "b": 1, "c": 1, "d": 1})
    with pytest.raises(ValidationError, match="direction must be 1 or -1; check a"):
        steps.normalise(numeric("normalisation"), "minmax", directions={**DIRS, "a": 2})


# --- weights -------------------------------------------------------------------------------


def inds(*codes, axis="x", **weights):
    return [Indicator(code=c, name=c.upper(), axis=axis, weight=weights.get(c, 1.0)) for c in codes]


def test_weights_equal_and_expert_sum_to_one_per_axis():
    X = numeric("weights_pca")
    framework = inds("p", "q") + inds("r", axis="y")
    assert steps.weights(X, framework, "equal").to_dict() == {"p": 0.5, "q": 0.5, "r": 1.0}
    framework = inds("p", "q", p=1.0, q=3.0) + inds("r", axis="y")
    assert steps.weights(X, framework, "expert").to_dict() == {"p": 0.25, "q": 0.75, "r": 1.0}


def test_weights_pca_first_component():
    # corr(p, q) = 1, r uncorrelated with both: R = [[1,1,0],[1,1,0],[0,0,1]], first
    # eigenvector (1,1,0)/sqrt 2, squared loadings 1/2, 1/2, 0
    w = steps.weights(numeric("weights_pca"), inds("p", "q", "r"), "pca")
    assert w.tolist() == pytest.approx([0.5, 0.5, 0.0], abs=1e-12)
    assert w.index.tolist() == ["p", "q", "r"]


def test_weights_pca_fallbacks():
    X = numeric("weights_pca")
    notes: list[str] = []
    w = steps.weights(X.iloc[:2], inds("p", "q", "r"), "pca", notes=notes)
    assert w.tolist() == pytest.approx([1 / 3] * 3)
    assert notes == ["pca weights of axis 'x': only 2 unit(s) observe all its indicators "
                     "(3 needed), so its weights are equal"]
    assert steps.weights(X, inds("p", "q") + inds("r", axis="y"), "pca")["r"] == 1.0


def test_weights_balanced_symmetric_gives_equal_weights():
    # k1, k2, k3: uncorrelated with the same spread -> equal weights balance them
    w = steps.weights(numeric("weights_balanced"), inds("k1", "k2", "k3"), "balanced")
    assert w.tolist() == pytest.approx([1 / 3] * 3, abs=1e-6)


def test_weights_balanced_asymmetric():
    # h1, h2, h3: uncorrelated, standard deviations in ratio 1:2:4; the correlation of h_i
    # with sum w_j h_j is w_i sd_i / sd(aggregate), equal when w_i is proportional to 1/sd_i
    X = numeric("weights_balanced")
    w = steps.weights(X, inds("h1", "h2", "h3"), "balanced")
    assert w.tolist() == pytest.approx([4 / 7, 2 / 7, 1 / 7], abs=1e-4)
    agg = X[["h1", "h2", "h3"]] @ w.to_numpy()
    corr = [np.corrcoef(X[c], agg)[0, 1] for c in ["h1", "h2", "h3"]]
    assert np.std(corr) < 1e-4
    # and with two indicators too: w1 sd1 = w2 sd2
    w2 = steps.weights(X, inds("h1", "h2"), "balanced")
    assert w2.tolist() == pytest.approx([2 / 3, 1 / 3], abs=1e-4)


def test_weights_user_errors():
    X = numeric("weights_pca")
    with pytest.raises(ValidationError, match="unknown weighting method 'entropy'"):
        steps.weights(X, inds("p"), "entropy")
    with pytest.raises(ValidationError, match=r"indicator\(s\) \['zz'\] are not columns of the data table"):
        steps.weights(X, inds("p", "zz"), "equal")
    with pytest.raises(ValidationError, match="expert weights of axis 'x' .* must be >= 0 and not all zero"):
        steps.weights(X, inds("p", "q", p=0.0, q=0.0), "expert")


# --- aggregation and ranks ------------------------------------------------------------------

W = pd.Series({"a": 1.0, "b": 1.0, "c": 2.0})


@pytest.mark.parametrize("method, expected", [
    ("arithmetic", [37 / 4, 2, 2, None]),                  # g3: (4 + 2*1)/3, b skipped
    ("geometric", [4 * math.sqrt(2), 2, 4 ** (1 / 3), None]),   # (1*4*16^2)^(1/4)
    ("harmonic", [32 / 11, 2, 4 / 3, None]),                # 4/(1 + 1/4 + 2/16)
])
def test_aggregate_by_hand(method, expected):
    X = numeric("aggregation")
    assert vals(steps.aggregate(X, W, method).to_frame(), "score") == approx(expected, rel=1e-12)


def test_aggregate_uses_only_the_weighted_columns():
    X = numeric("aggregation")
    s = steps.aggregate(X, pd.Series({"a": 1.0, "b": 3.0}), "arithmetic")
    assert vals(s.to_frame(), "score") == approx([13 / 4, 2, 4, None])


@pytest.mark.parametrize("method", ["geometric", "harmonic"])
def test_aggregate_non_positive_values_name_unit_and_indicator(method):
    X = numeric("aggregation")
    X.loc["g2", "b"] = 0.0
    with pytest.raises(ValidationError, match=f"{method} aggregation needs values > 0, but unit 'g2' has 0 "
                                        f"for 'b'; normalise to a positive scale"):
        steps.aggregate(X, W, method)


def test_aggregate_user_errors():
    X = numeric("aggregation")
    with pytest.raises(ValidationError, match="unknown aggregation method 'median'"):
        steps.aggregate(X, W, "median")
    with pytest.raises(ValidationError, match="weights must be >= 0 with a sum > 0"):
        steps.aggregate(X, W * 0, "arithmetic")
    with pytest.raises(ValidationError, match=r"weighted indicator\(s\) \['zz'\] are not columns"):
        steps.aggregate(X, pd.Series({"zz": 1.0}), "arithmetic")


def test_rank_competition_ties_and_nan():
    s = pd.Series([10, 20, 20, 5, np.nan, 20], index=list("abcdef"), dtype=float)
    assert col(steps.rank(s).to_frame("r"), "r") == [4, 1, 1, 5, None, 1]


# --- multivariate checks --------------------------------------------------------------------


def test_cronbach_alpha_by_hand():
    # var i1, i2, i3 = 5/3, 4/3, 5/3; row totals 4, 7, 9, 12 -> var 34/3;
    # alpha = 3/2 (1 - 14/34) = 15/17 (a5 has a gap and is left out)
    assert steps.cronbach_alpha(numeric("alpha")) == pytest.approx(15 / 17)
    assert math.isnan(steps.cronbach_alpha(numeric("alpha")[["i1"]]))


def test_pca_explained_variance_and_loadings():
    p = steps.pca(numeric("weights_pca"))
    assert p.explained_variance_ratio.tolist() == pytest.approx([2 / 3, 1 / 3, 0], abs=1e-12)
    assert p.loadings["PC1"].tolist() == pytest.approx([1, 1, 0], abs=1e-12)
    assert p.loadings["PC2"].tolist() == pytest.approx([0, 0, 1], abs=1e-12)
    assert p.n == 4


def test_correlations():
    c = steps.correlations(numeric("weights_pca"))
    assert c.loc["p", "q"] == pytest.approx(1.0)
    assert c.loc["p", "r"] == pytest.approx(0.0, abs=1e-12)
    s = steps.correlations(numeric("normalisation")[["a", "b"]], "spearman")
    assert s.loc["a", "b"] == pytest.approx(1.0)
    with pytest.raises(ValidationError, match="unknown correlation method 'kendal'"):
        steps.correlations(numeric("weights_pca"), "kendal")


# --- pipeline ------------------------------------------------------------------------------

FRAMEWORK = [
    Indicator("e1", "E one", "engagement"),
    Indicator("e2", "E two", "engagement"),
    Indicator("s1", "S one", "sustainability"),
    Indicator("s2", "S two", "sustainability", direction=-1),
]


def test_compute_by_hand():
    X = numeric("pipeline")
    before = X.copy()
    cfg = PipelineConfig(imputation="mean", axis_weights={"engagement": 1, "sustainability": 3})
    r = pipeline.compute(X, FRAMEWORK, cfg)
    assert r.dropped_units == {"c4": "observes 0 of 4 indicators (0%), under the 50% threshold"}
    assert r.dropped_indicators == {}
    assert r.imputed.loc["c2", "e2"] == 20 and bool(r.imputed_mask.loc["c2", "e2"])
    assert list(r.scores.columns) == ["engagement", "sustainability", "overall"]
    assert r.scores.to_dict() == {
        "engagement": {"c1": 0.0, "c2": 50.0, "c3": 100.0, "c5": 50.0},
        "sustainability": {"c1": 75.0, "c2": 87.5, "c3": 25.0, "c5": 25.0},
        "overall": {"c1": 56.25, "c2": 78.125, "c3": 43.75, "c5": 31.25},
    }
    assert r.ranks.to_dict() == {
        "engagement": {"c1": 4.0, "c2": 2.0, "c3": 1.0, "c5": 2.0},
        "sustainability": {"c1": 2.0, "c2": 1.0, "c3": 3.0, "c5": 3.0},
        "overall": {"c1": 2.0, "c2": 1.0, "c3": 3.0, "c5": 4.0},
    }
    assert r.axis_weights.to_dict() == {"engagement": 0.25, "sustainability": 0.75}
    assert r.weights.to_dict() == {"e1": 0.5, "e2": 0.5, "s1": 0.5, "s2": 0.5}
    assert r.checks["engagement"]["alpha"] == pytest.approx(1.0)  # e1 and e2 normalise alike
    assert r.checks["engagement"]["pca_first_share"] == pytest.approx(1.0)
    assert r.outlier_report["action"].eq("none").all()
    assert [i.code for i in r.indicators] == ["e1", "e2", "s1", "s2"]
    assert r.config is cfg
    pd.testing.assert_frame_equal(X, before)


def test_compute_geometric_moves_the_scale_and_says_so():
    r = pipeline.compute(numeric("pipeline"), FRAMEWORK,
                         PipelineConfig(imputation="mean", aggregation="geometric"))
    assert "geometric aggregation needs values > 0: normalised to the scale (1, 100) instead of " \
           "(0.0, 100.0)" in r.notes
    assert r.normalised.min().min() == 1.0
    # c2 engagement: e1 = 1 + 99/2 = 50.5 twice -> 50.5
    assert r.scores.loc["c2", "engagement"] == pytest.approx(50.5)


def test_compute_screening_of_indicators_and_axes():
    X = numeric("pipeline")
    X["s1"] = np.nan
    X.loc["c1", "s1"] = 3.0
    r = pipeline.compute(X, FRAMEWORK, PipelineConfig(min_indicator_coverage=0.5))
    assert r.dropped_indicators == {"s1": "observed for 1 of 5 units (20%), under the 50% threshold"}
    assert "s1" not in r.weights and r.weights["s2"] == 1.0


def test_compute_user_errors():
    X = numeric("pipeline")
    with pytest.raises(ValidationError, match=r"indicator\(s\) \['x9'\] are not columns of the data table"):
        pipeline.compute(X, FRAMEWORK + [Indicator("x9", "X", "digital")], PipelineConfig())
    with pytest.raises(ValidationError, match="call compute_panel"):
        pipeline.compute(X, FRAMEWORK, PipelineConfig(imputation="locf"))
    with pytest.raises(ValidationError, match="axis_weights give no weight to axis sustainability"):
        pipeline.compute(X, FRAMEWORK, PipelineConfig(axis_weights={"engagement": 1}))
    with pytest.raises(ValidationError, match="axis_weights name axes \\['digital'\\]"):
        pipeline.compute(X, FRAMEWORK, PipelineConfig(axis_weights={"engagement": 1, "sustainability": 1,
                                                                   "digital": 1}))
    with pytest.raises(ValidationError, match="no unit passed screening"):
        pipeline.compute(X.iloc[:, :1].join(X.iloc[:, 1:] * np.nan), FRAMEWORK,
                         PipelineConfig(min_indicator_coverage=0, drop_constant=False,
                                        min_unit_coverage=1))
    # z-scores shifted by 5 sd still reach 0 when one unit is more than 5 sd below the mean
    X2 = pd.DataFrame({c: np.arange(30.0) for c in ["e1", "e2", "s1", "s2"]},
                      index=[f"u{i:02d}" for i in range(30)])
    X2["s1"] = 0.0
    X2.loc["u29", "s1"] = -1000.0  # z = -(29/30) 1000 / sd = -5.29
    with pytest.raises(ValidationError, match="geometric aggregation needs values > 0, but unit 'u29' has "
                                        "-0.29.* for 's1'"):
        pipeline.compute(X2, FRAMEWORK, PipelineConfig(normalisation="zscore", zscore_mean_sd=(5, 1),
                                                       aggregation="geometric", outliers=False))


@pytest.mark.parametrize("settings_, message", [
    ({"imputation": "knn"}, "imputation: 'knn' is not a known choice; input should be 'none', 'mean'"),
    ({"weigting": "pca"}, "unknown pipeline setting 'weigting'"),
    ({"normalisation": "zscore", "aggregation": "geometric"},
     "geometric aggregation needs positive values, but z-scores with mean 0 and sd 1"),
    ({"scale": (100, 0)}, r"scale \(100, 0\) needs low < high"),
    ({"min_unit_coverage": 2}, "min_unit_coverage is 2; give a share between 0 and 1"),
])
def test_config_user_errors(settings_, message):
    with pytest.raises(ValidationError, match=message):
        PipelineConfig(**settings_)


def test_config_zscore_geometric_allowed_when_shifted():
    assert PipelineConfig(normalisation="zscore", aggregation="geometric",
                          zscore_mean_sd=(100, 10)).effective_scale() == (0.0, 100.0)


def test_indicator_validation():
    with pytest.raises(ValidationError, match="direction is 0; use 1"):
        Indicator("a", "A", "x", direction=0)
    with pytest.raises(ValidationError, match=r"goalposts \(5, 1\) need low < high"):
        Indicator("a", "A", "x", goalposts=(5, 1))


PANEL_FRAMEWORK = [Indicator("a", "A", "engagement"),
                   Indicator("b", "B", "sustainability", direction=-1)]


def test_compute_panel_with_locf_by_hand():
    long = pd.read_csv(DATA / "panel_scores.csv")
    res = pipeline.compute_panel(long, PANEL_FRAMEWORK, PipelineConfig(imputation="locf"))
    assert sorted(res) == [2020, 2021]
    assert res[2020].scores["overall"].to_dict() == {"p1": 50.0, "p2": 62.5, "p3": 50.0}
    assert res[2020].ranks["overall"].to_dict() == {"p1": 2.0, "p2": 1.0, "p3": 2.0}
    # 2021: p2's a (10) and p3's b (5) are carried from 2020
    r = res[2021]
    assert r.scores.to_dict() == {"engagement": {"p1": 100.0, "p2": 0.0, "p3": 50.0},
                                  "sustainability": {"p1": 0.0, "p2": 100.0, "p3": 0.0},
                                  "overall": {"p1": 50.0, "p2": 50.0, "p3": 25.0}}
    assert r.ranks["overall"].to_dict() == {"p1": 1.0, "p2": 1.0, "p3": 3.0}
    assert r.imputed_mask.to_numpy().sum() == 2
    assert bool(r.imputed_mask.loc["p2", "a"]) and bool(r.imputed_mask.loc["p3", "b"])
    assert math.isnan(r.raw.loc["p2", "a"]) and r.imputed.loc["p2", "a"] == 10
    assert r.notes[0] == "locf imputation carried 2 value(s) forward from earlier years"
    assert r.config.imputation == "locf"


def test_compute_panel_without_imputation():
    long = pd.read_csv(DATA / "panel_scores.csv")
    r = pipeline.compute_panel(long, PANEL_FRAMEWORK, PipelineConfig())[2021]
    # gaps skipped in the overall mean: p2 has only sustainability, p3 only engagement
    assert r.scores["overall"].to_dict() == {"p1": 50.0, "p2": 100.0, "p3": 0.0}
    assert not r.imputed_mask.to_numpy().any()


def test_compute_panel_names_the_year_of_an_error():
    long = pd.read_csv(DATA / "panel_scores.csv")
    long = long[~((long["year"] == 2021) & (long["indicator"] == "b"))]
    long.loc[long["year"] == 2021, "value"] = 7.0  # nothing varies in 2021
    with pytest.raises(ValidationError, match="year 2021: no indicator passed screening"):
        pipeline.compute_panel(long, PANEL_FRAMEWORK, PipelineConfig())


# --- speed: the Monte Carlo helper calls these on big tables ---------------------------------


def test_steps_are_fast_on_25000_units():
    import time

    rng = np.random.default_rng(7)
    X = pd.DataFrame(rng.lognormal(size=(25_000, 30)), columns=[f"i{j}" for j in range(30)])
    X = X.mask(rng.random(X.shape) < 0.1)
    X.index = X.index.astype(str)
    framework = [Indicator(c, c, ["s", "d", "e"][j // 10]) for j, c in enumerate(X.columns)]
    start = time.perf_counter()
    r = pipeline.compute(X, framework, PipelineConfig(imputation="regression", weighting="balanced"))
    assert time.perf_counter() - start < 20
    assert r.scores.shape == (25_000, 4) and r.scores.notna().all().all()


# --- the method page stays true --------------------------------------------------------------


DOC = Path(__file__).parents[1] / "docs" / "indices-method.md"


def test_method_page_example_runs():
    text = DOC.read_text(encoding="utf-8")
    code = text.split("```python\n", 1)[1].split("```", 1)[0]
    scope: dict = {}
    exec(compile(code, str(DOC), "exec"), scope)
    result = scope["result"]
    assert list(result.scores.columns) == ["engagement", "sustainability", "overall"]
    assert result.scores.notna().all().all()
    assert "mean imputation filled 1 missing value(s) in 1 indicator(s)" in result.notes


def test_method_page_documents_every_option():
    from citydiplomacy.indices import spec

    text = DOC.read_text(encoding="utf-8")
    options = (spec.IMPUTATIONS + spec.NORMALISATIONS + spec.WEIGHTINGS + spec.AGGREGATIONS
               + tuple(PipelineConfig.model_fields))
    missing = [o for o in options if f"`{o}`" not in text]
    assert not missing, f"docs/indices-method.md does not describe {missing}"


def test_a_zero_inflated_count_is_never_winsorised_into_a_constant():
    # 95 cities with 0, four with 1 and one with 9 (a count such as network memberships).
    # Step 1 moves the 9 to 1 (one point); the skew test still fails (binary, p = 0.05:
    # skew 4.1, kurtosis 15) and step 2 would move five points (the 1s): over the budget
    # of 5, so winsorising is undone and the indicator log-transformed, keeping its order.
    X = pd.DataFrame({"n": [0.0] * 95 + [1.0] * 4 + [9.0]}, index=[f"u{i}" for i in range(100)])
    t = steps.treat_outliers(X, max_winsorised=5)
    assert t.report.loc["n", "action"] == "log"
    out = t.X["n"].to_numpy()
    assert len(np.unique(out)) == 3
    assert out[-1] > out[-2] > out[0]
