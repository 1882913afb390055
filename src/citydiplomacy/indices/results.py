"""Reading a stored index build: a city's scores with their rank intervals, its peer
groups and the indicators that drive its strengths and weaknesses; rankings filtered by
region, bloc, country or population band; and exports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import case, func, select

from ..actors import resolve_actor
from ..errors import ValidationError
from ..store import Store
from ..store.schema import actors, index_scores, index_values, ties
from ..tiestate import in_force_clause
from .build import BANDS, data_coverage, population_band, region_of
from .stored import AXES_ALL, _i, _main_year

def index_run(store: Store, build: str | None = None) -> dict[str, Any]:
    """The published index build, or the build named ``build`` (its stable name or the
    name given to it): its run (id, dates, source, summary) and its name, options and
    data version (see :func:`.builds.find_build`)."""
    from .builds import find_build

    return find_build(store, build)


SCORE_COLUMNS = ["id", "year", "axis", "score", "rank", "rank_median", "rank_lo", "rank_hi", "reason", "name",
                 "country", "population"]
_YEAR_ALL = object()


def _frame(conn, stmt, columns: list[str]) -> pd.DataFrame:
    """A query's rows as a DataFrame (plain tuples: pandas inspects Row objects slowly)."""
    return pd.DataFrame.from_records([tuple(r) for r in conn.execute(stmt).fetchall()], columns=columns)


def _scores(store: Store, run_id: int, *, year: Any = _YEAR_ALL, axis: str | None = None,
            scored_only: bool = False, actor_id: str | None = None) -> pd.DataFrame:
    """The stored scores of a run with the actors' name, country and population, filtered
    in SQL (``year`` None: the snapshot)."""
    stmt = (select(index_scores.c.actor_id, index_scores.c.year, index_scores.c.axis, index_scores.c.score,
                   index_scores.c.rank, index_scores.c.rank_median, index_scores.c.rank_lo,
                   index_scores.c.rank_hi, index_scores.c.reason, actors.c.name, actors.c.country,
                   actors.c.population)
            .join(actors, actors.c.id == index_scores.c.actor_id)
            .where(index_scores.c.run_id == run_id))
    if year is not _YEAR_ALL:
        stmt = stmt.where(index_scores.c.year.is_(None) if year is None else index_scores.c.year == year)
    if axis is not None:
        stmt = stmt.where(index_scores.c.axis == axis)
    if scored_only:
        stmt = stmt.where(index_scores.c.score.is_not(None))
    if actor_id is not None:
        stmt = stmt.where(index_scores.c.actor_id == actor_id)
    with store.connect() as conn:
        return _frame(conn, stmt, SCORE_COLUMNS)


def coverage(store: Store, run: dict[str, Any], year: int | None, ids: list[str] | None = None) -> pd.DataFrame:
    """Per city (index) and axis plus ``overall`` (columns): its data coverage, the share
    of the build's kept indicators of the axis that the store holds its record for
    (a raw value stored), context indicators aside; the overall's is the axes' shares
    weighted as the axes are (:func:`citydiplomacy.indices.build.data_coverage`, as the
    build computed it). ``ids``: only these cities."""
    summary = run["summary"]
    meta = summary.get("indicator_meta", {})
    kept = [c for c in summary.get("indicators", []) if not meta.get(c, {}).get("context")]
    where = [index_values.c.run_id == run["run_id"], index_values.c.indicator.in_(kept),
             index_values.c.year.is_(None) if year is None else index_values.c.year == year]
    if ids is not None and len(ids) <= 900:
        where.append(index_values.c.actor_id.in_(list(ids)))
    with store.connect() as conn:
        v = _frame(conn, select(index_values.c.actor_id, index_values.c.indicator, index_values.c.raw.is_not(None))
                   .where(*where), ["id", "indicator", "known"])
    if ids is not None:
        v = v[v["id"].isin(ids)]
    known = (v.pivot(index="id", columns="indicator", values="known").reindex(columns=kept).astype(float)
             .fillna(0.0).astype(bool))
    rule = summary.get("low_data") or {}
    share, _ = data_coverage(known, {c: meta.get(c, {}).get("axis") for c in kept},
                             float(rule.get("min_coverage", 0.0)), exclude=rule.get("overall") == "exclude",
                             axis_weights=summary.get("axis_weights"), overall=rule.get("overall_coverage", "weighted"))
    return share


