"""What an actor's page says about the actor it shows: ties grouped by their role for it
(a bloc's members apart from what it is a member of), only the cards that have something to
say for its kind, and a map that shades a bloc's member states (the HTML and the map's JSON,
through a real app; the browser tests are in test_web_ego.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from citydiplomacy import tieroles  # noqa: E402
from citydiplomacy.geo import iso_numeric, map_ties  # noqa: E402
from citydiplomacy.web import create_app  # noqa: E402
from conftest import app_args, copy_store  # noqa: E402

EU27 = {"AUT", "BEL", "BGR", "CYP", "CZE", "DEU", "DNK", "ESP", "EST", "FIN", "FRA", "GRC", "HRV", "HUN", "IRL",
        "ITA", "LTU", "LUX", "LVA", "MLT", "NLD", "POL", "PRT", "ROU", "SVK", "SVN", "SWE"}


@pytest.fixture(scope="module")
def client(built_home, tmp_path_factory):
    home = tmp_path_factory.mktemp("pages-home")
    copy_store(built_home, home)
    app = create_app(**app_args(home), secret="test-secret-for-the-actor-pages")
    with TestClient(app) as c:
        yield c
    app.state.obs.close()


def headings(html: str, level: int) -> list[str]:
    return [re.sub(r"<[^>]+>", "", h).strip() for h in re.findall(rf"<h{level}[^>]*>(.*?)</h{level}>", html, re.S)]


def role_headings(html: str) -> dict[str, str]:
    """data-role -> the heading text of each group of ties ("Members (28)")."""
    return {k: re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", v)).strip()
            for k, v in re.findall(r'<h3 class="tie-role" data-role="([^"]+)">(.*?)</h3>', html, re.S)}


def test_a_blocs_members_are_apart_from_what_it_is_a_member_of(client, obs):
    html = client.get("/actors/eu").text
    roles = role_headings(html)
    ties = obs.ties("eu", type="member_of")
    n_in = sum(1 for t in ties if t["direction"] == "in")
    n_out = sum(1 for t in ties if t["direction"] == "out")
    assert n_in >= 27 and n_out >= 5
    assert roles["member_of:in"] == f"Members ({n_in})"
    assert roles["member_of:out"] == f"Member of ({n_out})"
    assert not any(h.startswith("Member of (" + str(n_in + n_out)) for h in roles.values())
    # the members are states, what it belongs to are bodies: each under its own heading
    members = html.split('class="tie-role" data-role="member_of:in"')[1].split("</table>")[0]
    belongs = html.split('class="tie-role" data-role="member_of:out"')[1].split("</table>")[0]
    assert "/actors/esp" in members and "/actors/esp" not in belongs
    assert "/actors/g7" in belongs and "/actors/g7" not in members
    docs = " ".join((Path(__file__).parents[1] / "docs" / "web.md").read_text(encoding="utf-8").split())
    assert f"**Members ({n_in})**" in docs and f"**Member of ({n_out})**" in docs
    # the layer table names roles too
    assert re.search(r'data-role="member_of:in">Members: 27<', html)


def test_a_citys_ties_are_headed_from_its_side(client):
    roles = role_headings(client.get("/actors/barcelona-es").text)
    assert roles["member_of:out"].startswith("Member of (")
    assert roles["twinned_with:both"].startswith("Twinned with (")
    assert roles["located_in:out"] == "Located in (1)"
    assert "member_of:in" not in roles


@pytest.mark.parametrize("ref, shown, hidden", [
    ("eu", {"Facts", "Ties by layer", "Ego network", "Ties and their sources"},
     {"Networks by axis", "Initiatives"}),
    ("c40", {"Facts", "Members on the map", "Ego network"}, {"Networks by axis", "Initiatives"}),
    ("esp", {"Facts", "Ego network"}, {"Networks by axis", "Initiatives"}),
    ("barcelona-es", {"Networks by axis", "Initiatives", "Twinning partners on the map", "Ego network"}, set()),
])
def test_cards_with_nothing_to_say_for_the_kind_are_left_out(client, ref, shown, hidden):
    h2 = set(headings(client.get(f"/actors/{ref}").text, 2))
    assert shown <= h2, shown - h2
    assert not (hidden & h2), hidden & h2


def test_a_blocs_map_shades_its_member_states(client, obs):
    fc = client.get("/api/v1/map/ties", params={"actor": "eu"}).json()
    assert fc["shade"]["what"] == "member states"
    assert set(fc["shade"]["countries"]) == EU27
    assert set(fc["shade"]["numeric"]) == {iso_numeric()[c] for c in EU27}
    assert fc["actor"]["located"] is False and fc["mapped"] == 0
    # what the caption is computed from: ties, those whose other end has a place, the dots
    assert fc["ties"] == len(obs.ties("eu"))
    assert fc["points"] == len({f["id"] for f in fc["features"] if f["geometry"]["type"] == "Point"})


def test_a_networks_map_has_dots_but_no_lines_and_shades_its_members_countries(obs):
    fc = map_ties(obs.store, "c40")
    members = [t for t in obs.ties("c40", type="member_of") if t["direction"] == "in"]
    assert fc["actor"]["located"] is False
    assert fc["mapped"] == 0 and fc["points"] >= 90          # the dots the old caption denied
    assert set(fc["shade"]["countries"]) == {t["other_country"] for t in members
                                             if t["other_country"] and t["state"] in ("active", "dormant")}
    city = map_ties(obs.store, "barcelona-es")
    assert city["actor"]["located"] and city["mapped"] >= 5
    assert "ESP" in city["shade"]["countries"]


def test_tie_roles_and_counts(obs):
    groups = tieroles.group_ties(obs.ties("eu"))
    labels = [g.label for g in groups]
    assert labels.index("Member of") < labels.index("Members")    # from the actor, then to it
    assert sum(len(g.ties) for g in groups) == len(obs.ties("eu"))
    with obs.store.connect() as conn:
        counts = tieroles.count_roles(conn, "eu")
    assert counts["meso"]["member_of:in"]["n"] == 27
    assert counts["meso"]["member_of:in"]["label"] == "Members"
    assert tieroles.role_label("partner_of", "in") == tieroles.role_label("partner_of", "out") == "Partners"
    assert tieroles.role_label("made_up", "in") == "Made up (to this actor)"


def test_the_ego_layout_api(client):
    r = client.get("/api/v1/actors/c40/ego/layout")
    assert r.status_code == 200
    v = r.json()
    assert v["ego"]["id"] == "c40" and v["hidden_labels"] == 0
    group = next(n for n in v["nodes"] if n["group"])
    opened = client.get("/api/v1/actors/c40/ego/layout", params={"expand": group["id"]}).json()
    assert opened["summary"]["shown"] > v["summary"]["shown"]
    bad = client.get("/api/v1/actors/c40/ego/layout", params={"group_by": "colour"})
    assert bad.status_code == 422 and "group_by" in bad.text
    assert client.get("/api/v1/actors/zzqxq-nowhere/ego/layout").status_code == 404
