"""The alignment report of a set of documents (a Voluntary Local Review, a climate plan,
project sheets): how much of the documents speaks to each SDG goal and target and each
Paris Agreement article, as heatmaps; the strongest passages of each goal with their
page and the framework text they match; the gaps; a comparison with what the city's
initiatives and engagements in the store serve, and with its peer cities; the method
and its measured accuracy.

The documents are read by :func:`citydiplomacy.align.read_document` and aligned by one
shared :class:`~citydiplomacy.align.Aligner` (``align_many``): this module only counts and
arranges the results."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Sequence

from ..errors import ValidationError
from .document import Report, Section, Table, words
from .figures import Chart, heatmap

__all__ = ["AlignedDocument", "align_documents", "align_report", "accuracy", "STRONG", "BEST_PER_GOAL"]

#: a goal with fewer passages than this, or whose best passage scores under STRONG, has
#: weak evidence
WEAK_PASSAGES = 2
STRONG = 0.5
#: the strongest passages shown per goal
BEST_PER_GOAL = 3
#: peer cities compared at most
PEERS = 5
EXCERPT = 360


@dataclass
class AlignedDocument:
    """One document: its name, its passages and their alignments (in the same order)."""

    name: str
    passages: list[Any]
    alignments: list[Any]

    def aligned(self):
        """(passage, alignment) pairs of the passages that could be aligned."""
        return [(p, a) for p, a in zip(self.passages, self.alignments) if not a.error]


@lru_cache(maxsize=1)
def accuracy() -> dict[str, Any]:
    """The engine's measured accuracy (``data/align/accuracy.yaml``; docs/align-method.md)."""
    import yaml

    from ..dataset.context import data_path

    return yaml.safe_load(Path(data_path("align", "accuracy.yaml")).read_text(encoding="utf-8"))


def align_documents(paths: Sequence[str | Path], *, mode: str = "auto", lang: str = "auto",
                    progress: Callable[[int], None] | None = None) -> tuple[list[AlignedDocument], str]:
    """Read and align every document of ``paths`` (PDF, DOCX, HTML, Markdown, text).
    Returns the documents and the method used. A missing, empty or unreadable document (a
    scan with no text layer, say) raises :class:`ValidationError` naming it, before any
    is aligned."""
    from ..align import aligner
    from ..align.documents import DOCUMENT_SUFFIXES, read_document

    if not paths:
        raise ValidationError("give at least one document to align", field="files")
    read = []
    for p in paths:
        path = Path(p)
        if not path.is_file():
            raise ValidationError("no such file", file=str(path))
        if path.suffix.lower() not in DOCUMENT_SUFFIXES:
            raise ValidationError(f"cannot read a '{path.suffix or 'file without suffix'}' document; give "
                                  f"{', '.join(sorted(DOCUMENT_SUFFIXES))}", file=str(path))
        read.append((path, read_document(path)))
    al = aligner(mode)
    out = []
    for path, passages in read:
        res = al.align_many(passages, lang=lang, level="target", progress=progress)
        if not any(not a.error for a in res):
            raise ValidationError("no paragraph of the document could be aligned (" + (res[0].error or "") +
                                  "); check its language (en, fr, es, de) and that it holds text", file=str(path))
        out.append(AlignedDocument(path.name, passages, res))
    return out, al.method