def low_data_rule(summary: dict[str, Any]) -> dict[str, Any]:
    """The build's low-data rule: ``min_coverage`` and ``rank`` (withhold or mark)."""
    rule = summary.get("low_data") or {}
    return {"min_coverage": float(rule.get("min_coverage", 0.0)), "rank": rule.get("rank", "mark")}


def _flag(share: Any, rule: dict[str, Any]) -> dict[str, Any]:
    share = None if share is None or pd.isna(share) else round(float(share), 3)
    return {"coverage": share, "low_data": share is not None and share < rule["min_coverage"] - 1e-9}


def _blocs_of(store: Store, country_codes: set[str]) -> dict[str, list[str]]:
    """country -> the blocs (ids) its state is a member of."""
    with store.connect() as conn:
        states = {r.id: r.country for r in conn.execute(
            select(actors.c.id, actors.c.country).where(actors.c.kind == "state",
                                                        actors.c.country.in_(country_codes)))}
        out: dict[str, list[str]] = {}
        rows = conn.execute(select(ties.c.source, ties.c.target).join(actors, actors.c.id == ties.c.target)
                            .where(ties.c.source.in_(states), ties.c.type == "member_of",
                                   in_force_clause(ties.c.status),
                                   actors.c.kind.in_(("geopolitical_bloc", "regional_organization"))))
        for r in rows:
            out.setdefault(states[r.source], []).append(r.target)
    return {k: sorted(v) for k, v in out.items()}


def show(store: Store, ref: str, *, drivers: int = 3, build: str | None = None) -> dict[str, Any]:
    """A city's index results in the published build (or the build named ``build``): each
    axis's and the overall score, rank and rank interval (5th–95th percentile of the Monte
    Carlo ranks), its rank in each peer group, the indicators behind its strengths and
    weaknesses, the yearly series of a panel build — or the reason it is not scored."""
    actor = resolve_actor(store, ref)
    run = index_run(store, build)
    summary = run["summary"]
    year = _main_year(summary)
    mine = _scores(store, run["run_id"], actor_id=actor["id"])
    base = {"id": actor["id"], "name": actor["name"], "country": actor.get("country"), "run": run["run_id"],
            "built_at": run["built_at"], "year": year, "framework": summary.get("framework"),
            "replications": summary.get("replications", 0), "build": run["name"], "build_label": run["label"],
            "published": run["published"]}
    now = mine[mine["year"].isna()] if year is None else mine[mine["year"] == year]
    if now.empty:
        return base | {"scored": False, "reason": f"{actor['name']} is not a unit of this index (only cities "
                                                   "are scored)"}
    overall = now[now["axis"] == "overall"].iloc[0]
    if pd.isna(overall["score"]):
        return base | {"scored": False, "reason": overall["reason"]}
    current = _scores(store, run["run_id"], year=year, scored_only=True)
    wide = current.pivot_table(index="id", columns="axis", values="score", dropna=False)
    ranks_now = current.pivot_table(index="id", columns="axis", values="rank", dropna=False)
    n_ranked = {a: int(ranks_now[a].notna().sum()) for a in ranks_now.columns}
    rule = low_data_rule(summary)
    cov = coverage(store, run, year, [actor["id"]])
    axes = {}
    for _, r in now.iterrows():
        share = cov.at[actor["id"], r["axis"]] if (actor["id"] in cov.index and r["axis"] in cov.columns) else None
        axes[r["axis"]] = {"score": round(r["score"], 2) if pd.notna(r["score"]) else None,
                           "rank": _i(r["rank"]), "rank_lo": _i(r["rank_lo"]), "rank_hi": _i(r["rank_hi"]),
                           "rank_median": _i(r["rank_median"]), "of": n_ranked.get(r["axis"], 0),
                           **_flag(share, rule), "note": r["reason"] if pd.notna(r["reason"]) else None}
    # peer groups: same population band, same region, same bloc(s)
    info = current[current["axis"] == "overall"].drop_duplicates("id").set_index("id")
    info = info[info["score"].notna()]
    band = population_band(actor.get("population"))
    region = region_of(actor.get("country"))
    peers = []
    bands = info["population"].map(population_band)
    regions = info["country"].map(region_of)
    groups = [("population", band, bands == band)] if band else []
    if region:
        groups.append(("region", region, regions == region))
    if actor.get("country"):
        blocs = _blocs_of(store, set(info["country"].dropna()))
        for b in blocs.get(actor["country"], []):
            groups.append(("bloc", b, info["country"].isin([c for c, bs in blocs.items() if b in bs])))
    # peers are compared among the cities ranked on the axis (a withheld rank is no peer's)
    table = wide.reindex(info.index).where(ranks_now.reindex(index=info.index, columns=wide.columns).notna())
    columns = {a: table[a].to_numpy(dtype=float) for a in AXES_ALL if a in table.columns}
    me = {a: float(table.at[actor["id"], a]) for a in columns}
    for kind, label, sel in groups:
        mask = sel.to_numpy(dtype=bool)
        size = int(mask.sum())
        if size < 2:
            continue
        entry = {"group": kind, "name": label, "size": size}
        for a, col in columns.items():
            if axes.get(a, {}).get("rank") is None or np.isnan(me[a]):
                entry[a] = {"rank": None, "of": None, "median": None}  # withheld: low data
                continue
            values = col[mask]
            values = values[~np.isnan(values)]
            entry[a] = {"rank": int((values > me[a]).sum()) + 1, "of": int(values.size),
                        "median": round(float(np.median(values)), 2) if values.size else None}
        peers.append(entry)
    out = base | {"scored": True, "axes": axes, "peers": peers, "low_data_rule": rule,
                  "drivers": _drivers(store, run, actor["id"], year, drivers)}
    if summary.get("years"):
        series = mine[mine["year"].notna() & mine["score"].notna()]
        out["series"] = {a: {int(y): round(s, 2) for y, s in zip(g["year"], g["score"])}
                         for a, g in series.groupby("axis")}
    return out


