"""The default dataset: what `citydip init` builds must meet the documented floor."""

import re

import pytest
from sqlalchemy import func, select

from citydiplomacy.countries import lookup_code
from citydiplomacy.dataset.context import load_yaml
from citydiplomacy.store import schema

QID = re.compile(r"^Q[1-9][0-9]*$")


def test_three_layers_are_populated(obs):
    s = obs.status()
    kinds = s["actors"]["by_kind"]
    assert kinds["state"] >= 190
    assert kinds.get("international_organization", 0) + kinds.get("geopolitical_bloc", 0) >= 30
    assert kinds["city_network"] >= 30
    assert kinds.get("regional_organization", 0) >= 10
    assert kinds["city"] >= 20_000
    assert set(s["actors"]["by_layer"]) == {"macro", "meso", "micro"}
    assert s["ties"]["by_type"]["twinned_with"] >= 15_000
    assert s["frameworks"]["sdg"] == {"goals": 17, "targets": 169, "indicators": 252}
    assert s["frameworks"]["paris"] == {"articles": 29}


def test_every_fact_has_provenance(obs):
    with obs.store.connect() as conn:
        for table in (schema.actors, schema.ties, schema.aliases, schema.framework_items,
                      schema.frameworks):
            missing = conn.execute(select(func.count()).select_from(table)
                                   .where(table.c.provenance_id.is_(None))).scalar()
            assert missing == 0, table.name
        bad = conn.execute(select(func.count()).select_from(schema.provenance).where(
            (schema.provenance.c.licence == "") | schema.provenance.c.source.is_(None))).scalar()
        assert bad == 0
        runs = conn.execute(select(schema.import_runs.c.status)).scalars().all()
        assert runs == ["ok"]


def test_no_non_commercial_licence_is_shipped(obs):
    with obs.store.connect() as conn:
        licences = conn.execute(select(schema.provenance.c.licence).distinct()).scalars().all()
    assert not [lic for lic in licences if re.search(r"\bNC\b|non-?commercial", lic, re.I)]


def test_states_carry_codes_region_and_un_status(obs):
    fra = obs.get("fra")
    assert fra["name"] == "France" and fra["layer"] == "meso"
    assert fra["attrs"]["iso2"] == "FR" and fra["attrs"]["un_status"] == "member"
    assert fra["attrs"]["un_region"] == "Western Europe"
    assert obs.get("VAT")["attrs"]["un_status"] == "observer"
    members = [t for t in obs.ties("un", type="member_of") if t["direction"] == "in"
               and t["other_kind"] == "state"]
    assert len(members) == 193


def test_cities_have_location_population_region_and_aliases(obs):
    bcn = obs.get("barcelona-es")
    assert bcn["geonames_id"] == 3128760 and bcn["country"] == "ESP"
    assert bcn["admin1"] == "Catalonia" and bcn["population"] > 1_000_000
    assert abs(bcn["lat"] - 41.39) < 0.05
    assert "Barcelone" in bcn["aliases"]
    assert obs.get("paris-fr")["attrs"].get("capital") is True


def test_small_towns_enter_only_when_a_tie_names_them_or_a_district_is_part_of_them(obs):
    # ... or an engagement of the register names them (a signatory, a participant, a host)
    a, t, p, e = schema.actors, schema.ties, schema.engagement_parties, schema.engagements
    named = t.c.type.in_(["twinned_with", "member_of", "hosts"])
    small = a.c.attrs["geonames_file"].as_string() == "cities500"
    with obs.store.connect() as conn:
        towns = conn.execute(select(func.count()).select_from(a).where(small)).scalar()
        untied = conn.execute(select(func.count()).select_from(a).where(
            small,
            ~a.c.id.in_(select(t.c.source).where(named)),
            ~a.c.id.in_(select(t.c.target).where(named)),
            ~a.c.id.in_(select(t.c.target).where(t.c.type == "located_in")),   # a district's town
            ~a.c.id.in_(select(p.c.actor_id)),
            ~a.c.id.in_(select(e.c.place_id).where(e.c.place_id.is_not(None))))).scalar()
    assert towns > 1000
    assert untied == 0


