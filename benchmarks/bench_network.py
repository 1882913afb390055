"""Network benchmark: centrality measures on the default dataset and on a generated
multilayer graph, against NetworkX and bare igraph in the same process.

Prints two tables:

1. The default dataset (~40,700 actors, ~61,600 ties): each measure through the library
   (``citydiplomacy.network.centrality``) and the whole table of ``compute()`` (five
   measures, overall and per layer). Betweenness is *sampled* there (``--sample`` pivots,
   with its stated error): exact betweenness needs one search per actor (~85 s).
   Target: the whole table under 10 s on 2 cores.
2. A generated multilayer graph (``--actors`` actors, ``--ties`` ties; seeded; layers,
   kinds, countries, tie types and weights), timing in the same run
   (a) our measures through the library, on the DiplomacyGraph;
   (b) NetworkX on the same undirected simple graph: PageRank, connected components and
       betweenness sampled with ``--nx-sample`` pivots (exact is out of reach);
   (c) igraph called directly on the bare edge list (the shortest igraph code giving the
       same numbers).
   Ratios: NetworkX / ours (targets: PageRank ≥ 12×, components ≥ 25×) and ours / bare
   igraph (target ≤ 1.5×). Closeness is not run on it: it needs a search per actor.

Peak memory is the process's maximum resident set (``resource.getrusage``; target
< 4 GiB). Each time is the best of ``--repeat`` runs (one run for the slow ones).

Run:  python benchmarks/bench_network.py [--actors 100000] [--ties 1000000] [--home DIR]
"""

from __future__ import annotations

import argparse
import random
import resource
import tempfile
import time
from typing import Any, Callable

import igraph as ig
import networkx as nx
import numpy as np

import citydiplomacy
from citydiplomacy.network import DiplomacyGraph, build_graph
from citydiplomacy.network import centrality

from _report import table  # noqa: E402  (benchmarks/, run as a script)

TARGET_DATASET_S = 10.0
TARGET_NX_RATIO = {"pagerank": 12.0, "components": 25.0}
TARGET_BARE_RATIO = 1.5
TARGET_MEMORY_GIB = 4.0

#: Generated ties: type -> (share, source layers, target layers).
TIE_MIX = {
    "twinned_with": (0.40, ("micro",), ("micro",)),
    "partner_of": (0.08, ("micro",), ("micro", "meso")),
    "member_of": (0.22, ("micro", "meso"), ("macro", "meso", "micro")),
    "located_in": (0.10, ("micro",), ("meso",)),
    "participates_in": (0.10, ("micro",), ("macro",)),
    "hosts": (0.05, ("micro",), ("macro",)),
    "funds": (0.05, ("meso", "macro"), ("micro",)),
}
LAYER_SHARE = {"macro": 0.01, "meso": 0.04, "micro": 0.95}
LAYER_KINDS = {"macro": ["international_organization", "geopolitical_bloc"],
               "meso": ["state", "regional_organization"],
               "micro": ["city", "region", "city_network", "private_actor", "civil_society", "academia"]}


def timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux


