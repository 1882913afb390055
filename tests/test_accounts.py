"""Accounts: users and roles, Argon2id passwords, throttled logins, API tokens, web
sessions, the audit log, the 0003 migration, and ``citydip user`` / ``citydip token``."""

from __future__ import annotations

import datetime as dt
import hashlib
import getpass
import json
import re

import pytest
import typer
from argon2 import PasswordHasher, Type
from sqlalchemy import inspect, insert, select, update
from typer.testing import CliRunner

import citydiplomacy
from citydiplomacy import accounts
from citydiplomacy.accounts import AuthError, User
from citydiplomacy.dataset import build as build_mod
from citydiplomacy.errors import NotFoundError, ValidationError
from citydiplomacy.model import Provenance
from citydiplomacy.store import SCHEMA_HEAD, Store, schema

PW = "correct horse battery"
REAL_HASHER = accounts._HASHER


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch):
    """Argon2id with small parameters: the tests hash often; one test checks the real ones."""
    monkeypatch.setattr(accounts, "_HASHER", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1,
                                                           type=Type.ID))


class Clock:
    def __init__(self):
        self.now = dt.datetime(2026, 3, 1, 12, 0, 0, tzinfo=dt.timezone.utc)

    def __call__(self):
        return self.now

    def advance(self, seconds: float):
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    monkeypatch.setattr(accounts, "_utcnow", c)
    return c


@pytest.fixture
def store(fresh_store):
    return fresh_store


def _rows(store, table):
    with store.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(table))]


def _actions(store):
    return [r["action"] for r in reversed(accounts.audit_log(store, limit=1000))]


# -- users and passwords ------------------------------------------------------------------------

def test_passwords_are_stored_as_argon2id_hashes_never_as_typed(store, monkeypatch):
    monkeypatch.setattr(accounts, "_HASHER", REAL_HASHER)
    user = accounts.add_user(store, "maria", PW, "editor")
    assert user == User(id=user.id, name="maria", role="editor")
    (row,) = _rows(store, schema.users)
    assert row["password_hash"].startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert PW not in row["password_hash"]
    store.close()
    if store.path is not None:      # SQLite: the file and its WAL, byte for byte
        raw = store.path.read_bytes() + (store.path.with_name(store.path.name + "-wal").read_bytes()
                                         if store.path.with_name(store.path.name + "-wal").exists() else b"")
    else:                           # a server database: every row of every table, as text
        from sqlalchemy import inspect

        with store.connect() as conn:
            raw = "\n".join(r[0] for t in inspect(conn).get_table_names()
                            for r in conn.exec_driver_sql(f'SELECT CAST(x AS text) FROM "{t}" x')).encode()
    assert PW.encode() not in raw
    assert accounts.verify_login(store, "maria", PW) == user


def test_the_same_password_gets_a_different_hash_each_time(store):
    accounts.add_user(store, "a.one", PW)
    accounts.add_user(store, "b.two", PW)
    h1, h2 = (r["password_hash"] for r in _rows(store, schema.users))
    assert h1 != h2


def test_names_are_kept_in_lower_case_and_unique_in_any_case(store):
    u = accounts.add_user(store, "  Maria.Lopez ", PW)
    assert u.name == "maria.lopez"
    assert accounts.get_user(store, "MARIA.LOPEZ") == u
    with pytest.raises(ValidationError, match="already a user named 'maria.lopez'") as e:
        accounts.add_user(store, "maria.LOPEZ", PW)
    assert e.value.field == "name"
    assert accounts.verify_login(store, "Maria.Lopez", PW) == u


@pytest.mark.parametrize("name", ["", " ", "-dash", "with space", "é", "a" * 65, "semi;colon", "x/y"])
def test_bad_names_are_refused_with_the_rule(store, name):
    with pytest.raises(ValidationError, match="letters a-z, digits") as e:
        accounts.add_user(store, name, PW)
    assert e.value.field == "name"


@pytest.mark.parametrize("name", ["cli", "Anonymous"])
def test_audit_pseudonyms_are_reserved(store, name):
    with pytest.raises(ValidationError, match="reserved"):
        accounts.add_user(store, name, PW)


def test_bad_role_and_short_password_are_refused(store):
    with pytest.raises(ValidationError, match="'root' is not a role; use one of viewer, editor, admin") as e:
        accounts.add_user(store, "maria", PW, "root")
    assert e.value.field == "role"
    with pytest.raises(ValidationError, match="at least 10 characters") as e:
        accounts.add_user(store, "maria", "123456789")
    assert e.value.field == "password"
    with pytest.raises(ValidationError, match="not be the user name"):
        accounts.add_user(store, "maria.lopez", "Maria.Lopez")
    assert accounts.list_users(store) == []
    accounts.add_user(store, "maria", "1234567890")  # exactly 10 is enough


