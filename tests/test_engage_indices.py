"""Engagement activity indicators (measure kind ``engagements``): counts in force at a
date, and not known is not zero — a city listed by no engagement of the kind is
missing, unless every list of the kind is complete and has parties in its country."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from engstore import make_store

from citydiplomacy.indices import indicators
from citydiplomacy.indices.framework import load_framework


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s = make_store(tmp_path_factory.mktemp("engind") / "citydip.sqlite")
    yield s
    s.close()


@pytest.fixture(scope="module")
def data(store):
    return indicators.load(store)


UNITS = pd.Index(["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "omega"])


def values(store, data, spec, as_of=None) -> dict[str, float | None]:
    got = indicators.measure(store, data, UNITS, {"kind": "engagements", **spec}, as_of, code="x").values
    return {k: None if math.isnan(v) else v for k, v in got.items()}


def test_declarations_signed_known_for_signatories_missing_elsewhere(store, data):
    assert values(store, data, {"kinds": ["declaration"]}) == {
        "alpha": 2, "beta": 2, "gamma": 1, "delta": 1,
        # decl's list is partial: a city it does not list may have signed it
        "epsilon": None, "zeta": None, "omega": None}


def test_a_complete_list_makes_non_signing_a_known_zero_in_its_countries_only(store, data):
    # decl2 (digital) is complete, with signatories in France and Germany
    assert values(store, data, {"kinds": ["declaration"], "axis": "digital"}) == {
        "alpha": 1, "beta": 1, "omega": 0,                  # Omega, France: known not to have signed
        "gamma": None, "delta": None, "epsilon": None, "zeta": None}


def test_as_of_counts_what_was_signed_then_and_a_listed_city_is_known_before(store, data):
    assert values(store, data, {"kinds": ["declaration"]}, as_of="2012") == {
        "alpha": 1, "beta": 1, "gamma": 0, "delta": 0, "epsilon": None, "zeta": None, "omega": None}


def test_events_and_agreements_in_force_and_within_years(store, data):
    ev = values(store, data, {"kinds": ["event"]})
    assert (ev["alpha"], ev["epsilon"], ev["gamma"], ev["beta"]) == (1, 1, 1, None)    # the host counts
    assert values(store, data, {"kinds": ["event"], "years": 5}, as_of="2021")["alpha"] == 1
    assert values(store, data, {"kinds": ["event"], "years": 5}, as_of="2025")["alpha"] == 0
    agr = values(store, data, {"kinds": ["agreement", "project"]})
    assert (agr["alpha"], agr["epsilon"], agr["beta"]) == (0, 0, None)      # completed in 2023
    assert values(store, data, {"kinds": ["agreement"]}, as_of="2021")["epsilon"] == 1


def test_the_organiser_is_not_counted_and_an_empty_register_is_all_missing(store, data, fresh_store):
    net = indicators.measure(store, data, pd.Index(["net"]), {"kind": "engagements"}, code="x").values
    assert math.isnan(net["net"])
    empty = indicators.load(fresh_store)
    assert indicators.measure(fresh_store, empty, UNITS, {"kind": "engagements"}, code="x").values.isna().all()


def test_engagements_mirroring_another_list_are_left_out_unless_asked(store, data):
    mirrored = data.engagements.assign(mirrored=data.engagements["engagement"] == "decl2")
    d = indicators.StoreData(data.actors, data.ties, data.initiatives, data.alignments, data.observations,
                             engagements=mirrored)
    assert values(store, d, {"kinds": ["declaration"]})["alpha"] == 1
    assert values(store, d, {"kinds": ["declaration"], "mirrored": True})["alpha"] == 2


def test_the_shipped_framework_has_the_engagement_activity_indicators():
    fw = load_framework()
    codes = {i.code: i for i in fw.indicators}
    for code in ("declarations_signed", "events_attended", "agreements_active"):
        assert codes[code].axis == "engagement" and codes[code].measure["kind"] == "engagements"
