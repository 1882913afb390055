"""Initiatives: stored with provenance, aligned when written, shown in the profile with
their coverage of the SDGs and Paris articles and the gaps."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from citydiplomacy.errors import CitydipError, ValidationError
from citydiplomacy.store import schema
from conftest import app_args, db_env

HEAT = ("A network of 200 climate shelters - cooled libraries, schools and civic centres - protects "
        "older residents during heatwaves, and 1,500 new street trees shade school routes.")
WATER = "New wastewater treatment and sewer connections bring safe sanitation to 20,000 homes in the informal settlements."


def count(obs, table):
    with obs.store.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar()


def test_an_initiative_is_stored_with_provenance_and_aligned(work):
    rep = work.add_initiative("Barcelona", "Climate shelters", HEAT, since="2019",
                              source="Ajuntament de Barcelona, Pla Clima 2018-2030", licence="CC BY 4.0")
    assert rep.created["initiatives"] == 1 and rep.created["alignments"] >= 2
    [ini] = work.initiatives("Barcelona")
    assert 13 in ini["sdgs"] and 7 in ini["paris"]
    assert ini["provenance"]["source"].startswith("Ajuntament") and ini["provenance"]["licence"] == "CC BY 4.0"
    assert ini["method"] and ini["axes"] == ["sustainability"]           # axes filled from the alignment
    prof = work.profile("Barcelona")["initiatives"]
    assert prof["count"] == 1 and prof["by_sdg"][13] == 1 and 13 not in prof["sdg_gaps"]
    assert 1 in prof["sdg_gaps"] and prof["by_paris"][7] == 1 and 9 in prof["paris_gaps"]


def test_adding_again_changes_nothing_and_a_new_text_realigns(work):
    kw = {"source": "city council decision 2021/17"}
    work.add_initiative("Barcelona", "Programme 7", WATER, **kw)
    again = work.add_initiative("Barcelona", "Programme 7", WATER, **kw)
    assert not again.changed and again.unchanged == {"initiatives": 1}
    changed = work.add_initiative("Barcelona", "Programme 7", HEAT, **kw)
    assert changed.updated == {"initiatives": 1}
    [ini] = work.initiatives("Barcelona")
    assert 13 in ini["sdgs"] and 6 not in ini["sdgs"]


def test_bad_initiatives_are_refused_and_the_store_is_unchanged(work):
    before = count(work, schema.initiatives)
    with pytest.raises(ValidationError, match="source"):
        work.add_initiative("Barcelona", "No source", HEAT)
    with pytest.raises(CitydipError):
        work.add_initiative("Nowhereville Xq", "Ghost plan", HEAT, source="x")
    with pytest.raises(ValidationError, match="since"):
        work.add_initiative("Barcelona", "Bad date", HEAT, since="2019-13-45", source="x")
    rep = work.add_initiative("Barcelona", "Dry", HEAT, source="x", dry_run=True)
    assert rep.dry_run and rep.created["initiatives"] == 1
    assert count(work, schema.initiatives) == before


def test_a_table_of_initiatives_imports_atomically_with_a_report(work, tmp_path):
    f = tmp_path / "plans.csv"
    f.write_text("City,Country,Title,Summary,Start\n"
                 f"Lyon,France,Heat plan,\"{HEAT}\",2020\n"
                 f"Nairobi,Kenya,Sanitation,\"{WATER}\",2021\n"
                 "Atlantisqq,Nowhere,Lost,Some text,2020\n"
                 "Munich,Germany,,No title given,2020\n", encoding="utf-8")
    mapping = {"actor": "City", "country": "Country", "title": "Title", "text": "Summary", "since": "Start"}
    before = count(work, schema.initiatives)
    dry = work.import_("table", str(f), as_="initiatives", mapping=mapping, dry_run=True)
    assert dry.created["initiatives"] == 2 and count(work, schema.initiatives) == before
    rep = work.import_("table", str(f), as_="initiatives", mapping=mapping, source_name="plans")
    assert rep.created["initiatives"] == 2
    kinds = {(p.row, p.kind) for p in rep.problems}
    assert (4, "unresolved") in kinds and (5, "rejected") in kinds
    assert 6 in work.initiatives("Nairobi")[0]["sdgs"]
    again = work.import_("table", str(f), as_="initiatives", mapping=mapping, source_name="plans")
    assert not again.changed


def test_cli_initiative_add_list_and_profile(work, cli_env, tmp_path):
    env = {**cli_env, **db_env(work.store.home)}

    def run(*args):
        return subprocess.run([sys.executable, "-m", "citydiplomacy", *args], env=env, capture_output=True,
                              text=True, timeout=600)
    p = run("initiative", "add", "Barcelona", "--title", "Climate shelters", "--text", HEAT, "--since", "2019",
            "--source", "Pla Clima")
    assert p.returncode == 0, p.stderr
    data = json.loads(run("initiative", "list", "Barcelona", "--format", "json").stdout)
    assert data[0]["title"] == "Climate shelters" and 13 in data[0]["sdgs"]
    out = run("profile", "Barcelona", "--no-network").stdout
    assert "initiatives and their coverage" in out and "gaps" in out
    p = run("initiative", "add", "Barcelona", "--title", "x", "--source", "y", "--since", "soon")
    assert p.returncode == 1 and "since" in p.stderr and "Traceback" not in p.stderr
    assert "Example" in run("initiative", "import", "--help").stdout


def test_the_actor_page_shows_coverage_and_gaps(work):
    from fastapi.testclient import TestClient

    from citydiplomacy.web import create_app

    work.add_initiative("Barcelona", "Climate shelters", HEAT, source="Pla Clima")
    app = create_app(**app_args(work.store.home), secret="test")
    try:
        html = TestClient(app).get("/actors/barcelona-es").text
    finally:
        app.state.obs.close()
    assert "SDGs served" in html and "Gaps — SDGs no initiative serves" in html
    gaps = html.split("Gaps — SDGs no initiative serves:", 1)[1].split(";", 1)[0]
    assert "13" not in gaps.split(", ") and "1" in [g.strip() for g in gaps.split(",")]