def align_report(obs, paths: Sequence[str | Path], *, city: str | None = None, lang: str = "en",
                 mode: str = "auto", doc_lang: str = "auto", names: Sequence[str] | None = None,
                 progress: Callable[[int], None] | None = None) -> Report:
    """The alignment report of the documents ``paths``, in ``lang`` (en, fr, es, de); with
    ``city`` (resolved in ``obs``'s store first: an unknown one raises
    :class:`~citydiplomacy.errors.NotFoundError` before any reading), the comparison with
    its initiatives, engagements and peers. ``names``: the documents' names to show (an
    upload's own file names), ``mode`` and ``doc_lang``: the aligner's."""
    from ..actors import resolve_actor

    code, _ = words(lang)
    actor = resolve_actor(obs.store, city, prefer_kind="city") if city else None
    docs, method = align_documents(paths, mode=mode, lang=doc_lang, progress=progress)
    if names:
        for d, n in zip(docs, names):
            d.name = n
    summary = summarise(docs)
    title = _("Alignment report: %(name)s", name=actor["name"]) if actor else _("Alignment report")
    rep = Report(kind="align", title=title, subtitle=", ".join(d.name for d in docs), lang=code)
    rep.facts = [(_("documents"), str(len(docs))), (_("passages aligned"), str(summary["passages"])),
                 (_("goals with evidence"), str(sum(1 for g in range(1, 18) if summary["goal_total"][g]))),
                 (_("goals without evidence"), str(sum(1 for g in range(1, 18) if not summary["goal_total"][g])))]
    rep.sections.append(_coverage_section(docs, summary, _, code))
    rep.sections.append(_targets_section(summary, _, code))
    rep.sections.append(_paris_section(docs, summary, _, code))
    rep.sections.append(_passages_section(summary, _, code))
    rep.sections.append(_gaps_section(summary, _, code))
    if actor is not None:
        rep.sections.append(_city_section(obs, actor, summary, _))
    rep.sections.append(_method_section(method, mode, _))
    return rep


def summarise(docs: list[AlignedDocument]) -> dict[str, Any]:
    """The counts every section reads: passages per goal, target and article, per document
    and in all; the strongest passages of each goal."""
    goal = {d.name: Counter() for d in docs}
    paris = {d.name: Counter() for d in docs}
    targets: Counter = Counter()
    best: dict[int, list[tuple[float, str, Any, Any]]] = defaultdict(list)
    n = {}
    for d in docs:
        pairs = d.aligned()
        n[d.name] = len(pairs)
        for p, a in pairs:
            goal[d.name].update(a.sdgs)
            paris[d.name].update(a.paris)
            targets.update(a.targets)
            for g in a.sdgs:
                best[g].append((a.scores.get("sdg", {}).get(str(g), 0.0), d.name, p, a))
    top = {g: sorted(v, key=lambda x: -x[0])[:BEST_PER_GOAL] for g, v in best.items()}
    goal_total = {g: sum(c[g] for c in goal.values()) for g in range(1, 18)}
    top_score = {g: (top[g][0][0] if top.get(g) else 0.0) for g in range(1, 18)}
    return {"passages": sum(n.values()), "per_doc": n, "goal": goal, "paris": paris, "targets": targets,
            "best": top, "goal_total": goal_total, "top_score": top_score}


def _short(title: str) -> str:
    return title.split(": ", 1)[0]


def _goal_label(g: int, lang: str) -> str:
    from ..align.catalog import catalog

    return f"{g} {_short(catalog().title(f'sdg:{g}', lang))}"


