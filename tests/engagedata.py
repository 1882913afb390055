"""A small engagement register for the web tests, written with the library
(:func:`citydiplomacy.engage.add_engagement` and ``write_engagements``) into a copy of the
built store: Lyon's log with Barcelona, Nairobi, Bamako and C40, and enough exchange
visits for the register to have several pages.

The facts are a test fixture, not data: their provenance says so."""

from __future__ import annotations

from citydiplomacy.engage import Engagement, add_engagement, write_engagements
from citydiplomacy.model import Provenance

SOURCE = "web test fixture"

#: what :func:`seed` writes, by key
MOBILITY = "lyon-barcelona-mobility"
VISIT = "nairobi-delegation-2021"
DECLARATION = "clean-air-declaration-2022"
EVENT = "urban-forum-2015"
PROJECT = "open-data-project"
#: the exchange visits (Lyon with Barcelona, one a year 1990-2049 minus the above): pages
VISITS = 60


def clear_register(store) -> None:
    """Empty the register of ``store`` (the default data ships declarations and events):
    the tests count what :func:`seed` writes."""
    from citydiplomacy.store import schema

    with store.transaction() as conn:
        for t in (schema.engagement_ties, schema.engagement_alignments, schema.engagement_followups,
                  schema.engagement_documents, schema.engagement_parties, schema.engagements):
            conn.execute(t.delete())


def seed(store) -> dict[str, int]:
    """Write the fixture register into ``store`` (emptied first); returns counts the tests check."""
    clear_register(store)
    add_engagement(store, {
        "key": MOBILITY, "kind": "agreement", "title": "Memorandum of understanding on urban mobility",
        "text": "Lyon and Barcelona cooperate on low-emission zones, public transport and cycling, to cut "
                "greenhouse gas emissions and air pollution in both cities.",
        "signed_on": "2019-05-08", "start_on": "2019-05-08", "end_on": "2024-05-08", "review_on": "2024-01",
        "place": "Lyon", "status": "active", "outcomes": "Joint study of low-emission zones.",
        "parties": [{"actor": "lyon-fr", "role": "signatory"}, {"actor": "barcelona-es", "role": "signatory"}],
        "documents": [{"title": "Text of the memorandum", "url": "https://example.org/mou.pdf"}],
        "followups": [{"text": "Exchange of traffic data", "due_on": "2020-06", "status": "done"},
                      {"text": "Report to the council", "due_on": "2025-03"}]},
        source=SOURCE, mode="light")
    add_engagement(store, {
        "key": VISIT, "kind": "visit", "title": "Delegation from Nairobi on waste management",
        "text": "A delegation of the Nairobi county government visits Lyon's recycling plants.",
        "start_on": "2021-03-10", "end_on": "2021-03-12", "place": "Lyon", "status": "completed",
        "parties": [{"actor": "lyon-fr", "role": "host"}, {"actor": "nairobi-ke", "role": "visitor"}]},
        source=SOURCE, mode="light")
    add_engagement(store, {
        "key": DECLARATION, "kind": "declaration", "title": "Declaration on clean air",
        "text": "Signatory cities commit to meet air quality guidelines and reduce emissions from transport.",
        "signed_on": "2022-10-01", "status": "active", "axes": ["sustainability"],
        "parties": [{"actor": "lyon-fr", "role": "signatory"}, {"actor": "barcelona-es", "role": "signatory"},
                    {"actor": "nairobi-ke", "role": "signatory", "signed_on": "2022-11"},
                    {"actor": "c40", "role": "organiser"}]},
        source=SOURCE, mode="light")
    add_engagement(store, {
        "key": EVENT, "kind": "event", "title": "Urban forum on smart cities",
        "text": "A forum on digital public services and open data.", "start_on": "2015-06",
        "place": "Barcelona", "status": "completed", "axes": ["digital"],
        "parties": [{"actor": "barcelona-es", "role": "host"}, {"actor": "bamako-ml", "role": "participant"},
                    {"actor": "lyon-fr", "role": "participant"}]},
        source=SOURCE, mode="light")
    add_engagement(store, {
        "key": PROJECT, "kind": "project", "title": "Open data portal for Bamako",
        "text": "A joint project to publish the city's data openly.", "start_on": "2023", "status": "planned",
        "axes": ["digital"], "parties": [{"actor": "lyon-fr", "role": "lead"},
                                         {"actor": "bamako-ml", "role": "partner"}]},
        source=SOURCE, mode="light")
    visits = [Engagement.parse({"key": f"exchange-{y}", "kind": "visit", "title": f"Exchange visit {y}",
                                "start_on": str(y), "status": "completed",
                                "parties": [{"actor": "lyon-fr", "role": "visitor"},
                                            {"actor": "barcelona-es", "role": "host"}]})
              for y in range(1960, 1960 + VISITS)]
    write_engagements(store, visits, Provenance.parse({"source": SOURCE, "licence": "not stated"}), mode="light")
    return {"total": 5 + VISITS, "lyon": 5 + VISITS, "pair": 3 + VISITS}     # pair: Lyon and Barcelona
