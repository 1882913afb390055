"""The figures of the docs read from the actors' ``attrs`` (citydiplomacy.dataset.figures)
count the same on SQLite and PostgreSQL (json_extract there, ``->>`` here)."""

from __future__ import annotations

import pytest
from sqlalchemy import update

import citydiplomacy
from citydiplomacy.dataset.figures import attr_figures
from citydiplomacy.store import schema

SRC = {"source": "a test of the figures"}
ATTRS = {
    "r1": {"subdivision_list": "iso3166-2", "covenant_group": True, "covenant_role": "coordinator"},
    "r2": {"subdivision_list": "iso3166-2", "covenant_body": "several municipalities"},
    "r3": {"subdivision_list": "us_counties", "covenant_group": True, "covenant_role": "supporter"},
    "r4": {"covenant_group": False},
    "r5": None,
}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request):
    return None if request.param == "sqlite" else request.getfixturevalue("pg_db")


def test_attr_figures_count_the_same_on_both_stores(tmp_path, db):
    obs = citydiplomacy.open(home=tmp_path, db=db, build=False)
    try:
        for rid, attrs in ATTRS.items():
            obs.add_actor(f"Region {rid}", "region", id=rid, country="FR", **SRC)
        obs.add_actor("Friends of the Earth", "civil_society", id="foe", **SRC)
        with obs.store.transaction() as conn:
            for rid, attrs in ATTRS.items():
                conn.execute(update(schema.actors).where(schema.actors.c.id == rid).values(attrs=attrs))
            conn.execute(update(schema.actors).where(schema.actors.c.id == "foe")
                         .values(attrs={"covenant_role": "supporter"}))
        with obs.store.connect() as conn:
            f = attr_figures(conn)
    finally:
        obs.close()
    assert f["lists"] == {"iso3166-2": 2, "us_counties": 1, None: 2}
    assert f["roles"] == {"coordinator region": 1, "supporter region": 1, "supporter civil_society": 1}
    assert f["groups"] == 2 and f["bodies"] == 1
