"""Sorted pages of the engagement register (revision 0010): the stored sort keys, pages
by offset and after a cursor (a seek) that give the same rows — none twice, none missing,
stable under equal titles and dates, undated rows last — the indexes the queries read,
and a store written before revision 0010 upgraded to list the same."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import func, insert, inspect, select

from citydiplomacy.editing import add_actor
from citydiplomacy.engage import list_engagements, write_engagements
from citydiplomacy.engage.model import Engagement, sort_keys, title_key
from citydiplomacy.engage.paging import SORTS, decode_cursor, encode_cursor
from citydiplomacy.errors import ValidationError
from citydiplomacy.model import Provenance
from citydiplomacy.store import SCHEMA_HEAD, Store, schema
from citydiplomacy.store.rows import LAYER_BITS

E = schema.engagements
SOURCE = {"source": "hand-made test data", "licence": "CC0"}
CITIES = [("alpha", "FR"), ("beta", "DE"), ("gamma", "IT")]
# equal titles once folded, and titles that differ only by case or accents
TITLES = ["Été urbain", "ete  urbain", "ETE URBAIN", "Climate pact", "climate pact", "Zebra crossing", "Água viva",
          "Mobility"]
DATES = ["2019-05-02", "2019-05-02", "2019", "2020-01", "2018-12-31", None]


def _records(n: int = 130, seed: int = 10) -> list[dict]:
    """``n`` engagements with many equal titles and dates, a sixth undated."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        kind = rng.choice(["agreement", "event", "visit"])
        day = rng.choice(DATES)
        which = rng.choice(["start_on", "signed_on", "end_on"])
        parties = rng.sample([c for c, _ in CITIES], 2) + (["state"] if i % 5 == 0 else [])
        out.append({"key": f"e{i:03d}", "kind": kind, "title": rng.choice(TITLES), "text": "",
                    "signed_on": None, "start_on": None, "end_on": None, which: day,
                    "review_on": rng.choice([None, "2027-03", "2026-12-31"]),
                    "status": rng.choice(["active", "completed"]),
                    "parties": [{"actor": p, "role": "participant"} for p in parties]})
    return out


def _actors(store: Store) -> None:
    for id_, country in CITIES:
        add_actor(store, id_.capitalize(), "city", id=id_, country=country, **SOURCE)
    add_actor(store, "Statia", "state", id="state", country="NL", **SOURCE)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s = Store(tmp_path_factory.mktemp("paging") / "citydip.sqlite")
    _actors(s)
    write_engagements(s, [Engagement.parse(r) for r in _records()], Provenance(**SOURCE), mode="light")
    yield s
    s.close()


def expected(store: Store, sort: str, keep=lambda r: True) -> list[str]:
    """The keys in ``sort`` order, computed here from the rows: by the sort's value then the
    id, both in the sort's direction, rows without a value last."""
    with store.connect() as conn:
        rows = [r for r in conn.execute(select(E)) if keep(r)]
    desc = sort.startswith("-")
    name = sort.lstrip("-")

    def value(r):
        return {"date": r.start_on or r.signed_on or r.end_on, "title": title_key(r.title), "kind": r.kind,
                "status": r.status, "review": r.review_on, "updated": r.updated_at}[name]
    have = sorted((r for r in rows if value(r) is not None), key=lambda r: (value(r), r.id), reverse=desc)
    lack = sorted((r for r in rows if value(r) is None), key=lambda r: r.id, reverse=desc)
    return [r.key for r in have + lack]


def walk(store: Store, *, by: str, limit: int = 7, **filters) -> list[str]:
    """Every page, by offset or by cursor, concatenated."""
    keys, offset, cursor = [], 0, None
    for _ in range(1000):
        res = list_engagements(store, limit=limit, offset=offset if by == "offset" else 0, cursor=cursor, **filters)
        assert res["offset"] == len(keys)
        keys += [e["key"] for e in res["items"]]
        if by == "offset":
            offset += limit
            if offset >= res["total"]:
                assert res["next_cursor"] is None
                return keys
        else:
            cursor = res["next_cursor"]
            if cursor is None:
                assert len(keys) == res["total"]
                return keys
    raise AssertionError("paging did not end")


def test_title_key_folds_case_accents_and_spaces():
    assert title_key("Été  urbain ") == title_key("ETE URBAIN") == "ete urbain"
    assert title_key("Água") == "agua" and title_key("x" * 300) == "x" * 200 and title_key(None) == ""
    assert sort_keys({"end_on": "2020", "signed_on": "2019-01", "title": "A"}) == {"sort_date": "2019-01",
                                                                                   "title_key": "a"}
    assert sort_keys({"title": "B"})["sort_date"] is None