def _drivers(store: Store, run: dict[str, Any], unit: str, year: int | None, k: int) -> dict[str, Any]:
    """The city's strengths and weaknesses: its indicators where it stands highest and
    lowest among the scored cities (as COINr's strengths and weaknesses, by rank). For
    each indicator: the raw and normalised value, the median city's, the city's position
    (1 + the number of cities doing strictly better) and the share of cities at or
    above its value ("top 3%"; ties count, so a value most cities share is no strength)."""
    summary = run["summary"]
    meta = summary.get("indicator_meta", {})
    where = [index_values.c.run_id == run["run_id"],
             index_values.c.year.is_(None) if year is None else index_values.c.year == year]
    medians = summary.get("medians", {}).get("" if year is None else str(year), {})
    with store.connect() as conn:
        mine = _frame(conn, select(index_values.c.indicator, index_values.c.raw, index_values.c.value,
                                   index_values.c.imputed).where(*where, index_values.c.actor_id == unit),
                      ["indicator", "raw", "value", "imputed"]).set_index("indicator")
        if mine.empty:
            return {"strengths": [], "weaknesses": [], "indicators": []}
        # per indicator, in one scan: the cities above the city's value, at or above it,
        # and all with a value (the city's values enter as a CASE on the indicator)
        values = {code: float(v) for code, v in mine["value"].items() if pd.notna(v)}
        counts = {}
        if values:
            v, mine_v = index_values.c.value, case(values, value=index_values.c.indicator)
            counts = {r.indicator: r for r in conn.execute(
                select(index_values.c.indicator, func.sum(case((v > mine_v, 1), else_=0)).label("above"),
                       func.sum(case((v >= mine_v, 1), else_=0)).label("at_or_above"), func.count(v).label("n"))
                .where(*where, index_values.c.indicator.in_(list(values))).group_by(index_values.c.indicator))}
    rows = []
    for code, r in mine.iterrows():
        m = meta.get(code, {})
        c = counts.get(code)
        known = pd.notna(r["value"]) and c is not None and c.n
        rows.append({"indicator": code, "name": m.get("name", code), "axis": m.get("axis"), "unit": m.get("unit"),
                     "raw": _round(r["raw"]), "value": _round(r["value"]), "median": _round(medians.get(code)),
                     "imputed": bool(r["imputed"]), "known": pd.notna(r["raw"]),
                     "context": bool(m.get("context")), "position": int(c.above) + 1 if known else None,
                     "of": int(c.n) if c is not None else 0,
                     "top_share": _round(c.at_or_above / c.n, 4) if known else None})
    # strengths and weaknesses only among the indicators the store holds the city's record
    # for (not imputed, not estimated) and that are about the city (not context)
    ranked = sorted((r for r in rows if r["top_share"] is not None and r["known"] and not r["context"]),
                    key=lambda r: (r["top_share"], r["indicator"]))
    strengths = ranked[:k]
    weaknesses = [r for r in reversed(ranked) if r not in strengths][:k]
    return {"strengths": strengths, "weaknesses": weaknesses, "indicators": rows}