def test_roles_are_ordered(store):
    v, e, a = (User(1, "v", "viewer"), User(2, "e", "editor"), User(3, "a", "admin"))
    assert v.can("viewer") and not v.can("editor") and not v.can("admin")
    assert e.can("viewer") and e.can("editor") and not e.can("admin")
    assert a.can("viewer") and a.can("editor") and a.can("admin")
    assert accounts.ROLES == ("viewer", "editor", "admin")
    with pytest.raises(ValidationError):
        a.can("superuser")


def test_list_get_set_role_and_set_password(store):
    accounts.add_user(store, "zoe", PW)
    accounts.add_user(store, "adam", PW, "admin")
    assert [u.name for u in accounts.list_users(store)] == ["adam", "zoe"]
    assert accounts.get_user(store, "nobody") is None
    accounts.set_role(store, "zoe", "editor")
    assert accounts.get_user(store, "zoe").role == "editor"
    with pytest.raises(ValidationError):
        accounts.set_role(store, "zoe", "boss")
    accounts.set_password(store, "zoe", "a new long passphrase")
    with pytest.raises(AuthError):
        accounts.verify_login(store, "zoe", PW)
    assert accounts.verify_login(store, "zoe", "a new long passphrase").role == "editor"
    with pytest.raises(ValidationError, match="too short"):
        accounts.set_password(store, "zoe", "short")
    with pytest.raises(NotFoundError, match="no user named 'zo'") as e:
        accounts.set_role(store, "zo", "admin")
    assert e.value.suggestions == ["zoe"]
    with pytest.raises(NotFoundError):
        accounts.set_password(store, "nobody", PW)


def test_an_observatory_works_in_place_of_a_store(tmp_path):
    obs = citydiplomacy.open(home=tmp_path, build=False)
    u = accounts.add_user(obs, "maria", PW)
    assert accounts.verify_login(obs, "maria", PW) == u
    obs.close()


# -- logging in ---------------------------------------------------------------------------------

def test_wrong_password_and_unknown_name_give_the_same_answer(store):
    accounts.add_user(store, "maria", PW)
    with pytest.raises(AuthError) as wrong:
        accounts.verify_login(store, "maria", "not the password")
    with pytest.raises(AuthError) as unknown:
        accounts.verify_login(store, "nobody", PW)
    assert str(wrong.value) == str(unknown.value) == "wrong name or password"
    assert wrong.value.retry_after is None and unknown.value.retry_after is None
    fails = [r for r in accounts.audit_log(store) if r["action"] == "login.fail"]
    assert {f["detail"]["reason"] for f in fails} == {"wrong password", "unknown name"}
    assert all(PW not in json.dumps(r) and "not the password" not in json.dumps(r)
               for r in accounts.audit_log(store))


def test_a_disabled_account_cannot_log_in_or_use_its_token_or_session(store):
    u = accounts.add_user(store, "maria", PW)
    _, secret = accounts.create_token(store, u, "script")
    sid = accounts.create_session(store, u)
    with store.transaction() as conn:
        conn.execute(update(schema.users).values(disabled=True))
    with pytest.raises(AuthError, match="^wrong name or password$"):
        accounts.verify_login(store, "maria", PW)
    assert accounts.user_for_token(store, secret) is None
    assert accounts.user_for_session(store, sid) is None


def test_a_corrupt_hash_is_a_failed_login_not_a_crash(store):
    accounts.add_user(store, "maria", PW)
    with store.transaction() as conn:
        conn.execute(update(schema.users).values(password_hash="not a hash"))
    with pytest.raises(AuthError, match="wrong name or password"):
        accounts.verify_login(store, "maria", PW)


def test_hash_is_upgraded_when_the_parameters_change(store, monkeypatch):
    accounts.add_user(store, "maria", PW)
    old = _rows(store, schema.users)[0]["password_hash"]
    assert "m=64,t=1,p=1" in old
    monkeypatch.setattr(accounts, "_HASHER", PasswordHasher(time_cost=2, memory_cost=128, parallelism=1,
                                                           type=Type.ID))
    accounts.verify_login(store, "maria", PW)
    new = _rows(store, schema.users)[0]["password_hash"]
    assert "m=128,t=2,p=1" in new and new.startswith("$argon2id$")
    accounts.verify_login(store, "maria", PW)
    assert _rows(store, schema.users)[0]["password_hash"] == new  # not rehashed again


def _fail(store, name="maria", client="", password="wrong password!"):
    with pytest.raises(AuthError) as e:
        accounts.verify_login(store, name, password, client=client)
    return e.value