def _coverage_section(docs, s, _, lang) -> Section:
    cols = [d.name for d in docs] + ([_("all")] if len(docs) > 1 else [])
    values = []
    for g in range(1, 18):
        row = [s["goal"][d.name][g] / s["per_doc"][d.name] if s["per_doc"][d.name] else None for d in docs]
        if len(docs) > 1:
            row.append(s["goal_total"][g] / s["passages"] if s["passages"] else None)
        values.append(row)
    rows = [_goal_label(g, lang)[:38] for g in range(1, 18)]
    source = _("the documents, aligned paragraph by paragraph (citydiplomacy.align)")
    ranked = sorted(range(1, 18), key=lambda g: -s["goal_total"][g])
    alt = _("Share of the passages that speak to each SDG. Most covered: %(top)s. Not covered: %(none)s.",
            top=", ".join(f"SDG {g} ({s['goal_total'][g]})" for g in ranked[:3] if s["goal_total"][g]) or "—",
            none=", ".join(str(g) for g in range(1, 18) if not s["goal_total"][g]) or "—")
    chart = Chart("sdg-heatmap", _("Coverage by SDG goal"), alt, source,
                  heatmap(rows, [c[:22] for c in cols], values, label=_("share of passages")),
                  size=(6.3, 4.6 if len(cols) < 6 else 5.2))
    table = Table([_("goal"), _("passages"), _("share")],
                  [[_goal_label(g, lang), s["goal_total"][g],
                    f"{s['goal_total'][g] / s['passages']:.0%}" if s["passages"] else "—"] for g in range(1, 18)],
                  source=source, numeric={1, 2})
    return Section("coverage", _("Coverage by goal"),
                   [_("%(n)s passages of %(d)s documents were aligned with the 17 SDGs; a passage can speak to "
                      "several goals.", n=s["passages"], d=len(docs))], charts=[chart], tables=[table])


def _target_columns() -> list[str]:
    from ..align.catalog import catalog

    cols: list[str] = []
    for codes in catalog().targets_of.values():
        for c in codes:
            t = c.split(".", 1)[1]
            if t not in cols:
                cols.append(t)
    return sorted(cols, key=lambda t: (not t.isdigit(), int(t) if t.isdigit() else 0, t))


def _targets_section(s, _, lang) -> Section:
    from ..align.catalog import catalog

    cat = catalog()
    cols = _target_columns()
    values = []
    for g in range(1, 18):
        have = {c.split(".", 1)[1] for c in cat.targets_of[f"sdg:{g}"]}
        values.append([s["targets"].get(f"{g}.{t}", 0) if t in have else None for t in cols])
    source = _("the documents' passages and the targets each is most about (up to three per goal)")
    covered = sum(1 for v in s["targets"].values() if v)
    alt = _("Passages per SDG target (rows: goals 1–17, columns: target numbers; blank where a goal has no such "
            "target). %(n)s of 169 targets have at least one passage.", n=covered)
    chart = Chart("target-heatmap", _("Coverage by SDG target"), alt, source,
                  heatmap([f"SDG {g}" for g in range(1, 18)], cols, values, label=_("passages"), fmt="{:.0f}"),
                  size=(6.3, 4.2))
    top = s["targets"].most_common(10)
    table = Table([_("target"), _("passages"), _("text")],
                  [[code, n, cat.title(f"sdg:{code}", lang)[:160]] for code, n in top],
                  caption=_("The targets most spoken to"), source=source, numeric={1})
    return Section("targets", _("Coverage by target"),
                   [_("%(n)s of the 169 SDG targets have at least one passage.", n=covered)],
                   charts=[chart], tables=[table] if top else [])


def _paris_section(docs, s, _, lang) -> Section:
    from ..align.catalog import PARIS_ARTICLES, catalog

    cat = catalog()
    arts = [int(a.split(":")[1]) for a in PARIS_ARTICLES]
    values = [[s["paris"][d.name][a] / s["per_doc"][d.name] if s["per_doc"][d.name] else None for d in docs]
              for a in arts]
    rows = [f"{_('Art.')} {a} {_short(cat.title(f'paris:{a}', lang))}"[:40] for a in arts]
    total = {a: sum(c[a] for c in s["paris"].values()) for a in arts}
    source = _("the documents, aligned with the operative articles of the Paris Agreement")
    alt = _("Share of the passages that speak to each article of the Paris Agreement: ") + "; ".join(
        f"{a}: {total[a]}" for a in arts) + "."
    chart = Chart("paris-heatmap", _("Coverage by Paris Agreement article"), alt, source,
                  heatmap(rows, [d.name[:22] for d in docs], values, label=_("share of passages")),
                  size=(6.3, 3.6))
    return Section("paris", _("Coverage by Paris Agreement article"),
                   [_("Articles with no passage: %(gaps)s.", gaps=", ".join(str(a) for a in arts if not total[a]) or "—")],
                   charts=[chart])


