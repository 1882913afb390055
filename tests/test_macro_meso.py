"""The macro and meso layers, complete and current, and the micro layer's private actors
and civil society (issue 15, items 6 and 7), checked against the built default store —
and the figures docs/data.md quotes about them, so the docs cannot drift."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from citydiplomacy.dataset.context import load_yaml
from citydiplomacy.model import Provenance
from citydiplomacy.store import SCHEMA_HEAD, Store, schema

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _summary(obs) -> dict:
    runs = schema.import_runs
    with obs.store.connect() as conn:
        raw = conn.execute(select(runs.c.summary).where(runs.c.kind == "default-dataset")).scalar()
    return raw if isinstance(raw, dict) else json.loads(raw)


def _ties(obs, **where) -> list:
    t = schema.ties
    q = select(t)
    for k, v in where.items():
        q = q.where(t.c[k] == v)
    with obs.store.connect() as conn:
        return [r._asdict() for r in conn.execute(q)]


def test_no_membership_is_dropped_at_load_time(obs):
    report = _summary(obs)["report"]
    assert not report.get("unknown_member_states"), report.get("unknown_member_states")
    assert not report.get("unknown_member_organizations")
    assert not report.get("unresolved_seats"), report.get("unresolved_seats")


@pytest.mark.parametrize("member,body,kind", [
    ("ala", "nordic-council", "member_of"), ("fro", "nordic-council", "member_of"),
    ("grl", "nordic-council", "member_of"), ("sadr", "african-union", "member_of"),
    ("msr", "caricom", "member_of"), ("bmu", "caricom", "participates_in"),
    ("pyf", "pacific-islands-forum", "member_of"), ("hkg", "apec", "member_of")])
def test_territories_are_actors_with_their_memberships(obs, member, body, kind):
    assert [t for t in _ties(obs, source=member, target=body) if t["type"] == kind]


def test_a_territory_is_a_meso_region_located_in_its_sovereign(obs):
    grl = obs.get("grl")
    assert (grl["kind"], grl["layer"], grl["attrs"]["territory_of"]) == ("region", "meso", "dnk")
    assert _ties(obs, source="grl", target="dnk", type="located_in")
    assert _ties(obs, source="nuuk-gl", target="grl", type="located_in")   # its cities are in it
    assert obs.get("sadr")["kind"] == "state"
    assert obs.get("esh")["attrs"].get("territory_of") is None           # Western Sahara: disputed


@pytest.mark.parametrize("body,members,ended", [
    ("opec", {"sau", "irn", "irq", "kwt", "ven", "lby", "are", "dza", "nga", "gab", "gnq", "cog"}, {"ago", "qat", "ecu", "idn"}),
    ("efta", {"che", "isl", "lie", "nor"}, {"gbr", "aut", "swe"}),
    ("eaeu", {"arm", "blr", "kaz", "kgz", "rus"}, set()),
    ("cis", {"arm", "aze", "blr", "kaz", "kgz", "mda", "rus", "tjk", "uzb"}, {"geo"}),
    ("igad", {"dji", "eth", "ken", "som", "sdn", "ssd", "uga"}, {"eri"}),
    ("eccas", {"ago", "bdi", "cmr", "caf", "tcd", "cod", "cog", "gnq", "gab", "rwa", "stp"}, set()),
    ("sica", {"blz", "cri", "slv", "gtm", "hnd", "nic", "pan", "dom"}, set()),
    ("pacific-alliance", {"chl", "col", "mex", "per"}, set()),
    ("aes", {"bfa", "mli", "ner"}, set()),
    ("organization-of-turkic-states", {"aze", "kaz", "kgz", "tur", "uzb"}, set()),
])
def test_new_organisations_and_their_members(obs, body, members, ended):
    ties = _ties(obs, target=body, type="member_of")
    active = {t["source"] for t in ties if t["status"] == "active"}
    assert active == members
    assert {t["source"] for t in ties if t["status"] == "ended"} >= ended
    assert all(t["since"] for t in ties if body != "cis" or t["status"] == "ended")


def test_dated_joins_and_departures(obs):
    def one(source, target, **kw):
        return [t for t in _ties(obs, source=source, target=target, type="member_of")
                if all(t[k] == v for k, v in kw.items())]
    assert one("fin", "nato", since="2023-04-04") and one("swe", "nato", since="2024-03-07")
    assert one("mli", "ecowas", until="2025-01-29", status="ended")
    assert one("ago", "opec", status="ended", until="2023-12-31")
    assert one("idn", "brics", since="2025-01-06")
    assert one("bfa", "aes", since="2023-09-16")


def test_seats_are_hosts_ties(obs):
    hosts = {(t["source"], t["target"]) for t in _ties(obs, type="hosts")}
    for pair in [("lyon-fr", "interpol"), ("new-york-city-us", "un"), ("paris-fr", "unesco"),
                 ("bonn-de", "unfccc"), ("vienna-at", "opec"), ("incheon-kr", "gcf"),
                 ("montreal-ca", "icao"), ("kirkenes-no", "barents-euro-arctic-council")]:
        assert pair in hosts, pair
    # every body with a seat in the curated files has its hosts tie
    for fname, key in (("organizations.yaml", "organizations"), ("city_networks.yaml", "networks")):
        for e in load_yaml("curated", fname)[key]:
            if e.get("seat"):
                assert any(t == e["id"] for _, t in hosts), e["id"]


def test_current_facts(obs):
    kaz = obs.get("kaz")
    assert kaz["attrs"]["capital"] == "Astana"
    assert obs.get("astana-kz")["attrs"].get("capital") is True
    vat = obs.get("vat")
    assert (vat["wikidata"], vat["name"]) == ("Q159583", "Holy See")
    states = load_yaml("curated", "states.yaml")["states"]
    assert len({s["iso3"] for s in states}) == len(states)          # no state listed twice
    qids = [s["wikidata"] for s in states] + [t["wikidata"] for t in load_yaml("curated", "territories.yaml")["territories"] if t.get("wikidata")]
    assert len(set(qids)) == len(qids)


def test_norway_and_france_current_regions(obs):
    a = schema.actors
    with obs.store.connect() as conn:
        regions = {cc: set(conn.execute(select(a.c.admin1).where(a.c.country == cc, a.c.kind == "city")).scalars())
                   for cc in ("NOR", "FRA")}
    assert regions["NOR"] == {"Oslo", "Rogaland", "Møre og Romsdal", "Nordland", "Østfold", "Akershus", "Buskerud",
                              "Innlandet", "Vestfold", "Telemark", "Agder", "Vestland", "Trøndelag", "Troms", "Finnmark"}
    metropolitan = {"Auvergne-Rhône-Alpes", "Bourgogne-Franche-Comté", "Bretagne", "Centre-Val de Loire", "Corse",
                    "Grand Est", "Hauts-de-France", "Île-de-France", "Normandie", "Nouvelle-Aquitaine", "Occitanie",
                    "Pays de la Loire", "Provence-Alpes-Côte d'Azur"}
    assert regions["FRA"] - {None} == metropolitan
    with obs.store.connect() as conn:       # only overseas signatories that no gazetteer holds lack a region
        unplaced = conn.execute(select(a.c.lat).where(a.c.country == "FRA", a.c.kind == "city",
                                                      a.c.admin1.is_(None))).scalars().all()
    assert all(lat < 41 for lat in unplaced), unplaced
    assert obs.get("bergen-no")["admin1"] == "Vestland" and obs.get("lyon-fr")["admin1"] == "Auvergne-Rhône-Alpes"
    from citydiplomacy.resolve import subdivisions

    recs = subdivisions.records()
    assert {"NO-31", "NO-32", "NO-33", "NO-39", "NO-40", "NO-55", "NO-56"} <= set(recs)
    assert not {"NO-30", "NO-38", "NO-54"} & set(recs)
    assert sum(1 for r in recs.values() if r["cc"] == "NO" and r["type"] == "County") == 15   # Oslo included


def test_paris_party_to_and_signatory_of(obs):
    usa = _ties(obs, source="usa", target="paris")
    parties = [t for t in usa if t["type"] == "party_to"]
    assert {(t["since"], t["until"], t["status"]) for t in parties} == {
        ("2016-11-04", "2020-11-04", "ended"), ("2021-02-19", "2026-01-27", "ended")}
    assert [t["status"] for t in usa if t["type"] == "signatory_of"] == ["active"]
    for state in ("irn", "lby", "yem"):
        kinds = {t["type"] for t in _ties(obs, source=state, target="paris")}
        assert kinds == {"signatory_of"}, state
    fra = _ties(obs, source="fra", target="paris")
    assert [(t["type"], t["target_type"]) for t in fra] == [("party_to", "framework")]
    active_parties = [t for t in _ties(obs, target="paris", type="party_to") if t["status"] == "active"]
    assert len(active_parties) == 194                        # 193 states and the EU


def test_migration_0007_rewrites_paris_ties_of_an_old_store(tmp_path):
    path = tmp_path / "old.sqlite"
    old = Store(path, migrate=False)
    old.migrate("0005")
    with old.transaction() as conn:
        run = old.start_run(conn, "test")
        prov = old.add_provenance(conn, Provenance(source="t", licence="CC0"), run)
        conn.execute(insert(schema.actors).values(id="fra", name="France", kind="state", layer="meso",
                                                  provenance_id=prov))
        conn.execute(insert(schema.actors).values(id="c", name="C", kind="city", layer="micro",
                                                  provenance_id=prov))
        conn.execute(insert(schema.ties).values(source="fra", target="paris", target_type="framework",
                                                type="signatory_of", since="2016-11-04", provenance_id=prov))
        conn.execute(insert(schema.ties).values(source="c", target="sdg", target_type="framework",
                                                type="signatory_of", provenance_id=prov))
    old.close()
    new = Store(path)
    assert new.schema_version() == SCHEMA_HEAD
    with new.connect() as conn:
        rows = {(r.source, r.type) for r in conn.execute(select(schema.ties))}
    assert rows == {("fra", "party_to"), ("c", "signatory_of")}     # only Paris ties change
    new.close()


def test_micro_actors(obs):
    a, t = schema.actors, schema.ties
    with obs.store.connect() as conn:
        kinds = dict(conn.execute(select(a.c.kind, func.count()).where(
            a.c.kind.in_(("private_actor", "civil_society", "academia"))).group_by(a.c.kind)).all())
        ids = set(conn.execute(select(a.c.id).where(a.c.kind.in_(kinds))).scalars())
        tied = set(conn.execute(select(t.c.source).where(t.c.source.in_(ids), t.c.type != "located_in")).scalars()) | \
            set(conn.execute(select(t.c.target).where(t.c.target.in_(ids))).scalars())
    assert sum(kinds.values()) >= 100 and set(kinds) == {"private_actor", "civil_society", "academia"}
    assert ids == tied                                  # every one has a typed tie
    for e in load_yaml("curated", "micro_actors.yaml")["actors"]:
        assert e["source"]["url"].startswith("http") and e["source"]["as_of"], e["id"]
        for spec in e["ties"]:
            src = spec.get("source") or e["source"]
            assert src["url"].startswith("http"), (e["id"], spec)
    assert _ties(obs, source="bloomberg-philanthropies", target="c40", type="funds")
    assert _ties(obs, source="rockefeller-foundation", target="100-resilient-cities", type="founded")
    assert _ties(obs, source="world-economic-forum", target="g20-global-smart-cities-alliance", type="hosts")
    assert _ties(obs, source="uclg", target="cities-alliance", type="member_of")
    # national associations can be found by their native names and acronyms
    assert obs.search("Deutscher Städtetag")[0]["id"] == "deutscher-stadtetag"
    assert obs.search("Vereniging van Nederlandse Gemeenten")[0]["id"] == "vng"
    assert obs.search("Kommunernes Landsforening")[0]["id"] == "kl-denmark"


def _doc_figures() -> dict[str, int]:
    text = (DOCS / "data.md").read_text(encoding="utf-8")
    out = {}
    for key, label in (("territories", r"territories \(meso\)"), ("micro", r"private actors, civil society, academia \(micro\)"),
                       ("party_to", r"`party_to` "), ("signatory_of", r"`signatory_of` "), ("hosts", r"`hosts` ")):
        m = re.search(label + r"[\s|:]*(\d[\d,]*)", text)     # the figure right after the label
        assert m, label
        out[key] = int(m.group(1).replace(",", ""))
    return out


def test_docs_figures_match_the_store(obs):
    counts = _summary(obs)["counts"]
    doc = _doc_figures()
    assert doc["territories"] == counts["territories"]
    assert doc["micro"] == sum(v for k, v in counts.items() if k.startswith("micro_actors."))
    for tie in ("party_to", "signatory_of", "hosts"):
        assert doc[tie] == counts[f"ties.{tie}"], tie