def test_throttling_starts_at_the_fifth_failure_and_the_wait_doubles(store, clock):
    accounts.add_user(store, "maria", PW)
    for _ in range(4):
        assert _fail(store).retry_after is None
        clock.advance(1)
    assert _fail(store).retry_after is None  # the 5th failure is itself answered normally
    refused = _fail(store, password=PW)  # now even the right password waits
    assert refused.retry_after == pytest.approx(2.0)
    assert "too many failed logins" in str(refused) and "try again in 2 s" in str(refused)
    clock.advance(1.5)
    assert _fail(store, password=PW).retry_after == pytest.approx(0.5)

    waits = []
    for _ in range(12):
        clock.advance(_fail(store, password=PW).retry_after)  # wait exactly as long as told
        assert _fail(store).retry_after is None  # allowed, but wrong
        waits.append(_fail(store, password=PW).retry_after)
    assert waits == [4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900, 900]

    clock.advance(900)
    assert accounts.verify_login(store, "maria", PW).name == "maria"  # a success clears the name
    for _ in range(4):
        assert _fail(store).retry_after is None


def test_refused_attempts_are_not_counted(store, clock):
    accounts.add_user(store, "maria", PW)
    for _ in range(5):
        _fail(store)
    for _ in range(50):  # hammering while throttled does not lengthen the wait
        assert _fail(store).retry_after == pytest.approx(2.0)
    clock.advance(2)
    assert accounts.verify_login(store, "maria", PW).name == "maria"


def test_the_count_starts_afresh_after_fifteen_quiet_minutes(store, clock):
    accounts.add_user(store, "maria", PW)
    for _ in range(4):
        _fail(store)
    clock.advance(15 * 60)
    for _ in range(4):
        assert _fail(store).retry_after is None
    clock.advance(1)
    _fail(store)
    assert _fail(store, password=PW).retry_after == pytest.approx(2.0)
    clock.advance(2 + 15 * 60)  # the wait, then a quarter of an hour without failures
    for _ in range(4):
        assert _fail(store).retry_after is None


def test_throttling_by_client_covers_every_name_it_tries(store, clock):
    accounts.add_user(store, "maria", PW)
    for i in range(5):
        _fail(store, name=f"guess{i}", client="203.0.113.9")
    refused = _fail(store, name="maria", client="203.0.113.9", password=PW)
    assert refused.retry_after == pytest.approx(2.0)
    # the same name from elsewhere is not held up by one client's failures
    assert accounts.verify_login(store, "maria", PW, client="198.51.100.7").name == "maria"
    clock.advance(2)
    assert accounts.verify_login(store, "maria", PW, client="203.0.113.9").name == "maria"


def test_throttling_by_name_covers_every_client(store, clock):
    accounts.add_user(store, "maria", PW)
    for i in range(5):
        _fail(store, client=f"10.0.0.{i}")
    assert _fail(store, client="10.9.9.9", password=PW).retry_after == pytest.approx(2.0)
    # an unknown name is throttled just like a known one (no hint at which names exist)
    for i in range(5):
        _fail(store, name="nobody", client=f"10.1.0.{i}")
    assert _fail(store, name="nobody", client="10.9.9.8").retry_after == pytest.approx(2.0)


def test_a_burst_of_parallel_guesses_does_not_slip_past_the_count(store, clock):
    """Attempts arriving together are counted in order: only the first five are checked."""
    from concurrent.futures import ThreadPoolExecutor

    accounts.add_user(store, "maria", PW)

    def attempt(i):
        try:
            accounts.verify_login(store, "maria", f"guess number {i}", client="203.0.113.9")
        except AuthError as exc:
            return exc.retry_after

    with ThreadPoolExecutor(max_workers=16) as pool:
        waits = list(pool.map(attempt, range(40)))
    assert sum(w is None for w in waits) <= accounts.MAX_FAILURES
    assert all(w >= 2.0 - 1e-6 for w in waits if w is not None)  # in-flight attempts count too
    assert len(_rows(store, schema.login_failures)) == 2 * sum(w is None for w in waits)


def test_old_failures_are_swept(store, clock):
    for _ in range(3):
        _fail(store, name="nobody", client="10.0.0.1")
    assert len(_rows(store, schema.login_failures)) == 6
    clock.advance(accounts.KEEP_FAILURES + 1)
    _fail(store, name="other")
    assert [r["key"] for r in _rows(store, schema.login_failures)] == ["name:other"]


# -- API tokens ---------------------------------------------------------------------------------

