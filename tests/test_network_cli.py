"""The network commands, run as a user runs them, and the profile's network section."""

import json

import networkx as nx
import pytest

from test_cli import citydip


def test_metrics_json_and_table(cli_env):
    rows = json.loads(citydip("network", "metrics", "--type", "twinned_with", "--country", "PT",
                              "--scope", "each", "--format", "json", env=cli_env).stdout)
    scopes = {r["scope"] for r in rows}
    assert "all" in scopes and "micro" in scopes
    assert {"pagerank", "betweenness", "closeness", "eigenvector", "degree"} <= set(rows[0])
    out = citydip("network", "metrics", "--type", "twinned_with", "--country", "PT", "--top", "5", env=cli_env).stdout
    assert "top 5 by pagerank" in out


def test_brokers_reach_communities(cli_env):
    rows = json.loads(citydip("network", "brokers", "--format", "json", env=cli_env).stdout)
    assert rows[0]["group"] and rows[0]["total"] >= rows[-1]["total"]
    data = json.loads(citydip("network", "reach", "Barcelona", "--format", "json", env=cli_env).stdout)
    ids = {r["id"]: r for r in data["routes"]}
    assert ids["un"]["distance"] == 2 and data["vertical_integration"] > 0
    com = json.loads(citydip("network", "communities", "--format", "json", env=cli_env).stdout)
    assert com["modularity"] > 0.3 and com["communities"]


def test_ego_and_export_open_in_networkx(cli_env, tmp_path):
    out = tmp_path / "c40.graphml"
    citydip("network", "ego", "c40", "--depth", "1", "--out", str(out), env=cli_env)
    G = nx.read_graphml(out)
    assert "c40" in G and "barcelona-es" in G and G.nodes["c40"]["kind"] == "city_network"
    gexf = tmp_path / "pt.gexf"
    citydip("network", "export", "--type", "twinned_with", "--country", "PT", "--out", str(gexf), env=cli_env)
    H = nx.read_gexf(gexf)
    assert H.number_of_edges() > 10
    assert all("licence" in d for _, _, d in H.edges(data=True))


def test_network_errors(cli_env):
    proc = citydip("network", "metrics", "--type", "loves", env=cli_env, check=False)
    assert proc.returncode == 1 and "unknown type 'loves'" in proc.stderr
    proc = citydip("network", "reach", "Nowhereville-on-Sea", env=cli_env, check=False)
    assert proc.returncode == 1 and "no actor matches" in proc.stderr
    proc = citydip("network", "export", "--out", "/tmp/x.docx", env=cli_env, check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr


@pytest.mark.parametrize("command", ["metrics", "brokers", "reach", "communities", "ego", "export"])
def test_network_commands_have_help_with_an_example(command, cli_env):
    out = citydip("network", command, "--help", env=cli_env).stdout
    assert "Example" in out and f"citydip network {command}" in out


def test_profile_network_section(obs):
    p = obs.profile("Barcelona", network=True)
    n = p["network"]
    assert n["degree"]["rank"] < 200 and n["pagerank"]["rank"] < 500
    assert n["vertical_integration"]["rank"] <= 100 and n["reach"]["macro_actors_within_3"] >= 10
    assert set(n["brokerage"]) >= {"coordinator", "representative", "liaison"}
    assert "network" not in obs.profile("Barcelona")