def test_twinning_report_is_recorded(obs):
    with obs.store.connect() as conn:
        summary = conn.execute(select(schema.import_runs.c.summary)).scalar()
    tw = summary["report"]["twinning"]
    assert tw["rows"] == 26114
    assert tw["ties_loaded"] >= 15_000
    assert sum(tw["unresolved_by_reason"].values()) > 0   # what did not resolve is reported
    assert tw["unresolved_names"]
    # counties, boroughs and districts of cities are resolved, and counted apart
    assert tw["rows_resolved_both_sides"] / tw["rows"] >= 0.85
    assert tw["regions_loaded"] > 100 and tw["districts_created"] > 100
    assert tw["rows_resolved_both_sides_without_new_districts"] < tw["rows_resolved_both_sides"]
    assert tw["matched_by_rule"]["list_context"] > 0 and tw["matched_by_rule"]["subdivision"] > 0


def test_every_tie_between_actors_ends_at_an_actor(obs):
    t, a = schema.ties, schema.actors
    with obs.store.connect() as conn:
        dangling = conn.execute(select(func.count()).select_from(t).where(
            t.c.target_type == "actor", ~t.c.target.in_(select(a.c.id)))).scalar()
        dangling += conn.execute(select(func.count()).select_from(t).where(~t.c.source.in_(select(a.c.id)))).scalar()
    assert dangling == 0


def test_districts_and_regions_of_the_default_build(obs):
    berlin = {t["other"] for t in obs.ties("berlin-de", type="located_in")}
    district = obs.get("berlin-de-steglitz-zehlendorf")
    assert district["attrs"]["district_of"] == "berlin-de" and "berlin-de-steglitz-zehlendorf" in berlin
    assert district["provenance"]["licence"] == "CC BY-SA 4.0"     # named by the Wikipedia lists
    assert obs.ties("berlin-de-steglitz-zehlendorf", type="twinned_with")
    maui = obs.search("Maui County")[0]
    assert maui["kind"] == "region"
    assert obs.get(maui["id"])["attrs"]["subdivision_code"] == "US-FIPS-15009"


def test_paris_parties(obs):
    ties = {t["source"]: t for t in obs.ties("fra", type="party_to")}
    assert "fra" in ties and ties["fra"]["target_type"] == "framework"
    usa = [t for t in obs.ties("usa", type="party_to")]
    assert usa and {t["status"] for t in usa} == {"ended"}
    assert not obs.ties("irn", type="party_to") and obs.ties("irn", type="signatory_of")


@pytest.mark.parametrize("fname,key", [("organizations.yaml", "organizations"),
                                       ("city_networks.yaml", "networks")])
def test_curated_files_are_sourced_and_valid(fname, key):
    entries = load_yaml("curated", fname)[key]
    ids = [e["id"] for e in entries]
    assert len(ids) == len(set(ids))
    for e in entries:
        assert e["source"]["url"].startswith("http") and e["source"]["as_of"], e["id"]
        if "wikidata" in e:
            assert QID.match(e["wikidata"]), e["id"]
        for spec in (e.get("members") or {}).get("states") or []:
            if isinstance(spec, dict) and spec.get("actor"):    # a state without an ISO code (SADR)
                continue
            code = spec if isinstance(spec, str) else spec["state"]
            assert lookup_code(code), (e["id"], code)


def test_curated_states_file_is_complete():
    states = load_yaml("curated", "states.yaml")["states"]
    status = [s["un_status"] for s in states]
    assert status.count("member") == 193 and status.count("observer") == 2
    qids = [s["wikidata"] for s in states if "wikidata" in s]
    assert len(qids) == len(set(qids)) and all(QID.match(q) for q in qids)


def test_twinning_figures_quoted_in_the_docs_are_the_builds(obs):
    """docs/data.md and docs/resolution.md quote the build's rows resolved on both sides
    (with and without new districts) and its ties: they must be this build's."""
    from pathlib import Path

    with obs.store.connect() as conn:
        summary = conn.execute(select(schema.import_runs.c.summary)).scalar()
    tw = summary["report"]["twinning"]
    both, without = tw["rows_resolved_both_sides"], tw["rows_resolved_both_sides_without_new_districts"]
    docs = Path(__file__).parents[1] / "docs"
    data = " ".join((docs / "data.md").read_text(encoding="utf-8").split())
    assert (f"| rows resolved on both sides | **{both:,} ({both / tw['rows']:.1%})**; without the new "
            f"districts {without:,} ({without / tw['rows']:.1%})") in data
    assert re.search(rf"\| ties loaded [^|]*\| {tw['ties_loaded']:,} ", data)
    resolution = " ".join((docs / "resolution.md").read_text(encoding="utf-8").split())
    assert f"The default build itself resolves **{both / tw['rows']:.1%}** ({both:,})" in resolution
