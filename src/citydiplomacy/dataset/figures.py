"""Figures of a build that the documentation quotes, as markdown blocks generated from the
store, so that they cannot drift from the data.

A block sits in a page between ``<!-- figures:NAME -->`` and ``<!-- /figures:NAME -->``;
:func:`write_blocks` replaces what is between the markers with :data:`BLOCKS`' markdown
(``python scripts/doc_figures.py`` runs it on a build), and ``tests/test_doc_figures.py``
checks that every block in ``docs/`` and the README is the current build's.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from sqlalchemy import func, select, true

from ..store import schema

if TYPE_CHECKING:  # pragma: no cover
    from ..observatory import Observatory

__all__ = ["BLOCKS", "attr_figures", "block", "memberships_table", "engagements_table", "build_counts", "find_blocks",
           "write_blocks"]

_MARK = re.compile(r"<!-- figures:([a-z0-9-]+) -->\n(.*?)<!-- /figures:\1 -->", re.S)


def _summary(obs: "Observatory") -> dict[str, Any]:
    with obs.store.connect() as conn:
        return conn.execute(select(schema.import_runs.c.summary)
                            .where(schema.import_runs.c.kind == "default-dataset")
                            .order_by(schema.import_runs.c.id)).scalar() or {}


def _n(value: int | None) -> str:
    return "–" if value is None else f"{value:,}"


def _sources(rows: list[dict[str, Any]]) -> str:
    """What a member list's rows come from: how many sources, and the one most rows cite."""
    names = Counter(r.get("source_name") or "" for r in rows)
    (top, count), kinds = names.most_common(1)[0], len(names)
    where = f"{kinds} sources; the most rows ({count:,}) from" if kinds > 1 else "from"
    return f"{where} {top}".replace("|", "/")


