"""Recommendation benchmark: hold ties out, fit on the rest, rank the held-out ties back.

Three splits of the default data's ties in force, each fitted only on its training ties
(the signals are computed on the training graph, the model is fitted on training ties):

1. ``twinning (random 10%)`` — a seeded random 10% of the twinning ties between cities and
   regions is held out. Queries: up to ``--queries`` actors with a held-out partner; the
   candidates: every city and region except the query and its training partners; the
   relevant ones: its held-out partners.
2. ``memberships (random 10%)`` — 10% of the memberships of cities and regions in city
   networks; ranked both ways: members for a network (query: a network; candidates: every
   city and region not a training member) and networks for a city.
3. ``memberships (time split)`` — every tie that began after ``--cutoff`` (its ``since``)
   is left out of training; the memberships of city networks among them are the relevant
   ones (mostly Covenant of Mayors adhesions, which carry their date).

Methods, all in the same run on the same queries, candidates and random tie-break: ours
(the fitted model on every signal, :mod:`citydiplomacy.recommend`), and the classical link
predictors (Liben-Nowell & Kleinberg 2007): common neighbours and Adamic–Adar on the
multilayer graph, preferential attachment, nearest by distance (to the query; for a
network, to its nearest training member) and most popular (most twinning partners; most
memberships; for networks, most members). Metrics per query, averaged: precision@10,
recall@50, MRR (1 / rank of the first relevant candidate); AUC pools the held-out pairs
against ``--negatives`` random candidates per query. Ties in a score are broken by one
random key per candidate shared by every method.

The target (issue 19): ours beats the best classical baseline of the same run by at least
20% relative in precision@10 and in MRR on split 1 and on split 3 (members for a network).
Then the speed of the product on the whole data: fitting (cold, after a change to the
store), loading the kept models in a new process, and warm recommendations.

Run:  python benchmarks/bench_recommend.py [--home DIR] [--queries 400] [--cutoff 2019] [--seed 7]
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import time

import numpy as np

import citydiplomacy
from citydiplomacy.recommend import signals as S
from citydiplomacy.recommend.data import TrainingGraph, profile_facts
from citydiplomacy.recommend.model import fit_member_model, fit_partner_model, member_features, score_partners

from _report import table

BASELINES = ("common neighbours", "Adamic–Adar", "preferential attachment", "nearest by distance", "most popular")
METHODS = ("ours",) + BASELINES


class Tally:
    """Metrics of each method over the queries of one task."""

    def __init__(self):
        self.p10 = {m: [] for m in METHODS}
        self.r50 = {m: [] for m in METHODS}
        self.mrr = {m: [] for m in METHODS}
        self.pos = {m: [] for m in METHODS}
        self.neg = {m: [] for m in METHODS}

    def add(self, scores: dict[str, np.ndarray], relevant: np.ndarray, tiebreak: np.ndarray, negatives: np.ndarray):
        for m, s in scores.items():
            s = np.nan_to_num(np.asarray(s, dtype=float), nan=-np.inf)
            ranks = []
            for r in relevant:
                ranks.append(1 + int(np.sum(s > s[r])) + int(np.sum((s == s[r]) & (tiebreak < tiebreak[r]))))
            ranks = np.array(ranks)
            self.p10[m].append(np.sum(ranks <= 10) / 10.0)
            self.r50[m].append(np.sum(ranks <= 50) / len(ranks))
            self.mrr[m].append(1.0 / ranks.min())
            self.pos[m].append(s[relevant])
            self.neg[m].append(s[negatives])

    def rows(self) -> dict[str, tuple[float, float, float, float]]:
        from scipy.stats import rankdata

        out = {}
        for m in METHODS:
            pos, neg = np.concatenate(self.pos[m]), np.concatenate(self.neg[m])
            pos = np.where(np.isfinite(pos), pos, -1e300)
            neg = np.where(np.isfinite(neg), neg, -1e300)
            r = rankdata(np.concatenate([pos, neg]))
            auc = (r[:len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg))
            out[m] = (auc, float(np.mean(self.p10[m])), float(np.mean(self.r50[m])), float(np.mean(self.mrr[m])))
        return out

    @property
    def n(self) -> int:
        return len(self.mrr["ours"])


def _year(since) -> int | None:
    if not since:
        return None
    try:
        return int(str(since)[:4])
    except ValueError:
        return None


def eval_partners(tg: TrainingGraph, held: np.ndarray, args, rng) -> tuple[Tally, float]:
    t0 = time.perf_counter()
    model = fit_partner_model(tg, seed=args.seed)
    fit_s = time.perf_counter() - t0
    d = tg.data()
    pairs = tg.edges[held]
    rel: dict[int, set[int]] = {}
    for u, v in pairs:
        rel.setdefault(int(u), set()).add(int(v))
        rel.setdefault(int(v), set()).add(int(u))
    queries = sorted(rel)
    queries = list(rng.choice(queries, size=min(args.queries, len(queries)), replace=False))
    tally = Tally()
    pool = d.pool
    tiebreak_all = rng.random(len(d.ids))
    for b in range(0, len(queries), 50):
        batch = queries[b:b + 50]
        ppr = S.personalized_pagerank(d, batch)
        for k, q in enumerate(batch):
            cand = pool[(pool != q) & ~np.isin(pool, d.T[q].indices)]
            relevant = np.flatnonzero(np.isin(cand, list(rel[q])))
            if not len(relevant):
                continue
            scores = {"ours": score_partners(model, d, q, cand, ppr[:, k]),
                      "common neighbours": S.common_neighbours(d, q, cand),
                      "Adamic–Adar": S.adamic_adar(d, q, cand),
                      "preferential attachment": S.preferential_attachment(d, q, cand),
                      "nearest by distance": -S.distance_km(d, q, cand),
                      "most popular": d.deg_T[cand]}
            negatives = rng.choice(len(cand), size=args.negatives, replace=False)
            tally.add(scores, relevant, tiebreak_all[cand], negatives)
    return tally, fit_s


def eval_members(tg: TrainingGraph, held: np.ndarray, args, rng) -> tuple[Tally, Tally, float]:
    t0 = time.perf_counter()
    model = fit_member_model(tg, seed=args.seed)
    fit_s = time.perf_counter() - t0
    d = tg.data()
    pairs = tg.edges[held]
    tiebreak_all = rng.random(len(d.ids))
    # members for a network
    by_net: dict[int, set[int]] = {}
    by_actor: dict[int, set[int]] = {}
    for a, v in pairs:
        j = d.net_col[int(v)]
        if d.M[int(a), j]:          # a duplicate of a training membership
            continue
        by_net.setdefault(j, set()).add(int(a))
        by_actor.setdefault(int(a), set()).add(j)
    members = Tally()
    pool = d.pool
    for j in sorted(by_net):
        v = int(d.networks[j])
        cand = pool[~np.isin(pool, d.MT[j].indices)]
        relevant = np.flatnonzero(np.isin(cand, list(by_net[j])))
        if not len(relevant):
            continue
        jj = np.full(len(cand), j)
        scores = {"ours": model.score(member_features(d, cand, jj)),
                  "common neighbours": S.common_neighbours(d, v, cand),
                  "Adamic–Adar": S.adamic_adar(d, v, cand),
                  "preferential attachment": S.preferential_attachment(d, v, cand),
                  "nearest by distance": -S.nearest_member_km(d, cand, jj),
                  "most popular": d.deg_M[cand]}
        negatives = rng.choice(len(cand), size=args.negatives, replace=False)
        members.add(scores, relevant, tiebreak_all[cand], negatives)
    # networks for a city
    networks = Tally()
    actors = sorted(by_actor)
    actors = list(rng.choice(actors, size=min(args.queries, len(actors)), replace=False))
    K = len(d.networks)
    net_tiebreak = rng.random(K)
    for a in actors:
        cols = np.flatnonzero(~np.isin(np.arange(K), d.M[a].indices))
        relevant = np.flatnonzero(np.isin(cols, list(by_actor[a])))
        if not len(relevant):
            continue
        aa = np.full(len(cols), a)
        vs = d.networks[cols]
        scores = {"ours": model.score(member_features(d, aa, cols)),
                  "common neighbours": S.common_neighbours(d, a, vs),
                  "Adamic–Adar": S.adamic_adar(d, a, vs),
                  "preferential attachment": S.preferential_attachment(d, a, vs),
                  "nearest by distance": -S.nearest_member_km(d, aa, cols),
                  "most popular": d.net_size[cols]}
        negatives = rng.choice(len(cols), size=min(5, len(cols)), replace=False)
        networks.add(scores, relevant, net_tiebreak[cols], negatives)
    return members, networks, fit_s


def report(title: str, tally: Tally, note: str) -> dict[str, float]:
    rows = tally.rows()
    best = {i: max(rows[m][i] for m in BASELINES) for i in range(4)}
    out = []
    for m in METHODS:
        out.append([m] + [f"{rows[m][i]:.3f}" for i in range(4)])
    gains = {}
    for i, name in ((1, "precision@10"), (3, "MRR")):
        gains[name] = rows["ours"][i] / best[i] - 1 if best[i] > 0 else float("inf")
    out.append(["**ours vs best baseline**", f"{rows['ours'][0] - best[0]:+.3f}",
                f"{gains['precision@10']:+.0%}", f"{rows['ours'][2] - best[2]:+.3f}", f"{gains['MRR']:+.0%}"])
    table(f"{title} — {tally.n} queries; {note}", ["method", "AUC", "precision@10", "recall@50", "MRR"], out)
    return gains


def speed(obs, args) -> None:
    from citydiplomacy.recommend import engine

    rows = []
    dg = obs.graph()
    t0 = time.perf_counter()
    cov, sc = profile_facts(obs.store)
    fitted = engine.Recommender.fit(TrainingGraph(dg, coverage=cov, axis_scores=sc))
    rows.append(["fit both models on every tie in force (cold, after a change to the store)",
                 f"{time.perf_counter() - t0:.1f} s", "—"])
    if dg.results is not None:      # keep it beside the store, as the first recommendation does
        dg.results.get_or_compute(("recommend", engine.FORMAT, engine.PARTNER_FEATURES, engine.MEMBER_FEATURES),
                                  lambda: fitted)
    engine._MEMO.clear()
    t0 = time.perf_counter()
    engine.recommender(obs.store, obs.graph())
    rows.append(["load the kept arrays and models (first call in a new process)",
                 f"{time.perf_counter() - t0:.2f} s", "—"])
    rec = engine.recommender(obs.store, obs.graph())
    rng = np.random.default_rng(args.seed)
    d = rec.data
    busy = d.pool[d.deg_T[d.pool] > 0]
    cities = [d.ids[i] for i in rng.choice(busy, size=20, replace=False)]
    for label, kw in (("partners for a city, theme 11.6 (20 cities)", {"theme": "11.6"}),
                      ("partners for a city, theme 'urban heat' (free text, 20 cities)", {"theme": "urban heat islands and heatwaves"}),
                      ("partners for a city, no theme (20 cities)", {})):
        times = []
        for c in cities:
            t0 = time.perf_counter()
            obs.recommend_partners(c, top=20, **kw)
            times.append(time.perf_counter() - t0)
        rows.append([label, f"{statistics.median(times) * 1000:.0f} ms", f"{max(times) * 1000:.0f} ms"])
    times = []
    for c in cities:
        t0 = time.perf_counter()
        obs.recommend_networks(c, top=10)
        times.append(time.perf_counter() - t0)
    rows.append(["networks for a city (20 cities)", f"{statistics.median(times) * 1000:.0f} ms",
                 f"{max(times) * 1000:.0f} ms"])
    for net in ("c40", "covenant-of-mayors-eu"):
        obs.recommend_members(net, top=50)
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            obs.recommend_members(net, top=50)
            times.append(time.perf_counter() - t0)
        rows.append([f"recruitment list of {net} (top 50, warm, 3 runs)", f"{statistics.median(times):.2f} s",
                     f"{max(times):.2f} s"])
    table("Speed on the default data (targets: a city and theme < 300 ms; a recruitment list < 2 s)",
          ["operation", "median", "max"], rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--home", help="a home whose store holds the default data (default: $CITYDIP_HOME)")
    ap.add_argument("--queries", type=int, default=400)
    ap.add_argument("--negatives", type=int, default=20)
    ap.add_argument("--cutoff", type=int, default=2019, help="memberships that began after this year are held out")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--no-speed", action="store_true")
    ap.add_argument("--splits", default="twinning,members,time", help="which splits to run (comma-separated)")
    args = ap.parse_args()
    obs = citydiplomacy.open(home=args.home)
    dg = obs.graph()
    cov, sc = profile_facts(obs.store)
    print(f"bench_recommend — {datetime.date.today().isoformat()}, {dg.g.vcount():,} actors, "
          f"{dg.g.ecount():,} ties in force; seed {args.seed}")
    base = TrainingGraph(dg, coverage=cov, axis_scores=sc)
    gains = {}

    splits = set(args.splits.split(","))
    rng = np.random.default_rng(args.seed)
    tw = base.twin_edges()
    held = rng.choice(tw, size=int(round(0.1 * len(tw))), replace=False)
    keep = np.ones(len(base.edges), dtype=bool)
    keep[held] = False
    if "twinning" in splits:
        tally, fit_s = eval_partners(TrainingGraph(dg, keep, coverage=cov, axis_scores=sc), held, args, rng)
        gains["twinning"] = report("1. Partners: twinning ties, random 10% held out", tally,
                               f"{len(held):,} held-out ties of {len(tw):,}; model fitted in {fit_s:.0f} s")

    rng = np.random.default_rng(args.seed + 1)
    me = base.member_edges()
    held = rng.choice(me, size=int(round(0.1 * len(me))), replace=False)
    keep = np.ones(len(base.edges), dtype=bool)
    keep[held] = False
    if "members" in splits:
        members, networks, fit_s = eval_members(TrainingGraph(dg, keep, coverage=cov, axis_scores=sc), held, args,
                                                rng)
        note = f"{len(held):,} held-out memberships of {len(me):,}; model fitted in {fit_s:.0f} s"
        gains["members-random"] = report("2a. Members for a network: memberships, random 10% held out", members,
                                         note)
        report("2b. Networks for a city: memberships, random 10% held out", networks, note)

    rng = np.random.default_rng(args.seed + 2)
    years = np.array([_year(s) or 0 for s in dg.g.es["since"]])
    after = years > args.cutoff
    held = np.intersect1d(me, np.flatnonzero(after))
    keep = ~after
    if "time" in splits:
        members, networks, fit_s = eval_members(TrainingGraph(dg, keep, coverage=cov, axis_scores=sc), held, args,
                                                rng)
        note = (f"{len(held):,} memberships that began after {args.cutoff} held out, with every tie dated after "
                f"it; model fitted in {fit_s:.0f} s")
        gains["members-time"] = report(f"3a. Members for a network: time split at {args.cutoff}", members, note)
        report(f"3b. Networks for a city: time split at {args.cutoff}", networks, note)

    rows = []
    for key, label in (("twinning", "1. twinning, random 10%"), ("members-time", "3a. memberships, time split")):
        if key not in gains:
            continue
        g = gains[key]
        ok = g["precision@10"] >= 0.2 and g["MRR"] >= 0.2
        rows.append([label, f"{g['precision@10']:+.0%}", f"{g['MRR']:+.0%}", "met" if ok else "NOT met"])
    table("Target: ours ≥ +20% over the best baseline in precision@10 and MRR",
          ["split", "precision@10", "MRR", "target"], rows)
    if not args.no_speed:
        speed(obs, args)


if __name__ == "__main__":
    main()