def test_a_token_is_shown_once_and_stored_as_its_sha256(store, clock):
    u = accounts.add_user(store, "maria", PW, "editor")
    tid, secret = accounts.create_token(store, u, "nightly import")
    assert re.fullmatch(r"cdp_[A-Za-z0-9_-]{40}", secret)
    (row,) = _rows(store, schema.api_tokens)
    assert row["token_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in json.dumps(row) and secret[4:] not in json.dumps(row)
    assert accounts.user_for_token(store, secret) == u
    (listed,) = accounts.list_tokens(store, u)
    assert listed == {"id": tid, "label": "nightly import", "created_at": "2026-03-01T12:00:00+00:00",
                      "last_used_at": "2026-03-01T12:00:00+00:00", "revoked_at": None}
    assert accounts.create_token(store, u, "other")[1] != secret


def test_last_used_is_recorded_at_most_once_a_minute(store, clock):
    u = accounts.add_user(store, "maria", PW)
    _, secret = accounts.create_token(store, u, "script")
    assert accounts.list_tokens(store, u)[0]["last_used_at"] is None
    accounts.user_for_token(store, secret)
    clock.advance(30)
    accounts.user_for_token(store, secret)
    assert accounts.list_tokens(store, u)[0]["last_used_at"] == "2026-03-01T12:00:00+00:00"
    clock.advance(61)
    accounts.user_for_token(store, secret)
    assert accounts.list_tokens(store, u)[0]["last_used_at"] == "2026-03-01T12:01:31+00:00"


def test_a_revoked_token_is_refused(store):
    u = accounts.add_user(store, "maria", PW)
    tid, secret = accounts.create_token(store, u, "script")
    keep_id, keep = accounts.create_token(store, u, "other script")
    accounts.revoke_token(store, u, tid)
    assert accounts.user_for_token(store, secret) is None
    assert accounts.user_for_token(store, keep) == u
    revoked = accounts.list_tokens(store, u)[0]
    assert revoked["id"] == tid and revoked["revoked_at"] is not None
    accounts.revoke_token(store, u, tid)  # again: nothing changes, no error
    assert accounts.list_tokens(store, u)[0]["revoked_at"] == revoked["revoked_at"]
    assert _actions(store).count("token.revoke") == 1


@pytest.mark.parametrize("secret", ["", "cdp_", "cdp_short", "Bearer x", "cdp_" + "a" * 40,
                                    "cdp_" + "a" * 41, "x" * 10_000, None])
def test_unknown_or_malformed_tokens_are_refused(store, secret):
    u = accounts.add_user(store, "maria", PW)
    accounts.create_token(store, u, "script")
    assert accounts.user_for_token(store, secret) is None


def test_only_the_owner_or_an_admin_revokes_a_token(store):
    maria = accounts.add_user(store, "maria", PW, "editor")
    joan = accounts.add_user(store, "joan", PW, "editor")
    boss = accounts.add_user(store, "boss", PW, "admin")
    tid, secret = accounts.create_token(store, maria, "script")
    with pytest.raises(NotFoundError, match="joan has no token"):
        accounts.revoke_token(store, joan, tid)
    assert accounts.user_for_token(store, secret) == maria
    with pytest.raises(NotFoundError):
        accounts.revoke_token(store, maria, 999)
    with pytest.raises(ValidationError):
        accounts.revoke_token(store, maria, "three")
    accounts.revoke_token(store, boss, tid)
    assert accounts.user_for_token(store, secret) is None
    (rec,) = [r for r in accounts.audit_log(store) if r["action"] == "token.revoke"]
    assert rec["user_name"] == "boss" and rec["target"] == "maria"
    assert accounts.list_tokens(store, joan) == []


def test_token_labels_are_checked(store):
    u = accounts.add_user(store, "maria", PW)
    with pytest.raises(ValidationError, match="label") as e:
        accounts.create_token(store, u, "   ")
    assert e.value.field == "label"
    with pytest.raises(ValidationError, match="too long"):
        accounts.create_token(store, u, "x" * 101)
    tid, _ = accounts.create_token(store, u, "  nightly \n import ")
    assert accounts.list_tokens(store, u)[0]["label"] == "nightly import"


def test_a_token_for_a_removed_user_cannot_be_created(store):
    u = accounts.add_user(store, "maria", PW)
    accounts.remove_user(store, "maria")
    with pytest.raises(NotFoundError):
        accounts.create_token(store, u, "script")


# -- web sessions -------------------------------------------------------------------------------

def test_sessions_expire(store, clock):
    u = accounts.add_user(store, "maria", PW)
    sid = accounts.create_session(store, u, hours=1)
    assert len(sid) >= 43 and accounts.user_for_session(store, sid) == u
    (row,) = _rows(store, schema.web_sessions)
    assert row["id_hash"] == hashlib.sha256(sid.encode()).hexdigest() and sid not in json.dumps(row)
    assert row["expires_at"] == "2026-03-01T13:00:00+00:00"
    clock.advance(3599)
    assert accounts.user_for_session(store, sid) == u
    clock.advance(1)
    assert accounts.user_for_session(store, sid) is None
    accounts.create_session(store, u)  # sweeps the expired one
    assert len(_rows(store, schema.web_sessions)) == 1


def test_the_default_session_lasts_twelve_hours(store, clock):
    u = accounts.add_user(store, "maria", PW)
    sid = accounts.create_session(store, u)
    clock.advance(12 * 3600 - 1)
    assert accounts.user_for_session(store, sid) == u
    clock.advance(1)
    assert accounts.user_for_session(store, sid) is None


def test_ending_a_session_logs_out_that_session_only(store):
    u = accounts.add_user(store, "maria", PW)
    a, b = accounts.create_session(store, u), accounts.create_session(store, u)
    assert a != b
    accounts.end_session(store, a)
    assert accounts.user_for_session(store, a) is None
    assert accounts.user_for_session(store, b) == u
    accounts.end_session(store, a)  # twice: no error
    accounts.end_session(store, "never existed")
    for bad in ("", None, "x" * 5000):
        assert accounts.user_for_session(store, bad) is None
    with pytest.raises(ValidationError):
        accounts.create_session(store, u, hours=0)


def test_changing_the_password_ends_sessions_but_keeps_tokens(store):
    u = accounts.add_user(store, "maria", PW)
    sid = accounts.create_session(store, u)
    _, secret = accounts.create_token(store, u, "script")
    accounts.set_password(store, "maria", "another long passphrase")
    assert accounts.user_for_session(store, sid) is None
    assert accounts.user_for_token(store, secret) == u


def test_a_session_reflects_the_current_role(store):
    u = accounts.add_user(store, "maria", PW, "viewer")
    sid = accounts.create_session(store, u)
    _, secret = accounts.create_token(store, u, "script")
    accounts.set_role(store, "maria", "editor")
    assert accounts.user_for_session(store, sid).role == "editor"
    assert accounts.user_for_token(store, secret).role == "editor"


# -- removing users -----------------------------------------------------------------------------

def test_removing_a_user_ends_sessions_and_tokens(store):
    u = accounts.add_user(store, "maria", PW, "editor")
    sid = accounts.create_session(store, u)
    _, secret = accounts.create_token(store, u, "script")
    accounts.audit(store, u, "tie.add", "barcelona-es → paris-fr")
    accounts.remove_user(store, "Maria")
    assert accounts.get_user(store, "maria") is None
    assert accounts.user_for_session(store, sid) is None
    assert accounts.user_for_token(store, secret) is None
    assert _rows(store, schema.api_tokens) == [] and _rows(store, schema.web_sessions) == []
    with pytest.raises(AuthError):
        accounts.verify_login(store, "maria", PW)
    # a new user with the same name (and perhaps the same id) inherits nothing
    again = accounts.add_user(store, "maria", PW)
    assert accounts.user_for_token(store, secret) is None
    assert accounts.list_tokens(store, again) == []
    # the log keeps what the removed user did
    assert [r["action"] for r in accounts.audit_log(store, user="maria")] == ["tie.add", "token.create"]
    rec = [r for r in accounts.audit_log(store) if r["action"] == "user.remove"][0]
    assert rec["detail"] == {"role": "editor", "tokens_revoked": 1, "sessions_ended": 1}
    with pytest.raises(NotFoundError, match="no user named 'nobody'"):
        accounts.remove_user(store, "nobody")


# -- audit log ----------------------------------------------------------------------------------

def test_every_account_change_is_audited(store, clock):
    admin = accounts.add_user(store, "boss", PW, "admin", by="cli")
    u = accounts.add_user(store, "maria", PW, by=admin)
    accounts.set_role(store, "maria", "editor", by=admin)
    accounts.set_password(store, "maria", "another long passphrase")
    tid, _ = accounts.create_token(store, u, "script")
    accounts.revoke_token(store, u, tid)
    accounts.verify_login(store, "maria", "another long passphrase", client="192.0.2.1")
    with pytest.raises(AuthError):
        accounts.verify_login(store, "maria", PW, client="192.0.2.1")
    accounts.remove_user(store, "maria", by=admin)
    log = list(reversed(accounts.audit_log(store)))
    assert [(r["user_name"], r["action"], r["target"]) for r in log] == [
        ("cli", "user.add", "boss"),
        ("boss", "user.add", "maria"),
        ("boss", "user.role", "maria"),
        ("cli", "user.passwd", "maria"),
        ("maria", "token.create", "maria"),
        ("maria", "token.revoke", "maria"),
        ("maria", "login.ok", "maria"),
        ("anonymous", "login.fail", "maria"),
        ("boss", "user.remove", "maria"),
    ]
    assert log[2]["detail"] == {"old": "viewer", "new": "editor"}
    assert log[6]["detail"] == {"client": "192.0.2.1"}
    assert log[0]["at"] == "2026-03-01T12:00:00+00:00"
    dump = json.dumps(log)
    assert PW not in dump and "another long passphrase" not in dump


def test_audit_appends_rows_newest_first(store, clock):
    editor = User(7, "maria", "editor")
    accounts.audit(store, editor, "tie.add", "barcelona-es → paris-fr",
                   {"type": "twinned_with", "since": dt.date(1991, 1, 1)})
    clock.advance(5)
    accounts.audit(store, None, "align", "text")
    accounts.audit(store, "Ops", "import.apply", "twins.csv", {"created": {"ties": 3}}, channel="cli")
    log = accounts.audit_log(store)
    assert [r["action"] for r in log] == ["import.apply", "align", "tie.add"]
    assert [r["user_name"] for r in log] == ["Ops", "anonymous", "maria"]
    assert [r["channel"] for r in log] == ["cli", None, None]
    assert log[2]["detail"] == {"type": "twinned_with", "since": "1991-01-01"}
    assert log[1]["detail"] is None and log[1]["at"] == "2026-03-01T12:00:05+00:00"
    assert set(log[0]) == {"id", "at", "user_name", "action", "target", "detail", "channel"}
    assert [r["action"] for r in accounts.audit_log(store, limit=1)] == ["import.apply"]
    assert [r["action"] for r in accounts.audit_log(store, user="Maria")] == ["tie.add"]
    assert [r["action"] for r in accounts.audit_log(store, user="Ops")] == ["import.apply"]
    assert [r["action"] for r in accounts.audit_log(store, user="anonymous")] == ["align"]
    assert [r["action"] for r in accounts.audit_log(store, channel="cli")] == ["import.apply"]
    with pytest.raises(ValidationError):
        accounts.audit_log(store, limit=0)
    with pytest.raises(ValidationError, match="unknown channel"):
        accounts.audit_log(store, channel="email")
    with pytest.raises(ValidationError):
        accounts.audit(store, editor, "", "x")


def test_a_failed_change_leaves_no_audit_row(store):
    accounts.add_user(store, "maria", PW)
    n = len(accounts.audit_log(store))
    for call in (lambda: accounts.add_user(store, "maria", PW),
                 lambda: accounts.set_role(store, "nobody", "admin"),
                 lambda: accounts.remove_user(store, "nobody")):
        with pytest.raises((ValidationError, NotFoundError)):
            call()
    assert len(accounts.audit_log(store)) == n


# -- the store: migration, rebuild, export -------------------------------------------------------

@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection", "ignore:autogenerate skipping")
def test_migrations_create_the_account_tables_exactly(fresh_store):
    """Alembic's own comparison finds nothing to change in the account tables."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with fresh_store.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), schema.metadata)
    ours = [d for d in diffs if any(t in repr(d) for t in schema.ACCOUNT_TABLES)]
    assert ours == []
    with fresh_store.connect() as conn:
        fks = inspect(conn).get_foreign_keys("api_tokens") + inspect(conn).get_foreign_keys("web_sessions")
    assert {fk["options"].get("ondelete") for fk in fks} == {"CASCADE"}


def test_a_0002_store_is_migrated_and_keeps_its_data(tmp_path):
    path = tmp_path / "old.sqlite"
    old = Store(path, migrate=False)
    old.migrate("0002")
    assert old.schema_version() == "0002"
    with old.transaction() as conn:
        run = old.start_run(conn, "test")
        prov = old.add_provenance(conn, Provenance(source="t", licence="CC0"), run)
        conn.execute(insert(schema.actors).values(id="x", name="X", kind="city", layer="micro",
                                                  provenance_id=prov))
        conn.execute(insert(schema.initiatives).values(actor_id="x", title="Plan", provenance_id=prov))
    with old.connect() as conn:
        assert not inspect(conn).has_table("users")
    old.close()

    new = Store(path)
    assert new.schema_version() == SCHEMA_HEAD
    with new.connect() as conn:
        assert schema.ACCOUNT_TABLES <= set(inspect(conn).get_table_names())
        assert conn.execute(select(schema.actors.c.name)).scalar() == "X"
        assert conn.execute(select(schema.initiatives.c.title)).scalar() == "Plan"
    u = accounts.add_user(new, "maria", PW)
    assert accounts.verify_login(new, "maria", PW) == u
    new.close()


def test_the_0003_migration_can_be_undone(tmp_path):
    from alembic import command

    from citydiplomacy.store.db import _alembic_config

    s = Store(tmp_path / "citydip.sqlite")
    accounts.add_user(s, "maria", PW)
    with s.engine.begin() as conn:
        command.downgrade(_alembic_config(conn), "0002")
    assert s.schema_version() == "0002"
    with s.connect() as conn:
        assert not set(inspect(conn).get_table_names()) & schema.ACCOUNT_TABLES
    s.migrate()
    assert s.schema_version() == SCHEMA_HEAD
    s.close()


@pytest.fixture
def small_home(tmp_path, monkeypatch):
    """A home whose store holds a small dataset (the states only: a few seconds)."""
    monkeypatch.setattr(build_mod, "STEPS", [s for s in build_mod.STEPS if s[0] == "states"])
    home = tmp_path / "home"
    citydiplomacy.open(home=home).close()
    return home


def test_init_force_keeps_users_tokens_sessions_and_the_audit_log(small_home):
    obs = citydiplomacy.open(home=small_home, build=False)
    u = accounts.add_user(obs, "maria", PW, "admin")
    _, secret = accounts.create_token(obs, u, "script")
    sid = accounts.create_session(obs, u)
    accounts.audit(obs, u, "tie.add", "x → y")
    actors_before = obs.status()["actors"]["total"]
    obs.init(force=True)
    assert obs.status()["actors"]["total"] == actors_before > 0
    assert accounts.list_users(obs) == [u]
    assert accounts.verify_login(obs, "maria", PW) == u
    assert accounts.user_for_token(obs, secret) == u
    assert accounts.user_for_session(obs, sid) == u
    assert "tie.add" in _actions(obs)
    obs.close()


def test_a_store_with_only_users_still_gets_the_dataset(tmp_path, monkeypatch):
    """Adding users first (``citydip user add`` on a fresh install) does not count as data."""
    monkeypatch.setattr(build_mod, "STEPS", [s for s in build_mod.STEPS if s[0] == "states"])
    obs = citydiplomacy.open(home=tmp_path, build=False)
    accounts.add_user(obs, "maria", PW)
    assert obs.is_empty()
    obs.close()
    obs = citydiplomacy.open(home=tmp_path)
    assert not obs.is_empty() and accounts.get_user(obs, "maria") is not None
    obs.close()


@pytest.mark.parametrize("fmt", ["datapackage", "csv", "json"])
def test_accounts_are_never_exported(small_home, tmp_path, fmt):
    obs = citydiplomacy.open(home=small_home, build=False)
    u = accounts.add_user(obs, "zzsecretuser", PW, "admin")
    _, secret = accounts.create_token(obs, u, "zzlabel")
    accounts.audit(obs, u, "actor.edit", "zzaudittarget")
    out = tmp_path / "out"
    obs.export(out, fmt=fmt)
    obs.close()
    files = [p for p in out.rglob("*") if p.is_file()]
    assert files
    for p in files:
        body = p.read_text(encoding="utf-8", errors="replace")
        for needle in ("zzsecretuser", "zzlabel", "zzaudittarget", "argon2", secret,
                       "password_hash", "token_hash", "login_failures"):
            assert needle not in body, (p.name, needle)


# -- the command line -----------------------------------------------------------------------------

runner = CliRunner()


def _app():
    """``citydip`` if ``user`` and ``token`` are registered there, else the two groups alone."""
    from citydiplomacy import cli
    from citydiplomacy.cli_accounts import token_app, user_app

    if {"user", "token"} <= {g.name for g in cli.app.registered_groups}:
        return cli.app
    app = typer.Typer()
    app.add_typer(user_app, name="user")
    app.add_typer(token_app, name="token")
    return app


@pytest.fixture
def cli_home(tmp_path, monkeypatch):
    from citydiplomacy import cli

    home = tmp_path / "clihome"
    monkeypatch.setenv("CITYDIP_HOME", str(home))
    monkeypatch.setattr(cli.state, "home", str(home))
    return home


def run(*args, input=None):
    return runner.invoke(_app(), list(args), input=input)


def _store_of(home):
    return Store(home / "citydip.sqlite")


def test_cli_user_add_list_role_passwd_remove(cli_home):
    r = run("user", "add", "Maria", "--role", "editor", "--password-stdin", input=PW + "\n")
    assert r.exit_code == 0, r.output
    assert "added user maria (editor)" in r.stderr
    r = run("user", "list", "--format", "json")
    assert json.loads(r.stdout) == [{"id": 1, "name": "maria", "role": "editor"}]
    assert run("user", "role", "maria", "admin").exit_code == 0
    assert run("user", "passwd", "maria", "--password-stdin", input="a new long passphrase\n").exit_code == 0
    with _store_of(cli_home) as s:
        assert accounts.verify_login(s, "maria", "a new long passphrase").role == "admin"
    r = run("user", "audit", "--format", "json")
    me = getpass.getuser()      # the command line acts as the operating-system user
    assert [(a["user_name"], a["action"], a["channel"]) for a in json.loads(r.stdout)] == [
        ("maria", "login.ok", None),
        (me, "user.passwd", "cli"), (me, "user.role", "cli"), (me, "user.add", "cli")]
    assert run("audit", "--format", "json").stdout == r.stdout          # also at the top level
    assert run("user", "remove", "maria").exit_code == 0
    r = run("user", "list")
    assert r.exit_code == 0 and "no users yet" in r.stderr


def test_cli_errors_are_one_line_and_exit_1(cli_home):
    run("user", "add", "maria", "--password-stdin", input=PW + "\n")
    cases = [
        (("user", "add", "maria", "--password-stdin"), PW + "\n", "already a user named 'maria'"),
        (("user", "add", "bob", "--password-stdin"), "short\n", "at least 10 characters"),
        (("user", "add", "bob", "--password-stdin"), "", "no password on standard input"),
        (("user", "add", "bad name", "--password-stdin"), PW + "\n", "not a usable user name"),
        (("user", "add", "bob"), None, "with --password-stdin"),  # no terminal to ask on
        (("user", "remove", "mara"), None, "no user named 'mara'"),
        (("user", "passwd", "nobody", "--password-stdin"), PW + "\n", "no user named 'nobody'"),
        (("token", "create", "nobody", "--label", "x"), None, "no user named 'nobody'"),
        (("token", "create", "maria", "--label", " "), None, "label"),
        (("token", "revoke", "maria", "42"), None, "maria has no token 42"),
    ]
    for args, stdin, message in cases:
        r = run(*args, input=stdin)
        assert r.exit_code == 1, (args, r.output)
        assert r.stderr.startswith("error: ") and message in r.stderr, (args, r.stderr)
        assert "Traceback" not in r.output
        lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
        assert len(lines) <= 2, lines  # the error, and perhaps "closest matches: ..."
    assert "closest matches: maria" in run("user", "remove", "mara").stderr
    r = run("user", "role", "maria", "root")
    assert r.exit_code == 2 and "root" in r.stderr  # not a choice: a usage error
    with _store_of(cli_home) as s:
        assert [u.name for u in accounts.list_users(s)] == ["maria"]


def test_cli_asks_for_the_password_twice_on_a_terminal(cli_home, monkeypatch):
    from citydiplomacy import cli_accounts

    monkeypatch.setattr(cli_accounts, "_interactive", lambda: True)
    r = run("user", "add", "maria", input=f"{PW}\n{PW}\n")
    assert r.exit_code == 0, r.output
    assert PW not in r.output  # hidden
    r = run("user", "add", "joan", input=f"{PW}\nsomething else!\n{PW}\n{PW}\n")
    assert r.exit_code == 0 and "do not match" in r.output
    with _store_of(cli_home) as s:
        assert accounts.verify_login(s, "joan", PW).name == "joan"


def test_cli_tokens(cli_home):
    run("user", "add", "maria", "--role", "editor", "--password-stdin", input=PW + "\n")
    run("user", "add", "joan", "--password-stdin", input=PW + "\n")
    r = run("token", "create", "maria", "--label", "nightly [import]")
    assert r.exit_code == 0, r.output
    secret = r.stdout.strip()
    assert re.fullmatch(r"cdp_[A-Za-z0-9_-]{40}", secret)  # stdout holds the token alone
    assert "not shown again" in r.stderr and "nightly [import]" in r.stderr
    with _store_of(cli_home) as s:
        assert accounts.user_for_token(s, secret).name == "maria"
    r = run("token", "list", "maria", "--format", "json")
    (tok,) = json.loads(r.stdout)
    assert tok["label"] == "nightly [import]" and tok["revoked_at"] is None and secret not in r.stdout
    r = run("token", "revoke", "joan", str(tok["id"]))  # not joan's
    assert r.exit_code == 1 and "joan has no token" in r.stderr
    assert run("token", "revoke", "maria", str(tok["id"])).exit_code == 0
    with _store_of(cli_home) as s:
        assert accounts.user_for_token(s, secret) is None
    assert json.loads(run("token", "list", "maria", "-f", "json").stdout)[0]["revoked_at"]
    assert "token.revoke" in run("user", "audit", "--limit", "1").stdout


def test_cli_commands_have_help_with_an_example():
    from citydiplomacy.cli_accounts import token_app, user_app

    for group, app in (("user", user_app), ("token", token_app)):
        for cmd in app.registered_commands:
            assert "Example: `citydip " in cmd.callback.__doc__, cmd.name
        r = runner.invoke(app, ["--help"])
        assert r.exit_code == 0 and "Example" in r.stdout