def _round(v: Any, nd: int = 3) -> float | None:
    return None if v is None or pd.isna(v) else round(float(v), nd)


def ranking(store: Store, *, axis: str = "overall", region: str | None = None, bloc: str | None = None,
            country: str | None = None, band: str | None = None, top: int = 20,
            year: int | None = None, low_data: bool = False, build: str | None = None) -> dict[str, Any]:
    """The ranking on ``axis`` (best first) in the published build (or the build named
    ``build``), optionally within a region (continent), a bloc's member states, a country
    or a population band. Each row has the global rank (among ``of`` cities), its position
    in the selection (of ``count``), the Monte Carlo rank interval, the city's data
    ``coverage`` on the axis and its ``low_data`` mark. Cities whose rank the low-data rule
    withholds are left out (``withheld`` counts them) unless ``low_data`` is true: then
    they follow the ranked ones, by score, without a rank."""
    if axis not in AXES_ALL:
        raise ValidationError(f"axis '{axis}' is not one of {', '.join(AXES_ALL)}", field="axis")
    if top < 1:
        raise ValidationError("top must be 1 or more", field="top")
    run = index_run(store, build)
    summary = run["summary"]
    if year is None:
        year = _main_year(summary)
    elif year not in (summary.get("years") or []):
        raise ValidationError(f"the build {run['label'] or run['name']} has no year {year} (years: "
                              f"{', '.join(map(str, summary.get('years') or [])) or 'none, a snapshot'})",
                              field="year")
    df = _scores(store, run["run_id"], year=year, axis=axis, scored_only=True)
    rule = low_data_rule(summary)
    withheld_all = df["rank"].isna()
    ranked = int((~withheld_all).sum())
    what = []
    if region:
        known = sorted({r for r in df["country"].map(region_of).dropna()})
        match = [r for r in known if r.lower() == region.lower()]
        if not match:
            raise ValidationError(f"region '{region}' is not one of {', '.join(known)}", field="region")
        df = df[df["country"].map(region_of) == match[0]]
        what.append(match[0])
    if country:
        from ..countries import lookup_name

        c = lookup_name(country)
        if c is None:
            raise ValidationError(f"'{country}' is not a country name or ISO code", field="country")
        df = df[df["country"] == c.alpha3]
        what.append(c.name)
    if bloc:
        from ..actors import bloc_countries

        with store.connect() as conn:
            df = df[df["country"].isin(bloc_countries(conn, bloc))]
        what.append(bloc)
    if band:
        labels = [b for _, b in BANDS]
        if band not in labels:
            raise ValidationError(f"band '{band}' is not one of {', '.join(labels)}", field="band")
        df = df[df["population"].map(population_band) == band]
        what.append(band)
    withheld = int(df["rank"].isna().sum())
    if not low_data:
        df = df[df["rank"].notna()]
    df = df.assign(_w=df["rank"].isna()).sort_values(["_w", "score", "name"], ascending=[True, False, True])
    head = df.head(top)
    cov = coverage(store, run, year, list(head["id"]))
    rows = []
    for k, r in enumerate(head.itertuples(index=False), 1):
        share = cov.at[r.id, axis] if (r.id in cov.index and axis in cov.columns) else None
        rows.append({"position": k, "id": r.id, "name": r.name, "country": r.country,
                     "score": round(r.score, 2), "rank": _i(r.rank), "rank_lo": _i(r.rank_lo),
                     "rank_hi": _i(r.rank_hi), **_flag(share, rule)})
    return {"axis": axis, "year": year, "selection": ", ".join(what) or "all scored cities",
            "count": int(len(df)), "of": ranked, "withheld": withheld, "low_data_rule": rule,
            "rows": rows, "run": run["run_id"], "built_at": run["built_at"],
            "build": run["name"], "build_label": run["label"], "published": run["published"]}


