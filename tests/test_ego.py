"""The ego network laid out for drawing (citydiplomacy.network.ego): aggregation into group
nodes, their expansion, the quotient graph, and label placement without collisions."""

from __future__ import annotations

from pathlib import Path

import igraph as ig
import pytest

from citydiplomacy.errors import ValidationError
from citydiplomacy.network import DiplomacyGraph
from citydiplomacy.network.ego import PAGE, ego_view, text_width
from citydiplomacy.network.reach import ego

COUNTRIES = (["USA"] * 30 + ["NGA"] * 5 + ["IND"] * 20 + ["BRA"] * 15 + ["CHN"] * 10
             + ["FRA", "DEU", "ESP", "ITA", "GBR", "JPN", "KOR", "MEX", "ARG", "CHL"] * 2)


def hub(n_cities: int = 100) -> DiplomacyGraph:
    """A network with ``n_cities`` member cities (in 14 countries), 4 funders, 2 organisations
    it works with, and twinning among some of the cities."""
    names = ["net"] + [f"city-{i}" for i in range(n_cities)] + [f"fund-{i}" for i in range(4)] + ["un", "wb"]
    g = ig.Graph(directed=True)
    g.add_vertices(len(names))
    g.vs["name"] = names
    g.vs["label"] = (["The Network"] + [f"Municipality of Somewhere Number {i}" for i in range(n_cities)]
                     + [f"Foundation {i}" for i in range(4)] + ["United Nations", "World Bank"])
    g.vs["kind"] = (["city_network"] + ["city"] * n_cities + ["civil_society"] * 4
                    + ["international_organization"] * 2)
    g.vs["layer"] = ["micro"] * (1 + n_cities + 4) + ["macro"] * 2
    g.vs["country"] = [None] + COUNTRIES[:n_cities] + [None] * 6
    edges, types = [], []
    for i in range(n_cities):
        edges.append((1 + i, 0))
        types.append("member_of")
    for i in range(0, n_cities - 1, 3):
        edges.append((1 + i, 2 + i))
        types.append("twinned_with")
    for k in range(4):
        edges.append((1 + n_cities + k, 0))
        types.append("funds")
    edges += [(0, 1 + n_cities + 4), (0, 1 + n_cities + 5)]
    types += ["participates_in", "partner_of"]
    g.add_edges(edges)
    g.es["type"] = types
    return DiplomacyGraph(g)


def boxes(view):
    return [(n["label_box"]["x"], n["label_box"]["y"], n["label_box"]["x"] + n["label_box"]["w"],
             n["label_box"]["y"] + n["label_box"]["h"], n["id"]) for n in view["nodes"] if n["label_box"]]


def overlapping(view):
    b = boxes(view)
    return [(p[4], q[4]) for i, p in enumerate(b) for q in b[i + 1:]
            if p[0] < q[2] and q[0] < p[2] and p[1] < q[3] and q[1] < p[3]]


def test_a_hub_is_drawn_with_groups_and_every_actor_is_accounted_for():
    v = ego_view(hub(), "net")
    s = v["summary"]
    assert s["actors"] == 1 + 100 + 6
    groups = [n for n in v["nodes"] if n["group"]]
    assert groups and s["groups"] == len(groups)
    # everyone is drawn once: by its own node or inside one group
    assert s["shown"] + s["grouped"] == s["actors"] - 1
    assert s["shown"] <= 32
    assert len(v["nodes"]) <= 32 + 1 + 8
    # the other kinds are not crowded out by the hundred cities
    kinds = {n["kind"] for n in v["nodes"] if not n["group"]}
    assert {"civil_society", "international_organization", "city"} <= kinds
    # the rest are cities only: grouped by country, largest first, labelled "+N more"
    assert {g["group"]["by"] for g in groups} == {"country"}
    usa = next(g for g in groups if g["group"]["value"] == "USA")
    assert usa["name"].startswith(f"+{usa['group']['count']} more cities · United States")
    assert all(m["id"].startswith("city-") for m in usa["group"]["members"])


def test_labels_do_not_overlap_one_another_or_the_nodes():
    for n_cities in (5, 40, 100):
        v = ego_view(hub(n_cities), "net")
        assert v["hidden_labels"] == 0
        assert all(n["label_box"] for n in v["nodes"])
        assert overlapping(v) == []
        for n in v["nodes"]:
            for b in boxes(v):
                if b[4] == n["id"]:
                    continue
                cx = min(max(n["x"], b[0]), b[2])
                cy = min(max(n["y"], b[1]), b[3])
                assert (cx - n["x"]) ** 2 + (cy - n["y"]) ** 2 >= n["r"] ** 2 - 1e-6, (n["id"], b[4])