def generate(actors: int, ties: int, seed: int = 0) -> tuple[DiplomacyGraph, np.ndarray, np.ndarray]:
    """A seeded multilayer graph: actors on three layers with kinds and countries; ties
    of several types between the layers the type links, the target drawn in proportion
    to a heavy-tailed attractiveness (Pareto, shape 1.5), the source uniformly; weights
    1–5. Returns the DiplomacyGraph and its bare edge list and weights."""
    rng = np.random.default_rng(seed)
    layer = rng.choice(list(LAYER_SHARE), size=actors, p=list(LAYER_SHARE.values()))
    appeal = rng.pareto(1.5, actors) + 1.0
    pools = {name: np.flatnonzero(layer == name) for name in LAYER_SHARE}
    src_parts, dst_parts, type_parts = [], [], []
    for typ, (share, from_layers, to_layers) in TIE_MIX.items():
        m = int(round(share * ties))
        sources = np.concatenate([pools[x] for x in from_layers])
        targets = np.concatenate([pools[x] for x in to_layers])
        p = appeal[targets] / appeal[targets].sum()
        src_parts.append(rng.choice(sources, size=m))
        dst_parts.append(rng.choice(targets, size=m, p=p))
        type_parts.append(np.full(m, typ, dtype=object))
    src, dst = np.concatenate(src_parts), np.concatenate(dst_parts)
    types = np.concatenate(type_parts)
    keep = src != dst
    edges = np.column_stack([src[keep], dst[keep]])
    weights = rng.integers(1, 6, size=len(edges)).astype(float)
    g = ig.Graph(n=actors, edges=edges.tolist(), directed=True)
    g.vs["name"] = [f"a{i:07d}" for i in range(actors)]
    g.vs["label"] = [f"Actor {i}" for i in range(actors)]
    g.vs["layer"] = layer.tolist()
    g.vs["kind"] = [LAYER_KINDS[x][i % len(LAYER_KINDS[x])] for i, x in enumerate(layer)]
    g.vs["country"] = [f"C{c:03d}" for c in rng.integers(0, 200, size=actors)]
    g.es["type"] = types[keep].tolist()
    g.es["weight"] = weights.tolist()
    return DiplomacyGraph(g, {"generated": f"{actors} actors, {len(edges)} ties, seed {seed}"}), edges, weights