def export_results(store: Store, out: str | Path, *, fmt: str = "csv", build: str | None = None) -> dict[str, Any]:
    """Write the published build (or the build named ``build``): ``index_scores`` (one row per city and year: each axis's score, rank and rank
    interval, or the reason it is not scored), ``index_values`` (the indicator values,
    raw and normalised, imputed or not) and ``index_run.json`` (the framework, the choices,
    the counts: the provenance of the figures) into the directory ``out``."""
    if fmt not in ("csv", "json", "parquet"):
        raise ValidationError(f"format '{fmt}' is not csv, json or parquet", field="format")
    run = index_run(store, build)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValidationError("exists and is not a directory; give a directory with --out", file=str(out))
    out.mkdir(parents=True, exist_ok=True)
    df = _scores(store, run["run_id"])
    wide = df.pivot_table(index=["id", "year"], columns="axis", values=["score", "rank", "rank_lo", "rank_hi"],
                          dropna=False) if not df.empty else pd.DataFrame()
    wide.columns = [f"{a}_{m}" for m, a in wide.columns]
    info = (df.sort_values("axis", key=lambda a: a != "overall").drop_duplicates(["id", "year"])
            .set_index(["id", "year"])[["name", "country", "reason"]])
    scores = info.join(wide).reset_index()
    # each axis's data coverage and low-data mark (the rule is in index_run.json)
    rule = low_data_rule(run["summary"])
    for y in scores["year"].drop_duplicates().tolist():
        cov = coverage(store, run, None if pd.isna(y) else int(y))
        sel = scores["year"].isna() if pd.isna(y) else scores["year"] == y
        for a in AXES_ALL:
            if a in cov.columns:
                share = scores.loc[sel, "id"].map(cov[a])
                scores.loc[sel, f"{a}_coverage"] = share.round(3)
                scores.loc[sel, f"{a}_low_data"] = (share < rule["min_coverage"] - 1e-9) & share.notna()
    order = ["id", "name", "country", "year"] + [f"{a}_{m}" for a in AXES_ALL
                                                 for m in ("score", "rank", "rank_lo", "rank_hi", "coverage",
                                                           "low_data")
                                                 if f"{a}_{m}" in scores.columns] + ["reason"]
    scores = scores[order].sort_values(["year", "overall_rank", "id"], na_position="last")
    with store.connect() as conn:
        values = _frame(conn, select(index_values.c.actor_id, index_values.c.year, index_values.c.indicator,
                                     index_values.c.raw, index_values.c.value, index_values.c.imputed)
                        .where(index_values.c.run_id == run["run_id"]),
                        ["id", "year", "indicator", "raw", "normalised", "imputed"])
    written = {}
    for name, frame in (("index_scores", scores), ("index_values", values)):
        path = out / f"{name}.{fmt}"
        if fmt == "csv":
            frame.to_csv(path, index=False)
        elif fmt == "json":
            frame.to_json(path, orient="records", indent=1, force_ascii=False)
        else:
            try:
                frame.to_parquet(path, index=False)
            except ImportError:
                raise ValidationError("Parquet export needs pyarrow: pip install 'citydiplomacy[tables]'",
                                      field="format") from None
        written[path.name] = int(len(frame))
    meta = {"run": run["run_id"], "built_at": run["built_at"], "framework": run["source"],
            "software_version": run["software_version"]} | run["summary"] | {
        "build": run["name"], "build_label": run["label"], "published": run["published"],
        "framework_hash": run["framework_hash"], "data_version": run["data_version"]}
    (out / "index_run.json").write_text(json.dumps(meta, indent=1, ensure_ascii=False, default=str),
                                        encoding="utf-8")
    written["index_run.json"] = 1
    return written