def stored_layers_are_the_parties(store: Store) -> None:
    """Every engagement's ``party_layers`` holds the bits of its parties' layers."""
    p, a = schema.engagement_parties, schema.actors
    with store.connect() as conn:
        layers: dict[int, int] = {}
        for eid, layer in conn.execute(select(p.c.engagement_id, a.c.layer).join(a, a.c.id == p.c.actor_id)):
            layers[eid] = layers.get(eid, 0) | LAYER_BITS[layer]
        stored = dict(conn.execute(select(E.c.id, E.c.party_layers)).all())
    assert stored == {i: layers.get(i, 0) for i in stored}


def test_every_written_row_carries_its_sort_keys_and_party_layers(store):
    with store.connect() as conn:
        rows = conn.execute(select(E)).all()
    assert len(rows) == 130 and any(r.sort_date is None for r in rows)
    for r in rows:
        assert (r.sort_date, r.title_key) == tuple(sort_keys(r._mapping).values())
    assert {r.party_layers for r in rows} == {4, 6}         # cities (micro), with the state (meso) in a fifth
    stored_layers_are_the_parties(store)


def test_an_actors_layer_cannot_change_under_its_engagements():
    """The layers of the parties are stored with each engagement: an actor's kind (its
    layer) is not editable; making it so needs store.rows.refresh_party_layers on its
    engagements."""
    from citydiplomacy.editing import EDITABLE

    assert not {"kind", "layer"} & set(EDITABLE)


#: filters, and for some the same filter as a predicate on the rows
FILTERS = [({}, lambda r: True), ({"kind": "event"}, lambda r: r.kind == "event"),
           ({"kind": "agreement,visit", "status": "active"},
            lambda r: r.kind in ("agreement", "visit") and r.status == "active"),
           ({"q": "urbain"}, lambda r: "urbain" in r.title.lower()),
           ({"layer": "meso"}, None), ({"actor": "alpha"}, None), ({"actor": "alpha", "layer": "meso"}, None),
           ({"date_to": "2019"}, None)]


@pytest.mark.parametrize("sort", SORTS)
def test_pages_by_offset_and_by_cursor_give_the_whole_list_in_order(store, sort):
    every = [e["key"] for e in list_engagements(store, sort=sort, limit=None)["items"]]
    assert every == expected(store, sort)
    for f, keep in FILTERS:
        whole = [e["key"] for e in list_engagements(store, sort=sort, limit=None, **f)["items"]]
        assert whole, f
        if keep is not None:
            assert whole == expected(store, sort, keep), f
        else:
            assert whole == [k for k in every if k in set(whole)], f     # the same order, filtered
        for by in ("offset", "cursor"):
            keys = walk(store, by=by, sort=sort, **f)
            assert keys == whole, (f, by)
            assert len(set(keys)) == len(keys)


def test_equal_titles_keep_their_order_by_id_across_pages(store):
    keys = walk(store, by="cursor", limit=4, sort="title")
    with store.connect() as conn:
        ids = dict(conn.execute(select(E.c.key, E.c.id)).all())
        folded = dict(conn.execute(select(E.c.key, E.c.title_key)).all())
    run = [k for k in keys if folded[k] == "ete urbain"]
    assert len(run) > 10 and [ids[k] for k in run] == sorted(ids[k] for k in run)
    # "Été urbain", "ete  urbain" and "ETE URBAIN" sort as one title
    assert keys.index(run[0]) + len(run) - 1 == keys.index(run[-1])


def test_a_cursor_survives_the_deletion_of_its_row(tmp_path):
    s = Store(tmp_path / "citydip.sqlite")
    _actors(s)
    write_engagements(s, [Engagement.parse(r) for r in _records(40, seed=3)], Provenance(**SOURCE), mode="light")
    whole = [e["key"] for e in list_engagements(s, sort="-date", limit=None)["items"]]
    first = list_engagements(s, sort="-date", limit=10)
    from citydiplomacy.engage import delete_engagement

    delete_engagement(s, first["items"][-1]["key"])
    for q in (None, "a"):           # read from the index, and sorted after one pass
        rest = list_engagements(s, sort="-date", limit=100, cursor=first["next_cursor"], q=q)
        expect = [k for k in whole[10:] if q is None or k in {e["key"] for e in list_engagements(
            s, q=q, limit=None)["items"]}]
        assert [e["key"] for e in rest["items"]] == expect
        assert rest["offset"] == (9 if q is None else rest["total"] - len(expect))
    s.close()


def test_bad_cursors_are_refused_with_what_to_do(store):
    with pytest.raises(ValidationError, match="not a cursor of this register") as exc:
        list_engagements(store, cursor="not-a-cursor")
    assert exc.value.field == "cursor"
    title = encode_cursor("title", 0, "ete urbain", 3)
    with pytest.raises(ValidationError, match="made for the sort 'title', not '-date'"):
        list_engagements(store, cursor=title)
    with pytest.raises(ValidationError, match="not a cursor"):
        decode_cursor(encode_cursor("-date", 1, "2019", 3), "-date")     # the undated run has no value
    assert decode_cursor(title, "title").id == 3