def test_a_small_ego_network_is_drawn_whole():
    v = ego_view(hub(10), "net")
    assert v["summary"]["groups"] == 0
    assert len(v["nodes"]) == v["summary"]["actors"] == 17


def test_expanding_a_group_draws_a_page_more_of_its_actors():
    dg = hub()
    v = ego_view(dg, "net", group_by="kind")
    g = next(n for n in v["nodes"] if n["group"])
    assert g["id"].startswith("more:1:kind:")
    opened = ego_view(dg, "net", group_by="kind", expand=[g["id"]])
    shown = {n["id"] for n in opened["nodes"] if not n["group"]}
    assert len(shown) == min(PAGE, g["group"]["count"]) + v["summary"]["shown"] + 1    # and the ego
    assert {m["id"] for m in g["group"]["members"][:PAGE]} <= shown
    rest = next((n for n in opened["nodes"] if n["id"] == g["id"]), None)
    assert rest is None or rest["group"]["count"] == g["group"]["count"] - PAGE
    assert overlapping(opened) == []
    twice = ego_view(dg, "net", group_by="kind", expand=[g["id"], g["id"]])
    assert twice["summary"]["shown"] == min(v["summary"]["shown"] + 2 * PAGE, v["summary"]["actors"] - 1)


def test_edges_are_merged_per_pair_of_drawn_nodes():
    v = ego_view(hub(), "net")
    ids = {n["id"] for n in v["nodes"]}
    assert all(e["source"] in ids and e["target"] in ids for e in v["edges"])
    pairs = [(e["source"], e["target"]) for e in v["edges"]]
    assert len(pairs) == len(set(pairs))
    # the members' ties to the network all appear, as single edges or as a group's count
    to_net = sum(e["types"].get("member_of", 0) for e in v["edges"] if "net" in (e["source"], e["target"]))
    assert to_net == 100


@pytest.mark.parametrize("by", ["kind", "layer", "country"])
def test_group_by_is_honoured(by):
    v = ego_view(hub(), "net", group_by=by)
    assert {n["group"]["by"] for n in v["nodes"] if n["group"]} == {by}


def test_bad_arguments_are_named():
    with pytest.raises(ValidationError, match="grouping 'colour'"):
        ego_view(hub(), "net", group_by="colour")
    with pytest.raises(ValidationError, match="depth"):
        ego_view(hub(), "net", depth=0)
    with pytest.raises(ValidationError, match="not in this graph"):
        ego_view(hub(), "nowhere")


def test_text_width_follows_the_font_the_page_draws_labels_in():
    font = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    if not font.exists():
        pytest.skip("DejaVu Sans is not installed")
    ImageFont = pytest.importorskip("PIL.ImageFont")
    f = ImageFont.truetype(str(font), 1100)
    for text in ("Barcelona", "Rio de Janeiro", "World Trade Organization", "+81 more cities · India", "Köln"):
        # without kerning, the estimate is the width or a little more, never less
        assert f.getlength(text) / 100 * 0.999 <= text_width(text) <= f.getlength(text) / 100 * 1.03, text


# -- on the default data --------------------------------------------------------------------------

@pytest.mark.parametrize("ref", ["c40", "eu", "barcelona-es"])
def test_hubs_of_the_default_data(obs, ref):
    dg = obs.graph()
    v = ego_view(dg, ref)
    whole = ego(dg, ref, depth=1).summary
    assert v["summary"]["actors"] == whole["nodes"]
    assert v["summary"]["shown"] + v["summary"]["grouped"] == whole["nodes"] - 1
    assert len(v["nodes"]) <= 41
    assert v["hidden_labels"] == 0 and overlapping(v) == []
    if ref == "c40":                       # 97 member cities: most are in groups
        assert v["summary"]["grouped"] > 50
        assert any(n["name"].startswith("+") and "more cities" in n["name"] for n in v["nodes"])


def test_the_figures_docs_quote(obs):
    """docs/web.md's figures for C40, the EU and Lyon."""
    text = " ".join((Path(__file__).parents[1] / "docs" / "web.md").read_text(encoding="utf-8").split())
    dg = obs.graph()
    c40, eu, lyon = (ego_view(dg, ref)["summary"] for ref in ("c40", "eu", "lyon-fr"))
    assert (f"C40's {c40['actors'] - 1} neighbours are drawn as {c40['shown']} actors and "
            f"{c40['groups']} groups") in text
    assert eu["groups"] == 1
    assert f"the EU's {eu['actors'] - 1} as {eu['shown']} actors and a group of {eu['grouped']} states" in text
    assert lyon["groups"] == 0
    assert f"Lyon's {lyon['actors'] - 1} one by one" in text