def _matches(a, g: int, lang: str) -> str:
    """The framework text a passage matches for goal ``g``: the closest target's text
    (hybrid), else the terms found and the goal's title."""
    from ..align.catalog import catalog

    cat = catalog()
    sem = [e for e in a.evidence if e["item"] == f"sdg:{g}" and e["via"] == "semantic"]
    if sem:
        item = sem[0].get("matched_item") or f"sdg:{g}"
        return f"{item[4:]}: {cat.title(item, lang)}"
    tgt = [t for t in a.targets if t.split(".")[0] == str(g)]
    terms = sorted({e["text"] for e in a.evidence if e["item"] in (f"sdg:{g}", *(f"sdg:{t}" for t in tgt))
                    and e["via"] == "term"})
    head = f"{tgt[0]}: {cat.title('sdg:' + tgt[0], lang)}" if tgt else _short(cat.title(f"sdg:{g}", lang))
    return head + (f" — «{', '.join(terms[:5])}»" if terms else "")


def _passages_section(s, _, lang) -> Section:
    rows = []
    for g in range(1, 18):
        for score, doc, p, a in s["best"].get(g, []):
            text = " ".join(p.text.split())
            rows.append([f"SDG {g}", f"{doc}, {p.ref or ''}".strip(", "), f"{score:.2f}",
                         text[:EXCERPT] + ("…" if len(text) > EXCERPT else ""), _matches(a, g, lang)])
    return Section("passages", _("Strongest passages per goal"),
                   [_("For each goal, the passages the engine is most confident about (calibrated probability), "
                      "where they are in the documents, and the framework text they match.")],
                   tables=[Table([_("goal"), _("where"), _("score"), _("passage"), _("matches")], rows,
                                 source=_("the documents; framework texts: UN SDG targets (open-sdg), UNFCCC"),
                                 numeric={2})])


def _gaps_section(s, _, lang) -> Section:
    from ..align.catalog import catalog

    cat = catalog()
    none = [g for g in range(1, 18) if not s["goal_total"][g]]
    weak = [g for g in range(1, 18) if g not in none and (s["goal_total"][g] < WEAK_PASSAGES or
                                                          s["top_score"][g] < STRONG)]
    rows = [[_goal_label(g, lang), _("no evidence"), "—"] for g in none]
    rows += [[_goal_label(g, lang), _("weak evidence"),
              _("%(n)s passages, best score %(p)s", n=s["goal_total"][g], p=f"{s['top_score'][g]:.2f}")] for g in weak]
    missing = []
    for g in range(1, 18):
        if g in none:
            continue
        lack = [c[4:] for c in cat.targets_of[f"sdg:{g}"] if not s["targets"].get(c[4:])]
        if lack:
            missing.append([f"SDG {g}", len(lack), ", ".join(lack)])
    return Section("gaps", _("Gaps"),
                   [_("Goals with no passage, and goals with weak evidence (fewer than %(n)s passages, or none "
                      "scored %(p)s or more).", n=WEAK_PASSAGES, p=STRONG)],
                   tables=[Table([_("goal"), _("evidence"), _("detail")], rows, caption=_("Goals")),
                           Table([_("goal"), _("targets without a passage"), _("targets")], missing,
                                 caption=_("Targets of the covered goals with no passage"), numeric={1})])


def _coverage_of(obs, actor_id: str) -> dict[str, Any]:
    from ..initiatives import list_initiatives
    from ..profile import coverage_of, engagement_alignments

    return coverage_of(list_initiatives(obs.store, actor_id), engagement_alignments(obs.store, actor_id))


def _served(cov: dict[str, Any], g: int) -> int:
    v = cov["by_sdg"].get(g) or cov["by_sdg"].get(str(g)) or {}
    return v.get("initiatives", 0) + v.get("engagements", 0)