def fmt(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def bench_dataset(home: str | None, sample: int, repeat: int) -> None:
    if home is None:
        home = tempfile.mkdtemp(prefix="citydip-bench-")
        print(f"building the default dataset in {home} ...", flush=True)
    obs = citydiplomacy.open(home=home)
    build_s, dg = timed(lambda: build_graph(obs.store))
    n, m = dg.g.vcount(), dg.g.ecount()
    rows = []
    for label, fn, reps in [
        ("degree", lambda: centrality.degree(dg), repeat),
        ("strength", lambda: centrality.degree(dg, weighted=True), repeat),
        ("PageRank", lambda: centrality.pagerank(dg), repeat),
        ("eigenvector", lambda: centrality.eigenvector(dg), repeat),
        ("closeness (exact)", lambda: centrality.closeness(dg), 1),
        (f"betweenness (sampled, {sample} pivots)", lambda: centrality.betweenness(dg, sample=sample), 1),
        ("components", lambda: centrality.components(dg), repeat),
    ]:
        seconds, out = timed(fn, reps)
        note = ""
        if isinstance(out, centrality.Estimate):
            top = max(out, key=out.get)
            note = (f"top actor {top}: {out[top]:.4f} ± {out.stderr[top]:.4f} (stderr); "
                    f"all within ±{out.bound:.3f} at 95 %")
        rows.append([label, fmt(seconds), note])
    seconds, result = timed(lambda: centrality.compute(dg, sample=sample))
    scopes = sorted({r["scope"] for r in result})
    rows.append([f"**compute(): 5 measures, overall + per layer, betweenness sampled ({sample})**",
                 f"**{fmt(seconds)}**", f"{len(result)} rows, scopes {', '.join(scopes)}; target < {TARGET_DATASET_S:.0f} s"])
    rows.append(["(build_graph from the store, not included above)", fmt(build_s), ""])
    table(f"Default dataset: {n:,} actors, {m:,} ties", ["measure (library)", "time", "note"], rows)
    obs.close()


def bench_generated(actors: int, ties: int, sample: int, nx_sample: int, repeat: int, seed: int) -> None:
    print(f"\ngenerating {actors:,} actors and {ties:,} ties (seed {seed}) ...", flush=True)
    dg, edges, weights = generate(actors, ties, seed)
    bare = ig.Graph(n=actors, edges=edges.tolist(), directed=True)
    bare.es["weight"] = weights.tolist()

    def bare_simple() -> ig.Graph:
        return bare.as_undirected(mode="collapse", combine_edges={"weight": "sum"})

    # The NetworkX graph: the same undirected simple graph, weights summed.
    def to_networkx() -> nx.Graph:
        u = bare_simple()
        G = nx.Graph()
        G.add_nodes_from(range(actors))
        G.add_weighted_edges_from((a, b, w) for (a, b), w in zip(u.get_edgelist(), u.es["weight"]))
        return G

    convert_s, G = timed(to_networkx)
    n_simple = G.number_of_edges()
    pivots = random.Random(0).sample(range(actors), sample)

    ours = {
        "degree": lambda: centrality.degree(dg),
        "PageRank": lambda: centrality.pagerank(dg),
        "eigenvector": lambda: centrality.eigenvector(dg),
        "components": lambda: centrality.components(dg),
        f"betweenness, {sample} pivots": lambda: centrality.betweenness(dg, sample=sample),
        f"betweenness, {nx_sample} pivots": lambda: centrality.betweenness(dg, sample=nx_sample),
    }
    engine = {
        "degree": lambda: [k - 1 for k in bare.neighborhood_size(order=1, mode="all")],
        "PageRank": lambda: bare.pagerank(directed=False, weights="weight"),
        "eigenvector": lambda: bare_simple().eigenvector_centrality(),
        "components": lambda: bare.connected_components(mode="weak").sizes(),
        f"betweenness, {sample} pivots": lambda: bare_simple().betweenness(directed=False, sources=pivots),
        f"betweenness, {nx_sample} pivots": lambda: bare_simple().betweenness(directed=False, sources=pivots[:nx_sample]),
    }
    networkx = {
        "degree": lambda: dict(G.degree()),
        "PageRank": lambda: nx.pagerank(G),
        "components": lambda: [len(c) for c in nx.connected_components(G)],
        f"betweenness, {nx_sample} pivots": lambda: nx.betweenness_centrality(G, k=nx_sample, seed=0),
    }
    slow = {f"betweenness, {sample} pivots", f"betweenness, {nx_sample} pivots", "PageRank"}
    rows = []
    for name in ours:
        reps = 1 if name in slow else repeat
        t_ours, _ = timed(ours[name], reps)
        t_bare, _ = timed(engine[name], reps)
        t_nx = timed(networkx[name], 1)[0] if name in networkx else None
        key = "pagerank" if name == "PageRank" else name
        nx_ratio = f"{t_nx / t_ours:.1f}×" if t_nx else "—"
        if key in TARGET_NX_RATIO:
            ok = t_nx / t_ours >= TARGET_NX_RATIO[key]
            nx_ratio += f" (target ≥ {TARGET_NX_RATIO[key]:.0f}×{'' if ok else ', MISSED'})"
        bare_ratio = t_ours / t_bare
        rows.append([name, fmt(t_ours), fmt(t_nx), fmt(t_bare), nx_ratio,
                     f"{bare_ratio:.2f}×" + ("" if bare_ratio <= TARGET_BARE_RATIO else " (over 1.5×)")])
    rows.append(["(NetworkX graph construction, not included)", "—", fmt(convert_s), "—", "—", "—"])
    mem = peak_gib()
    table(f"Generated multilayer graph: {actors:,} actors, {len(edges):,} ties "
          f"({n_simple:,} distinct pairs); peak memory {mem:.2f} GiB (target < {TARGET_MEMORY_GIB:.0f} GiB)",
          ["measure", "ours (library)", "NetworkX", "bare igraph", "NetworkX / ours", "ours / bare"], rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--actors", type=int, default=100_000, help="actors in the generated graph")
    ap.add_argument("--ties", type=int, default=1_000_000, help="ties in the generated graph")
    ap.add_argument("--sample", type=int, default=256,
                    help="betweenness pivots for the library (at most 64 on the generated graph)")
    ap.add_argument("--nx-sample", type=int, default=4, help="betweenness pivots for NetworkX")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each fast measure (best is kept)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the generated graph")
    ap.add_argument("--home", help="use this home (built if empty) instead of a fresh temporary one")
    ap.add_argument("--skip-dataset", action="store_true", help="only the generated graph")
    args = ap.parse_args()
    if not args.skip_dataset:
        bench_dataset(args.home, args.sample, args.repeat)
    bench_generated(args.actors, args.ties, min(args.sample, 64), args.nx_sample, args.repeat, args.seed)


if __name__ == "__main__":
    main()