def test_a_page_is_read_in_order_from_an_index(store):
    """The register's first page and a deep one read the sort index (no sort of every row)."""
    from citydiplomacy.engage.paging import segments
    from citydiplomacy.engage.register import filter_statement

    def plan(stmt):
        sql = str(stmt.compile(store.engine, compile_kwargs={"literal_binds": True}))
        with store.connect() as conn:
            return " | ".join(r[3] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))

    for sort, filters, index in (("-date", {}, "ix_engagements_sort_date"),
                                 ("title", {}, "ix_engagements_title_key"),
                                 ("-date", {"kind": "event", "status": "active"}, "ix_engagements_kind_status_date"),
                                 ("title", {"kind": "event", "layer": "micro"}, "ix_engagements_kind_title")):
        seg = segments(sort)[0]
        stmt = filter_statement(select(*seg.columns()), **filters)
        if seg.where is not None:
            stmt = stmt.where(seg.where)
        p = plan(stmt.order_by(*seg.order_by()).limit(50).offset(1000))
        assert index in p and "TEMP B-TREE" not in p, (sort, filters, p)
    # the total of a layer is counted from the index of the stored party layers
    p = plan(filter_statement(select(func.count()).select_from(E), layer="meso", kind="event"))
    assert "ix_engagements_party_layers" in p and "engagement_parties" not in p, p
    # a partner's layer (with an actor) reads each party's layer from the index
    p = plan(filter_statement(select(E.c.id), actor="alpha", layer="micro").limit(1))
    assert "ix_actors_id_layer" in p


# -- the upgrade of a store written before revision 0010 -------------------------------------------

def test_a_0009_store_gets_its_sort_keys_and_lists_the_same(tmp_path):
    path = tmp_path / "old.sqlite"
    old = Store(path, migrate=False)
    old.migrate("0009")
    records = _records(60, seed=5)
    with old.transaction() as conn:
        run = old.start_run(conn, "test")
        prov = old.add_provenance(conn, Provenance(**SOURCE), run)
        for id_, country in CITIES + [("state", "NLD")]:
            conn.execute(insert(schema.actors).values(id=id_, name=id_.capitalize(), kind="city" if id_ != "state"
                                                      else "state", layer="micro" if id_ != "state" else "meso",
                                                      country=country, provenance_id=prov))
        for n, r in enumerate(records, 1):
            # the columns of revision 0009 only
            conn.execute(insert(E).values(id=n, provenance_id=prov, updated_at=f"2026-01-{n % 28 + 1:02d}",
                                          **{k: v for k, v in r.items() if k != "parties"}))
            conn.execute(insert(schema.engagement_parties), [
                {"engagement_id": n, "actor_id": p["actor"], "role": p["role"], "provenance_id": prov}
                for p in r["parties"]])
    with old.connect() as conn:
        assert "sort_date" not in {c["name"] for c in inspect(conn).get_columns("engagements")}
    old.close()

    new = Store(path)
    assert new.schema_version() == SCHEMA_HEAD
    with new.connect() as conn:
        rows = conn.execute(select(E)).all()
    assert len(rows) == 60
    for r in rows:
        assert (r.sort_date, r.title_key) == tuple(sort_keys(r._mapping).values())
    for sort in SORTS:
        assert [e["key"] for e in list_engagements(new, sort=sort, limit=None)["items"]] == expected(new, sort)
        assert walk(new, by="cursor", sort=sort) == expected(new, sort)
    assert list_engagements(new, layer="meso")["total"] == sum(1 for r in records if len(r["parties"]) == 3)
    stored_layers_are_the_parties(new)
    new.close()


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection", "ignore:autogenerate skipping")
def test_migrations_create_the_register_exactly_as_the_schema_says(fresh_store):
    """Alembic's own comparison finds nothing to change in the register's tables and the
    index revision 0010 adds to actors."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with fresh_store.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), schema.metadata)
    ours = [d for d in diffs if "engagement" in repr(d) or "ix_actors_id_layer" in repr(d)]
    assert ours == []


def test_0010_downgrades_to_0009_and_up_again(tmp_path):
    from alembic import command

    from citydiplomacy.store.db import _alembic_config

    s = Store(tmp_path / "citydip.sqlite")
    _actors(s)
    write_engagements(s, [Engagement.parse(r) for r in _records(12, seed=1)], Provenance(**SOURCE), mode="light")
    with s.engine.begin() as conn:
        command.downgrade(_alembic_config(conn), "0009")
    assert s.schema_version() == "0009"
    s.migrate()
    assert s.schema_version() == SCHEMA_HEAD
    assert [e["key"] for e in list_engagements(s, sort="title", limit=None)["items"]] == expected(s, "title")
    s.close()
