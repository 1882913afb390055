"""Time and status on ties: the rule for when a tie is in force (citydiplomacy.tiestate),
the curated changes the build applies (data/curated/tie_changes.yaml), and a suspended tie
shown as suspended — never as active — by the network, the CLI, the API and the web."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from citydiplomacy.dataset import build as dataset_build
from citydiplomacy.dataset import tie_changes
from citydiplomacy.dataset.context import BuildContext, load_yaml
from citydiplomacy.errors import ValidationError
from citydiplomacy.store.schema import actors, import_runs, ties
from citydiplomacy.tiestate import in_force, in_force_mask, state_at
from conftest import app_args, copy_store

GLASGOW_ROSTOV = ("glasgow-gb", "rostov-on-don-ru")


# -- the rule ---------------------------------------------------------------------------

@pytest.mark.parametrize("status, since, until, suspended, as_of, state", [
    # suspended on 2022-02-24: in force before, suspended from that day on
    ("suspended", None, None, "2022-02-24", "2021", "active"),
    ("suspended", None, None, "2022-02-24", "2022-02-23", "active"),
    ("suspended", None, None, "2022-02-24", "2022-02-24", "suspended"),
    ("suspended", None, None, "2022-02-24", "2022", "suspended"),   # the year holds the suspension
    ("suspended", None, None, "2022-02-24", "2023", "suspended"),
    ("suspended", None, None, "2022-02-24", None, "suspended"),
    ("suspended", None, None, None, "1990", "suspended"),           # no date: suspended at every date
    ("suspended", "1986", None, "2022-02-24", "1980", "not_begun"),
    # ended: in force through its last date, at the coarser precision
    ("ended", "1973", "2020-01-31", None, "2019", "active"),
    ("ended", "1973", "2020-01-31", None, "2020", "active"),
    ("ended", "1973", "2020-01-31", None, "2020-01-31", "active"),
    ("ended", "1973", "2020-01-31", None, "2020-02", "ended"),
    ("ended", "1973", "2020", None, "2020-06", "active"),
    ("ended", None, None, None, "1990", "ended"),                   # no date: ended at every date
    ("ended", None, "2022-10-26", "2022-02", "2021", "active"),     # frozen, then terminated
    ("ended", None, "2022-10-26", "2022-02", "2022-05", "suspended"),
    ("ended", None, "2022-10-26", "2022-02", "2023", "ended"),
    # not yet begun, and the other statuses
    ("active", "2020-01-13", None, None, "2019", "not_begun"),
    ("active", "2020-01-13", None, None, "2020", "active"),
    ("active", None, "2010", None, "2011", "ended"),
    ("dormant", None, None, None, "2015", "dormant"),
    ("proposed", "2024-01-01", None, None, "2025", "proposed"),
])
def test_state_at(status, since, until, suspended, as_of, state):
    assert state_at(status, since, until, as_of, suspended_since=suspended) == state
    assert in_force(status, since, until, as_of, suspended_since=suspended) == (state in ("active", "dormant"))


DATES = st.sampled_from([None, "", "1999", "2021", "2022", "2022-02", "2022-02-24", "2022-03-02", "2023-06"])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["active", "dormant", "ended", "suspended", "proposed", None]),
                          DATES, DATES, DATES), min_size=1, max_size=30),
       st.sampled_from([None, "2021", "2022", "2022-02-24", "2022-03", "2024"]))
def test_the_column_wise_rule_agrees_with_the_rule(rows, as_of):
    """The indices read every tie at once: their mask gives what the rule gives, row by row."""
    frame = pd.DataFrame(rows, columns=["status", "since", "until", "suspended_since"])
    expected = [in_force(s or "active", si or None, un or None, as_of, suspended_since=ss or None)
                for s, si, un, ss in rows]
    assert in_force_mask(frame, as_of).tolist() == expected


# -- the curated file and the build ----------------------------------------------------------

def _tie(obs, a, b, type_="twinned_with"):
    with obs.store.connect() as conn:
        return conn.execute(select(ties).where(ties.c.source == min(a, b), ties.c.target == max(a, b),
                                               ties.c.type == type_)).first()


def test_a_suspended_pair_is_suspended_in_the_built_store_with_its_source(obs):
    t = _tie(obs, *GLASGOW_ROSTOV)
    assert t.status == "suspended" and t.attrs["suspended_since"] == "2022-02-24"
    change = t.attrs["changes"][0]
    assert change["url"].startswith("https://") and change["says"] and change["as_of"]
    assert change["licence"] == "facts; see url"


def test_a_changed_tie_keeps_its_provenance_and_gains_the_change_source(obs):
    """Milan–St Petersburg comes from the twinning list; the suspension of 2012 and the
    signing year 1967 come from two other sources."""
    ts = {t["other"]: t for t in obs.ties("milan-it", type="twinned_with")}
    t = ts["saint-petersburg-ru"]
    assert t["status"] == "suspended" and t["since"] == "1967"
    assert t["attrs"]["suspended_since"] == "2012-11-23"
    assert t["provenance"]["source"].startswith("Wikipedia")
    assert [c.get("status") or "since" for c in t["attrs"]["changes"]] == ["suspended", "since"]
    assert t["state"] == "suspended"


def test_the_build_report_counts_what_was_applied(obs):
    """The figures docs/data.md quotes, from the store itself and from the build report."""
    doc = load_yaml("curated", "tie_changes.yaml")
    with obs.store.connect() as conn:
        changed = [r for r in conn.execute(select(ties.c.source, ties.c.target, ties.c.status, ties.c.type,
                                                  ties.c.attrs)) if (r.attrs or {}).get("changes")]
        country = dict(conn.execute(select(actors.c.id, actors.c.country)).all())
        summary = conn.execute(select(import_runs.c.summary).where(import_runs.c.kind == "default-dataset")
                               ).scalars().first()
    report = summary["report"]["tie_changes"]
    assert report["entries"] == len(doc["changes"]) >= 100
    assert report["ties_changed"] == len(changed)
    by_status = {s: sum(1 for r in changed if r.status == s) for s in ("suspended", "ended")}
    assert report["ties_by_status"]["suspended"] == by_status["suspended"]
    assert report["ties_by_status"]["ended"] == by_status["ended"]
    since_set = sum(1 for r in changed if any("since" in c for c in r.attrs["changes"]))
    not_in_force = [r for r in changed if r.status in ("suspended", "ended")]
    with_russia_or_belarus = sum(1 for r in not_in_force
                                 if {country.get(r.source), country.get(r.target)} & {"RUS", "BLR"})
    assert (len(not_in_force), with_russia_or_belarus) == (96, 92)
    assert len({c["url"] for r in changed for c in r.attrs["changes"]}) == 64
    # the figures quoted in docs/data.md
    assert (len(doc["changes"]), len(changed), by_status["suspended"], by_status["ended"],
            report["ties_added"], since_set) == (115, 110, 31, 65, 83, 39)


def test_every_entry_names_a_public_source():
    for n, e in enumerate(load_yaml("curated", "tie_changes.yaml")["changes"], 1):
        src = e["source"]
        assert src["url"].startswith(("http://", "https://")), n
        assert src["as_of"] and src["says"] and src["name"], n


def _ctx(store, conn):
    ctx = BuildContext(store=store, conn=conn, run_id=store.start_run(conn, "test", "tie changes test"))
    ctx.actor_ids = set(conn.execute(select(actors.c.id)).scalars())
    return ctx


SOURCE = {"name": "a test", "url": "https://example.org/x", "as_of": "2024-01-01", "says": "it was suspended"}


@pytest.mark.parametrize("entry, message", [
    ({"actors": ["glasgow-gb", "paris-fr"], "status": "suspended", "suspended_since": "2022"},
     "entry 1 (glasgow-gb – paris-fr): matches no twinned_with tie of the build"),
    ({"actors": ["glasgow-gb", "nowhere-xx"], "status": "suspended"}, "no actor 'nowhere-xx' in the store"),
    ({"actors": ["glasgow-gb", "rostov-on-don-ru"], "add": True, "status": "ended", "until": "2023"},
     "says 'add: true' but the build already has this twinned_with tie; remove 'add'"),
    ({"actors": ["glasgow-gb", "rostov-on-don-ru"], "status": "ended"}, "an ended tie needs 'until'"),
    ({"actors": ["glasgow-gb", "rostov-on-don-ru"], "status": "frozen"}, "status 'frozen' is not one of"),
    ({"actors": ["glasgow-gb", "rostov-on-don-ru"], "since": "2031-02-30"}, "February 2031 has 28 days"),
    ({"cities": [{"name": "Glasgow", "country": "Scotland"}, {"name": "Rostov-on-Don", "country": "Russia"}],
      "status": "suspended"}, "cities are found through the twinning step"),
])
def test_a_bad_or_unmatched_entry_is_an_error_naming_it(work, entry, message):
    with work.store.transaction() as conn:
        with pytest.raises(ValidationError, match=re.escape(message)) as info:
            tie_changes.apply_changes(_ctx(work.store, conn), {"changes": [{**entry, "source": SOURCE}]},
                                      file="my_changes.yaml")
        conn.rollback()
    assert "file my_changes.yaml" in str(info.value)


def test_an_entry_without_a_source_is_refused(work):
    with work.store.transaction() as conn:
        with pytest.raises(ValidationError, match="'source' needs url, as_of and says"):
            tie_changes.apply_changes(_ctx(work.store, conn), {"changes": [
                {"actors": ["glasgow-gb", "rostov-on-don-ru"], "status": "suspended"}]})
        conn.rollback()


def test_an_entry_that_matches_nothing_fails_the_build_and_leaves_the_store_empty(fresh_store, monkeypatch):
    from citydiplomacy.dataset import states

    bad = {"changes": [{"actors": ["fra", "deu"], "status": "suspended", "source": SOURCE}]}
    monkeypatch.setattr(tie_changes, "load_yaml", lambda *parts: bad)
    monkeypatch.setattr(dataset_build, "STEPS", [("states", states.build),
                                                 ("curated changes of ties", tie_changes.build)])
    with pytest.raises(ValidationError, match=r"file curated/tie_changes.yaml: entry 1 \(fra – deu\): "
                                              "matches no twinned_with tie"):
        dataset_build.build_default(fresh_store)
    assert fresh_store.is_empty()


def test_a_change_applies_and_a_reimport_keeps_it(work):
    """Applying a change on a copy of the store; a tie carrying a sourced change keeps it
    when a list that does not say (the twinning list again) is imported over it."""
    with work.store.transaction() as conn:
        report = tie_changes.apply_changes(_ctx(work.store, conn), {"changes": [
            {"actors": ["glasgow-gb", "turin-it"], "status": "suspended", "suspended_since": "2024-05",
             "source": SOURCE}]})
    assert report == {"entries": 1, "ties_changed": 1, "ties_added": 0, "ties_by_status": {"suspended": 1},
                      "fields_set": {"status=suspended": 1, "suspended_since set": 1}}
    t = {x["other"]: x for x in work.ties("glasgow-gb")}["turin-it"]
    assert t["status"] == "suspended" and t["attrs"]["suspended_since"] == "2024-05"


# -- the faces ------------------------------------------------------------------------------

def test_the_network_includes_the_tie_before_its_suspension_and_not_after(obs):
    def has_edge(**kw) -> bool:
        g = obs.graph(tie_types=["twinned_with"], **kw).g
        ids = {v["name"]: v.index for v in g.vs}
        return g.get_eid(ids["glasgow-gb"], ids["rostov-on-don-ru"], directed=False, error=False) >= 0

    assert has_edge(as_of="2021")
    assert not has_edge(as_of="2023")
    assert not has_edge()                     # now: suspended, not in force


def test_ties_as_of_and_the_profile(obs):
    assert "rostov-on-don-ru" in {t["other"] for t in obs.ties("glasgow-gb", as_of="2021")}
    assert "rostov-on-don-ru" not in {t["other"] for t in obs.ties("glasgow-gb", as_of="2023")}
    tw = obs.profile("glasgow-gb")["twinning"]
    assert "rostov-on-don-ru" not in {p["id"] for p in tw["partners"]}
    susp = {p["id"]: p for p in tw["not_in_force"]}["rostov-on-don-ru"]
    assert susp["status"] == "suspended" and susp["suspended_since"] == "2022-02-24"
    assert susp["source"]["url"].startswith("https://")


def _citydip(*args):
    env = dict(os.environ)
    proc = subprocess.run([sys.executable, "-m", "citydiplomacy", *args], env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_cli_shows_suspended(cli_env):
    out = _citydip("ties", "glasgow-gb", "--type", "twinned_with", "--format", "csv")
    row = next(line for line in out.splitlines() if "rostov-on-don-ru" in line)
    assert ",suspended,2022-02-24,suspended," in row
    out = _citydip("ties", "glasgow-gb", "--type", "twinned_with", "--as-of", "2021", "--format", "csv")
    row = next(line for line in out.splitlines() if "rostov-on-don-ru" in line)
    assert ",suspended,2022-02-24,active," in row       # its status now, its state then
    out = _citydip("profile", "glasgow-gb", "--no-network")
    assert "suspended or ended partnerships (1" in out and "Rostov-on-Don" in out


@pytest.fixture(scope="module")
def client(built_home, tmp_path_factory):
    from citydiplomacy.web import create_app

    home = tmp_path_factory.mktemp("tie-status-home")
    copy_store(built_home, home)
    app = create_app(**app_args(home), secret="test-secret")
    with TestClient(app) as c:
        yield c
    app.state.obs.close()


def test_api_returns_status_dates_and_source(client):
    items = client.get("/api/v1/actors/glasgow-gb/ties", params={"type": "twinned_with"}).json()["items"]
    t = {x["other"]: x for x in items}["rostov-on-don-ru"]
    assert (t["status"], t["state"], t["since"], t["until"]) == ("suspended", "suspended", None, None)
    assert t["attrs"]["suspended_since"] == "2022-02-24" and t["attrs"]["changes"][0]["url"]
    items = client.get("/api/v1/actors/glasgow-gb/ties", params={"as_of": "2023"}).json()["items"]
    assert "rostov-on-don-ru" not in {x["other"] for x in items}


def test_web_actor_page_marks_the_suspended_tie(client):
    html = client.get("/actors/glasgow-gb").text
    assert 'class="badge status-suspended"' in html
    assert "Suspended or ended partnerships" in html and "suspended 2022-02-24" in html
    assert "budapestpost.com" in html                  # the source of the suspension
    html = client.get("/actors/glasgow-gb", params={"as_of": "2021", "type": "twinned_with"}).text
    assert "The ties in force at 2021" in html and "Rostov-on-Don" in html