def _city_section(obs, actor, s, _) -> Section:
    from ..engage.views import activity

    name = actor["name"]
    mine = _coverage_of(obs, actor["id"])
    act = activity(obs.store, actor["id"])
    peers = [p for p in act.get("partners", []) if p.get("kind") == "city"][:PEERS]
    peer_cov = [(p["name"], _coverage_of(obs, p["id"])) for p in peers]
    cols = [_("documents"), name] + [n for n, _c in peer_cov]

    def share(cov, g):
        total = cov["initiatives"] + cov["engagements"]
        return _served(cov, g) / total if total else None
    values = [[s["goal_total"][g] / s["passages"] if s["passages"] else None, share(mine, g)] +
              [share(c, g) for _n, c in peer_cov] for g in range(1, 18)]
    source = _("the documents; the initiatives and engagements of %(name)s and of the cities it engages with most "
               "in the register", name=name)
    alt = _("SDG coverage of the documents beside that of the initiatives and engagements of %(name)s and of "
            "%(n)s peer cities (share of the passages, or of the initiatives and engagements, that serve each goal).",
            name=name, n=len(peer_cov))
    chart = Chart("city-comparison", _("The documents beside the city's register and its peers"), alt, source,
                  heatmap([f"SDG {g}" for g in range(1, 18)], [c[:18] for c in cols], values, label=_("share")),
                  size=(6.3, 4.4))
    rows = []
    for g in range(1, 18):
        d, r = s["goal_total"][g], _served(mine, g)
        verdict = (_("in both") if d and r else _("documents only") if d else _("register only") if r else _("neither"))
        rows.append([f"SDG {g}", d, r, verdict])
    return Section("city", _("Compared with %(name)s's register and peers", name=name),
                   [_("%(name)s has %(i)s initiatives and %(e)s engagements in the store; its peers here are the "
                      "cities it engages with most (%(peers)s).", name=name, i=mine["initiatives"],
                      e=mine["engagements"], peers=", ".join(n for n, _c in peer_cov) or "—")],
                   charts=[chart],
                   tables=[Table([_("goal"), _("passages"), _("initiatives and engagements"), _("where")], rows,
                                 source=source, numeric={1, 2})])


def _method_section(method: str, mode: str, _) -> Section:
    acc = accuracy()
    used = "hybrid" if method == "lexical+minilm" else "light"
    m = acc["modes"][used]
    ml = acc["multilabel"]
    return Section("method", _("Method and accuracy"), [
        _("Each document is split into paragraphs (with their page or section). Each paragraph is aligned by "
          "citydiplomacy.align: curated terms of every goal, target and article in en, fr, es and de, and "
          "(hybrid mode) the similarity of the paragraph's MiniLM sentence embedding to the official texts; a "
          "fitted logistic model turns these into a calibrated probability, and a goal is reported above its "
          "threshold. Method used here: %(method)s.", method=method),
        _("Measured accuracy (%(date)s, %(n)s labelled texts in %(langs)s never used for fitting): mean per-SDG "
          "accuracy %(acc)s, precision %(p)s, recall %(r)s, F1 %(f1)s in this mode. Over every goal of every "
          "text, F1 is %(sf1)s for the SDGs and %(pf1)s for the Paris articles.", date=acc["measured"],
          n=acc["texts"], langs=acc["languages"], acc=f"{m['accuracy']:.3f}", p=f"{m['precision']:.3f}",
          r=f"{m['recall']:.3f}", f1=f"{m['f1']:.3f}", sf1=f"{ml['sdg']['f1']:.3f}", pf1=f"{ml['paris']['f1']:.3f}"),
        _("Read it as a map of what the documents talk about, not as a verdict: the labelled texts were written "
          "for this project and are closer to the training texts than real documents are, so expect lower "
          "figures on other documents; check the passages before quoting them (docs/align-method.md)."),
    ])