def memberships_table(obs: "Observatory") -> str:
    """Per city network with a member list or a published count: rows of its list, rows
    resolved, members held (current and former, with the curated ones), the network's own
    count, the coverage, and what the rows come from."""
    from .memberships import read_lists

    report = _summary(obs).get("report", {}).get("memberships", {})
    lists = {nl.network: nl for nl in read_lists()}
    cover = {r["id"]: r for r in obs.coverage()}
    ids = sorted(set(report) | {i for i, r in cover.items() if r["published"]})
    lines = ["| network | rows | resolved | held | published | coverage % | sources of the rows |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for net in ids:
        fig = cover.get(net) or obs.coverage(net)
        rep = report.get(net, {"rows": 0, "resolved": 0})
        nl = lists.get(net)
        if nl is not None and nl.rows:
            what = _sources(nl.rows)
        elif fig["held"]:
            what = "the members curated in `curated/city_networks.yaml`"
        else:
            what = "count only"
        pct = "–" if fig["coverage"] is None else f"{round(100 * fig['coverage'])}"
        lines.append(f"| `{net}` | {rep['rows']:,} | {rep['resolved']:,} | {fig['held']:,} | "
                     f"{_n(fig['published'] or None)} | {pct} | {what} |")
    return "\n".join(lines) + "\n"


def _attr(key: str):
    """The text value of ``actors.attrs[key]`` (NULL when absent), in the store's SQL
    (SQLite ``json_extract``, PostgreSQL ``->>``)."""
    return schema.actors.c.attrs[key].as_string()


def _attr_counts(conn, key: str, *where) -> Counter:
    value = _attr(key)
    return Counter(dict(conn.execute(select(value, func.count()).where(*where).group_by(value)).all()))


def attr_figures(conn) -> dict[str, Any]:
    """What the build's figures count in the actors' ``attrs``: regions by the list of
    subdivisions they come from (``lists``), Covenant roles by kind (``roles``: "role
    kind" → count), Covenant groups (``groups``) and bodies (``bodies``) among regions."""
    a = schema.actors
    role = _attr("covenant_role")
    return {
        "lists": _attr_counts(conn, "subdivision_list", a.c.kind == "region"),
        "roles": Counter({f"{r} {k}": n for r, k, n in conn.execute(
            select(role, a.c.kind, func.count()).where(role.is_not(None)).group_by(role, a.c.kind))}),
        "groups": conn.execute(select(func.count()).where(
            a.c.kind == "region", a.c.attrs["covenant_group"].as_boolean() == true())).scalar(),
        "bodies": conn.execute(select(func.count()).where(
            a.c.kind == "region", _attr("covenant_body").is_not(None))).scalar(),
    }


def build_counts(obs: "Observatory") -> str:
    """The build's actors by kind (with where they come from) and its ties by type, read
    from the store and the build's summary."""
    a, t = schema.actors, schema.ties
    counts = _summary(obs).get("counts", {})
    with obs.store.connect() as conn:
        kinds = Counter(dict(conn.execute(select(a.c.kind, func.count()).group_by(a.c.kind)).all()))
        by_layer = Counter({f"{k} {layer}": n for k, layer, n in conn.execute(
            select(a.c.kind, a.c.layer, func.count()).group_by(a.c.kind, a.c.layer))})
        types = conn.execute(select(t.c.type, func.count()).group_by(t.c.type)
                             .order_by(func.count().desc(), t.c.type)).all()
        aliases = conn.execute(select(func.count()).select_from(schema.aliases)).scalar()
        attrs = attr_figures(conn)
        lists, roles, groups, bodies = attrs["lists"], attrs["roles"], attrs["groups"], attrs["bodies"]
        status = Counter(dict(conn.execute(select(t.c.status, func.count()).group_by(t.c.status)).all()))
        parties = conn.execute(select(func.count()).where(t.c.type == "party_to", t.c.status == "active")).scalar()
        primary = Counter((axes or "").split(",")[0] for (axes,) in
                          conn.execute(select(a.c.axes).where(a.c.kind == "city_network")))
    micro = {k: counts.get(f"micro_actors.{k}", 0) for k in ("civil_society", "private_actor", "academia")}
    covenant_bodies = {k: roles[f"coordinator {k}"] + roles[f"supporter {k}"] for k in ("civil_society", "private_actor")}
    cov_regions = roles["coordinator region"] + roles["supporter region"]
    new_cov = kinds["city"] - sum(counts.get(k, 0) for k in ("cities", "towns", "supplement_places", "districts"))
    sub = " · ".join(f"{lists[k]:,} {label}" for k, label in (
        ("iso3166-2", "ISO 3166-2 subdivisions"), ("geonames_admin2", "GeoNames second-level divisions"),
        ("destatis_kreise", "German Kreise (Destatis, with population)"), ("ons_districts", "English districts (ONS)"),
        ("us_counties", "US counties"), ("current_regions", "current regions (curated)")) if lists[k])
    rows = [
        ("states (meso)", f"{kinds['state']:,}: the 193 UN members, 2 observers (Holy See, Palestine), Kosovo, "
         "Taiwan, Cook Islands, Niue and the Sahrawi Arab Democratic Republic (`curated/states.yaml`)"),
        ("territories (meso)", f"{counts.get('territories', 0):,}: every other ISO 3166-1 entry (Åland, Faroe "
         "Islands, Greenland, Hong Kong, Macao, French Polynesia, Réunion, Puerto Rico, Western Sahara, "
         "Antarctica, ...), kind `region`, `located_in` their sovereign state"),
        ("international organisations (macro)", f"{kinds['international_organization']:,} (UN system bodies and "
         "specialised agencies, development banks, OECD, WTO, OPEC, INTERPOL, IAEA, WMO, WIPO, IRENA, Green "
         "Climate Fund, ...)"),
        ("geopolitical blocs (macro)", f"{kinds['geopolitical_bloc']:,} (EU, African Union, ASEAN, Mercosur, G7, "
         "G20, BRICS, Commonwealth, NATO, Eurasian Economic Union, IGAD, ECCAS, ...)"),
        ("regional organisations (meso)", f"{kinds['regional_organization']:,} (Nordic Council, CBSS, Visegrád "
         "Group, Benelux, Arctic Council, EFTA, CIS, SICA, Pacific Alliance, Alliance of Sahel States, ...)"),
        ("city networks (micro)", f"{kinds['city_network']:,} ("
         + ", ".join(f"{primary[ax]:,} {ax}" for ax in ("sustainability", "digital", "engagement"))
         + " by primary axis): `curated/city_networks.yaml` and the networks the member lists add"),
        ("private actors, civil society, academia (micro)", f"{sum(micro.values()):,}: "
         f"{micro['civil_society']:,} civil society (national associations of local and regional governments "
         "that are CEMR members, philanthropies, NGOs, think tanks), "
         f"{micro['private_actor']:,} companies, {micro['academia']:,} academic centres "
         "(`curated/micro_actors.yaml`); besides them the Covenant of Mayors' coordinators and supporters "
         f"that are associations ({covenant_bodies['civil_society']:,}) or companies "
         f"({covenant_bodies['private_actor']:,}): {kinds['civil_society']:,} civil society and "
         f"{kinds['private_actor']:,} companies in all"),
        ("cities (micro)", f"{kinds['city']:,}: {counts.get('cities', 0):,} of 15,000+ inhabitants, "
         f"{counts.get('towns', 0):,} smaller places a twinning or membership tie names, "
         f"{counts.get('supplement_places', 0):,} municipalities only the supplementary gazetteers list "
         "(`attrs.supplement_id`), "
         f"{counts.get('districts', 0):,} districts of cities the twinning list names "
         f"(`attrs.district_of`; located at their city) and {new_cov:,} Covenant signatories no gazetteer "
         "holds (from the JRC's row)"),
        ("subnational regions (micro)", f"{by_layer['region micro']:,}: {counts.get('regions', 0):,} that the "
         f"twinning and member lists name ({sub}), {groups:,} Covenant groups, {bodies:,} bodies of "
         f"municipalities that signed the Covenant themselves, {cov_regions:,} Covenant coordinators and "
         "supporters that are regional or local bodies"),
        ("aliases", f"{aliases:,} names in any script"),
        ("ties", " · ".join(f"`{k}` {n:,}" for k, n in types)),
        ("ties not in force", f"{sum(n for k, n in status.items() if k != 'active'):,}: "
         + ", ".join(f"{n:,} {k}" for k, n in status.most_common() if k != "active")
         + f" (the {counts.get('tie_changes', 0):,} curated changes below, the Covenant's signatories on hold, "
         "memberships the organisations file marks ended, dormant or proposed)"),
        ("SDG framework", f"{counts.get('framework.sdg.goal', 0)} goals, {counts.get('framework.sdg.target', 0)} "
         f"targets, {counts.get('framework.sdg.indicator', 0)} indicators, titles in en, fr, es, de, ru, ar, zh-Hans"),
        ("Paris Agreement", f"{counts.get('framework.paris.article', 0)} articles (titles in en, fr, es, de); "
         f"{parties:,} parties in force (`party_to`: the states and the EU); the United States' two spells as a "
         "party end on 4 November 2020 and 27 January 2026 (ended `party_to`); the United States, Iran, Libya "
         "and Yemen are signatories that are not parties (`signatory_of`)"),
    ]
    lines = ["| | count |", "| --- | --- |", *(f"| {label} | {text} |" for label, text in rows)]
    return "\n".join(lines) + "\n"


#: how the twinning report's rules and reasons read in the docs
_RULE_WORDS = {"admin_seat": "regional capital", "fuzzy_unsure": "fuzzy not clear",
               "qualifier_disagrees": "qualifier contradicts the match", "composite_name": "two-part name",
               "ambiguous_subdivision": "several subdivisions", "qualifier_unknown": "qualifier names nothing checkable",
               "qualifier_unsettled": "qualifier's county not settled",
               "same_pair_unsettled": "same pair, qualified mention unsettled", "division": "state or province",
               "supplement_confirms": "supplement confirms a fuzzy match"}


def _by(counts: dict[str, int]) -> str:
    return " · ".join(f"{_RULE_WORDS.get(k, k.replace('_', ' '))} {n:,}"
                      for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def twinning_resolution(obs: "Observatory") -> str:
    """How the build resolved the twinning list: rows, names, rules, reasons."""
    tw = _summary(obs).get("report", {}).get("twinning", {})
    rows = tw.get("rows", 0) or 1
    both, without = tw.get("rows_resolved_both_sides", 0), tw.get("rows_resolved_both_sides_without_new_districts", 0)
    names = tw.get("distinct_names", 0) or 1
    lines = ["| | |", "| --- | --- |",
             f"| rows | {tw.get('rows', 0):,} |",
             f"| distinct (name, country) pairs | {tw.get('distinct_names', 0):,} |",
             f"| pairs resolved | {tw.get('names_resolved', 0):,} ({tw.get('names_resolved', 0) / names:.1%}); "
             f"ambiguous {tw.get('names_ambiguous', 0):,}; the rest unresolved |",
             f"| rows resolved on both sides | **{both:,} ({both / rows:.1%})**; without the new districts "
             f"{without:,} ({without / rows:.1%}) |",
             f"| ties loaded (a pair listed on both cities' pages loads once) | {tw.get('ties_loaded', 0):,} |",
             f"| places added | {tw.get('regions_loaded', 0):,} regions (subdivisions), "
             f"{tw.get('supplement_places_loaded', 0):,} supplementary places, "
             f"{tw.get('districts_created', 0):,} new districts of cities |",
             f"| name sides matched by rule | {_by(tw.get('matched_by_rule', {}))} |",
             f"| name sides not resolved | {_by(tw.get('unresolved_by_reason', {}))} |"]
    return "\n".join(lines) + "\n"


def projection_example(obs: "Observatory") -> str:
    """The worked example of docs/network-exports.md: the city–network projection of the
    build, its top ten cities by GNC and its Leiden communities."""
    from ..network import build_graph
    from ..network.projection import communities, membership_projection

    dg = build_graph(obs.store, tie_types=["member_of"])
    proj, table = membership_projection(dg)
    g, left = proj.g, proj.filters.get("left_out", {})
    names = dict(zip(dg.ids, dg.g.vs["label"]))
    memberships = sum(1 for e in dg.g.es.select(type_eq="member_of")
                      if dg.g.vs[e.source]["kind"] == "city" and dg.g.vs[e.target]["kind"] == "city_network")
    isolated = [v["label"] for v in g.vs if v.degree() == 0]
    out = [f"`build_graph(obs.store, tie_types=[\"member_of\"])` holds {memberships:,} city → city-network "
           "memberships. "
           + ("Left out of the projection by `max_members`: "
              + ", ".join(f"{names.get(j, j)} ({n:,} member cities)" for j, n in sorted(left.items(), key=lambda kv: -kv[1]))
              + ": a network that large would link every pair of its members and say only that both joined it. "
              if left else "")
           + f"The projection has {g.vcount():,} cities and {g.ecount():,} co-membership links "
           f"(density {g.density():.3f}); "
           + (f"{len(isolated):,} {'city shares' if len(isolated) == 1 else 'cities share'} no network with "
              "another city." if isolated else "every city shares a network with another."),
           "", "| city | country | networks | partners | GNC | relative GNC |", "| --- | --- | --- | --- | --- | --- |"]
    out += [f"| {r['label']} | {r['country']} | {r['network_count']} | {r['partners']} | {r['gnc']:.0f} | "
            f"{r['gnc_relative']:.3f} |" for r in table[:10]]
    weighted, plain = communities(proj), communities(proj, weights=None)
    out += ["", f"Leiden on the weighted projection (γ = 1, seed 0) finds {len(weighted.groups)} communities with "
            f"Q = {weighted.modularity:.3f}; on the unweighted projection {len(plain.groups)} with "
            f"Q = {plain.modularity:.3f}. The five largest weighted communities:", "",
            "| size | top members by degree | main countries |", "| --- | --- | --- |"]
    for grp in weighted.groups[:5]:
        top = ", ".join(t["label"] for t in grp["top"])
        countries = ", ".join(f"{c} {n}" for c, n in grp["countries"][:3])
        out.append(f"| {grp['size']} | {top} | {countries} |")
    return "\n".join(out) + "\n"


def _count(published: int | None, complete: bool | None) -> str:
    if published is None:
        return "whole list" if complete else "–"
    return f"{published:,}" + (" (complete)" if complete else "")


def engagements_table(obs: "Observatory") -> str:
    """Per shipped engagement (declaration, pledge, event): its kind and first date, rows of
    its party list, rows resolved, parties in the store (cities among them), the published
    count, and the source and licence of its list."""
    from .engagements import party_counts, read_engagements

    report = _summary(obs).get("report", {}).get("engagements", {})
    files = {ef.key: ef for ef in read_engagements()}
    e, p, a = schema.engagements, schema.engagement_parties, schema.actors
    with obs.store.connect() as conn:
        held = dict(conn.execute(select(e.c.key, func.count()).select_from(e.join(p, p.c.engagement_id == e.c.id))
                                 .group_by(e.c.key)).all())
        cities = dict(conn.execute(select(e.c.key, func.count()).select_from(
            e.join(p, p.c.engagement_id == e.c.id).join(a, a.c.id == p.c.actor_id))
            .where(a.c.kind == "city").group_by(e.c.key)).all())
        totals = party_counts(conn)
    lines = ["| engagement | kind | date | rows | resolved | parties | cities | published | source of the list "
             "(licence) |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    order = sorted(files, key=lambda k: (files[k].meta["kind"] == "event", k))
    for key in order:
        ef, rep = files[key], report.get(key, {"rows": 0, "resolved": 0})
        m = ef.meta
        if m.get("parties_from"):
            what = f"{m['source']['name']} ({m['source']['licence']})"
        else:
            what = _sources(ef.rows) + f" ({', '.join(sorted({r['licence'] for r in ef.rows}))})"
        date = m.get("signed_on") or m.get("start_on")
        pub = m.get("published_parties")
        lines.append(f"| `{key}` | {m['kind']} | {date} | {rep['rows']:,} | {rep['resolved']:,} | "
                     f"{held.get(key, 0):,} | {cities.get(key, 0):,} | "
                     f"{_count(pub, m.get('complete'))} | {what.replace('|', '/')} |")
    kinds = {k.split(".", 1)[1]: v for k, v in totals.items() if k.startswith("kind.")}
    lines.append("")
    lines.append(f"In all: {', '.join(f'{v:,} {k}s' for k, v in sorted(kinds.items()))}; "
                 f"{totals['city_links']:,} city–engagement links.")
    return "\n".join(lines) + "\n"


_NOT_TIED = {"related_name_at_point": "a place of a related name at its point, which may be it",
             "no_match": "no place of the name and coordinates too poor to make one",
             "name_is_mayor": "the row names its mayor, not a place", "fuzzy_unsure": "no clear fuzzy match",
             "qualifier_disagrees": "a qualifier contradicting the match"}


def covenant_table(obs: "Observatory") -> str:
    """docs/data.md's table of how the build read the Covenant of Mayors' signatories
    (``report.covenant`` of the build's summary, and its ties)."""
    from . import covenant

    rep = _summary(obs).get("report", {}).get("covenant", {})
    t, p = schema.ties, schema.provenance
    with obs.store.connect() as conn:
        ties = dict(conn.execute(select(t.c.type, func.count()).join(p, p.c.id == t.c.provenance_id)
                                 .where(p.c.source == covenant.PROVENANCE.source,
                                        t.c.type.in_(["coordinates", "supports"])).group_by(t.c.type)).all())
    muni = rep.get("municipality_rows", 0) or 1
    tied = rep.get("rows_resolved", 0) + rep.get("rows_new_cities", 0) + rep.get("rows_new_bodies", 0)
    status = rep.get("membership_ties_by_network_and_status", {})
    by2019 = rep.get("rows_by_2019", 0) or 1

    def members(state: str) -> str:
        return (f"{status.get(f'{covenant.NETWORK} {state}', 0):,} of the Covenant of Mayors – Europe (and "
                f"{status.get(f'{covenant.GLOBAL_NETWORK} {state}', 0):,} of the Global Covenant)")

    def words(counts: dict[str, int], labels: dict[str, str] | None = None) -> str:
        return " · ".join(f"{(labels or {}).get(k, k.replace('_', ' '))} {n:,}"
                          for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))

    co, su = rep.get("coordinators", {}), rep.get("supporters", {})

    def new(d: dict[str, int]) -> str:
        return (f"{d.get('new_civil_society', 0) + d.get('new_region', 0) + d.get('new_private_actor', 0):,} new "
                f"actors ({d.get('new_civil_society', 0):,} civil society, {d.get('new_region', 0):,} regions, "
                f"{d.get('new_private_actor', 0):,} companies)")

    rows = [
        ("rows", f"{rep.get('rows', 0):,}"),
        ("municipality rows (not groups)", f"{rep.get('municipality_rows', 0):,}"),
        ("group rows", f"{rep.get('group_rows', 0):,}"),
        ("names from splitting groups' lists", f"{rep.get('names_in_group_lists', 0):,} (names no row of the group "
         f"gives; {rep.get('names_in_group_lists_resolved', 0):,} resolved, each checked against the group's other "
         "municipalities)"),
        ("resolved to a known place", f"{rep.get('rows_resolved', 0):,} ({rep.get('rows_resolved', 0) / muni:.1%})"),
        ("new cities from the JRC's rows", f"{rep.get('rows_new_cities', 0):,}"),
        ("bodies of municipalities", f"{rep.get('rows_new_bodies', 0):,}"),
        ("ambiguous, not tied", f"{rep.get('rows_ambiguous', 0):,}"),
        ("unresolved, not tied", f"{rep.get('rows_unresolved', 0):,}"),
        ("signatories tied", f"{tied:,} of {rep.get('municipality_rows', 0):,} ({tied / muni:.1%})"),
        ("rows adhering by 2019", f"{rep.get('rows_by_2019', 0):,}"),
        ("of which tied", f"{rep.get('rows_by_2019_tied', 0):,} ({rep.get('rows_by_2019_tied', 0) / by2019:.1%})"),
        ("new city actors", f"{rep.get('new_cities', 0):,}"),
        ("group actors", f"{rep.get('groups', 0):,}"),
        ("membership ties", f"{rep.get('membership_ties', 0):,}"),
        ("active members", members("active")),
        ("suspended members", members("suspended")),
        ("resolved by rule", words(rep.get("resolved_by_rule", {}))),
        ("coordinates read another way", words(rep.get("coordinates_read", {}), {"degrees_minutes": "degrees and minutes"})),
        ("not tied, by reason", words(rep.get("not_tied_by_reason", {}), _NOT_TIED)),
        ("coordinators", f"{sum(co.values()):,} names: {co.get('subdivision', 0):,} subdivisions, "
         f"{co.get('state', 0):,} states (ministries), {co.get('same_name', 0):,} actors already in the store, "
         f"{new(co)}; {ties.get('coordinates', 0):,} `coordinates` ties"),
        ("supporters", f"{sum(su.values()):,} names: {su.get('same_name', 0):,} actors already in the store "
         f"(networks and bodies that also signed), {new(su)}; {ties.get('supports', 0):,} `supports` ties"),
    ]
    return "\n".join(["| | |", "| --- | --- |", *(f"| {k} | {v} |" for k, v in rows)]) + "\n"


def _sp(n: float) -> str:
    """A count as the network pages write it (a thin space between thousands: 40 731)."""
    return f"{n:,.0f}".replace(",", "\u202f")


def graph_figures(obs: "Observatory") -> str:
    """docs/network-centrality.md's figures of the whole graph (``build_graph(obs.store)``):
    its size and components, who leads on degree overall and in the micro layer, and
    where eigenvector centrality concentrates."""
    from ..network import build_graph, centrality

    dg = build_graph(obs.store)
    comps = centrality.components(dg)
    alone = sum(1 for s in comps.sizes if s == 1)
    names = dict(zip(dg.ids, dg.g.vs["label"]))

    def leaders(values: dict, k: int) -> str:
        top = sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
        return ", ".join(f"{names[i]} {_sp(v)}" for i, v in top)

    micro = dg.layer("micro")

    def top_eig(g) -> str:
        return ", ".join(f"{names[i]} {v:.3f}" for i, v in
                         sorted(centrality.eigenvector(g).items(), key=lambda kv: (-kv[1], kv[0]))[:2])
    return (f"The default data's graph has {_sp(dg.g.vcount())} actors and {_sp(dg.g.ecount())} ties in force "
            f"({_sp(comps.count)} components: one of {_sp(comps.sizes[0])} actors, "
            f"{_sp(alone)} {'actor' if alone == 1 else 'actors'} without ties). "
            f"Degree, whole graph: {leaders(centrality.degree(dg), 3)}; micro layer: "
            f"{leaders(centrality.degree(micro), 4)}. Eigenvector, whole graph: {top_eig(dg)}; micro layer: "
            f"{top_eig(micro)}.\n")


def roles_example(obs: "Observatory") -> str:
    """docs/network-roles.md's worked example: Barcelona's (and a few others')
    participation coefficient, brokerage roles, vertical integration and ego network."""
    from ..network import build_graph, brokerage, multiplex, reach

    dg = build_graph(obs.store)
    part = {r["id"]: r for r in multiplex.participation_coefficient(dg)}
    cities = [r for r in part.values() if dg.g.vs[dg.index(r["id"])]["kind"] == "city"]
    bcn = part["barcelona-es"]
    rank = 1 + sum(1 for r in cities if r["participation"] > bcn["participation"])
    k = {t: n for t, n in sorted(bcn["degree_by_type"].items(), key=lambda kv: (-kv[1], kv[0])) if n}
    lines = ["| actor | ties by type | P |", "| --- | --- | ---: |"]
    for i in ("barcelona-es", "madrid-es", "esp", "un"):
        r = part[i]
        types = ", ".join(f"{t} {_sp(n)}" for t, n in sorted(r["degree_by_type"].items(),
                                                              key=lambda kv: (-kv[1], kv[0])) if n)
        lines.append(f"| {r['name']} | {types} | {r['participation']:.3f} |")
    lines += ["", f"Barcelona (o = {sum(k.values())}) ranks {_sp(rank)} of {_sp(len(cities))} cities; "
              f"{_sp(sum(1 for r in cities if r['participation'] > 0))} cities have P > 0.", "",
              "| grouping | actor | coordinator | consultant | representative | gatekeeper | liaison | total |",
              "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    roles = brokerage.ROLES + ("total",)
    for group, directed, types, label in (("layer", True, None, "layer"), ("country", True, None, "country"),
                                          ("country", False, ["twinned_with"], "twinning, undirected, country")):
        for i in ("esp", "barcelona-es", "c40") if types is None else ("barcelona-es",):
            row = brokerage.brokerage_of(dg, i, group=group, directed=directed, types=types)
            lines.append(f"| {label} | {row['name']} | " + " | ".join(_sp(row[x]) if float(row[x]).is_integer()
                                                                     else f"{row[x]:g}" for x in roles) + " |")
    routes = reach.reach(dg, "barcelona-es", max_depth=3)
    by_d = Counter(r["distance"] for r in routes)
    lines += ["", f"Reach (within 3 steps): {len(routes)} of {_sp(len(reach._macro(dg)))} macro actors — "
              + ", ".join(f"{by_d[d]} at distance {d}" for d in sorted(by_d)) + ". The nearest:", "",
              "| macro actor | d | route shown | routes | intermediaries |", "| --- | ---: | --- | ---: | --- |"]
    for r in routes[:8]:
        inter = ", ".join(r["intermediaries"][:5]) + (f" (of {r['n_intermediaries']})"
                                                      if r["n_intermediaries"] > 5 else "")
        lines.append(f"| {r['name']} | {r['distance']} | {' → '.join(r['path_labels'])} | {r['routes']} | "
                     f"{inter or '—'} |")
    shared = [o for o in multiplex.multiplex_summary(dg)["overlap"] if o["shared_edges"]]
    lines += ["", "Tie types sharing a link (`multiplex_summary`): " + (", ".join(
        f"{' and '.join(o['types'])} {o['shared_edges']} pairs (Jaccard {o['jaccard']:.3f})" for o in shared)
        or "none") + "."]
    vi = reach.vertical_integration_all(dg)
    mine = next(r for r in vi if r["id"] == "barcelona-es")
    vi_rank = 1 + sum(1 for r in vi if r["score"] > mine["score"] + 1e-12)
    e1, e2 = reach.ego(dg, "barcelona-es", depth=1).summary, reach.ego(dg, "barcelona-es", depth=2, mode="out").summary
    lines += ["", f"Vertical integration (D = 2): Barcelona {mine['score']:.3f}, {_sp(vi_rank)} of {_sp(len(vi))} "
              f"cities (the top: " + ", ".join(f"{r['name']} {r['score']:.3f}" for r in vi[:3]) + "); "
              f"without twinning {reach.vertical_integration(dg, 'barcelona-es', types=[t for t in set(dg.g.es['type']) if t != 'twinned_with']):.3f}, "
              f"with D = 3 {reach.vertical_integration(dg, 'barcelona-es', max_depth=3):.3f}. "
              f"Ego network at depth 1: {_sp(e1['nodes'])} actors, {_sp(e1['edges'])} ties; "
              f"at depth 2 outward: {_sp(e2['nodes'])} actors, {_sp(e2['edges'])} ties."]
    return "\n".join(lines) + "\n"


#: the blocks the docs may hold, by name
BLOCKS: dict[str, Callable[["Observatory"], str]] = {
    "memberships-table": memberships_table,
    "build-counts": build_counts,
    "twinning-resolution": twinning_resolution,
    "projection-example": projection_example,
    "engagements-table": engagements_table,
    "graph-figures": graph_figures,
    "roles-example": roles_example,
    "covenant-table": covenant_table,
}


def block(name: str, obs: "Observatory") -> str:
    return BLOCKS[name](obs)


def find_blocks(text: str) -> dict[str, str]:
    """The generated blocks of a page: name → what is between its markers."""
    return {m.group(1): m.group(2) for m in _MARK.finditer(text)}


def write_blocks(paths: list[Path], obs: "Observatory") -> list[str]:
    """Regenerate every block of these pages; return the ``page: block`` pairs changed."""
    changed, cache = [], {}
    for path in paths:
        text = path.read_text(encoding="utf-8")

        def fill(m: re.Match) -> str:
            name = m.group(1)
            if name not in BLOCKS:
                raise KeyError(f"{path}: unknown figures block {name!r} (known: {', '.join(BLOCKS)})")
            if name not in cache:
                cache[name] = block(name, obs)
            if cache[name] != m.group(2):
                changed.append(f"{path.name}: {name}")
            return f"<!-- figures:{name} -->\n{cache[name]}<!-- /figures:{name} -->"

        new = _MARK.sub(fill, text)
        if new != text:
            path.write_text(new, encoding="utf-8")
    return changed
