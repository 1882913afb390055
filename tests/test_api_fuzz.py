"""Schemathesis against the API's OpenAPI document: generated requests — valid and
invalid — to every operation find no server error, and every answer is what the document
says (status codes, media types, bodies).

Runs in-process (ASGI) on a small store — the default dataset's Spanish part, exported
and imported into a fresh store — so that network measures and exports take
milliseconds, with an admin's token so that the writes are exercised too. The number of
examples per operation is bounded (``CITYDIP_FUZZ_EXAMPLES``, default 25) to keep the run
to a couple of minutes on two cores.

Integers beyond what the store holds are mixed in: every integer parameter, and every
actor reference (``ref``, ``actor``: a GeoNames id is a number), is replaced in about half
of the generated requests by one of ``OVERFLOW`` (2^63 and beyond, and negative numbers),
which must be a 404 or 422, never a 500.
"""

from __future__ import annotations

import os

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from schemathesis.checks import (  # noqa: E402
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

import citydiplomacy  # noqa: E402
from citydiplomacy import accounts  # noqa: E402
from citydiplomacy.web import create_app  # noqa: E402
from conftest import store_args  # noqa: E402

EXAMPLES = int(os.environ.get("CITYDIP_FUZZ_EXAMPLES", "25"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

#: numbers no stored id can be: SQLite's INTEGER ends at 2^63 - 1
OVERFLOW = [2**63, 2**63 + 1, 2**64, 10**20, 10**40, -(2**63) - 1, -(2**31), -1, 0]
#: string parameters that name an actor, which may be a GeoNames id
ACTOR_REFS = {"ref", "actor"}


def _is_integer(schema: dict) -> bool:
    if schema.get("type") == "integer" or "integer" in (schema.get("type") or []):
        return True
    return any(_is_integer(s) for s in schema.get("anyOf", []) + schema.get("oneOf", []))


def _overflowing(location: str):
    """A flatmap hook: the generated ``location`` parameters, each integer or actor reference
    among them replaced, in about half of the draws, by a number from ``OVERFLOW``."""
    def hook(context, values):
        params = context.operation.path_parameters if location == "path" else context.operation.query
        targets = {}
        for p in params:
            schema = p.definition.get("schema", {})
            if _is_integer(schema):
                targets[p.name] = st.sampled_from(OVERFLOW)
            elif p.name in ACTOR_REFS:
                targets[p.name] = st.sampled_from([str(n) for n in OVERFLOW])
        if not targets or not isinstance(values, (dict, type(None))):
            return st.just(values)
        values = values or {}
        required = {k: st.just(v) for k, v in values.items()}
        optional = {}
        for k, overflow in targets.items():
            if k in values:
                required[k] = st.one_of(st.just(values[k]), overflow)
            elif location == "query":
                optional[k] = overflow
        return st.fixed_dictionaries(required, optional=optional)
    hook.__name__ = f"flatmap_{'path_parameters' if location == 'path' else 'query'}"
    return hook


@pytest.fixture(scope="module")
def fuzz_app(built_home, tmp_path_factory):
    """The app over a small store (the Spanish part of the default dataset), with an admin."""
    work = tmp_path_factory.mktemp("fuzz")
    big = citydiplomacy.open(**store_args(built_home), build=False)
    big.export(work / "es", fmt="datapackage", country="ES")
    big.close()
    small = citydiplomacy.open(path=work / "citydip.sqlite", build=False)
    small.import_("datapackage", str(work / "es"))
    small.close()
    app = create_app(path=work / "citydip.sqlite", secret="fuzz")
    store = app.state.obs.store
    admin = accounts.add_user(store, "fuzzer", "a long fuzzing password", "admin")
    app.state.fuzz_token = accounts.create_token(store, admin, "schemathesis")
    yield app
    app.state.obs.close()


@pytest.fixture(scope="module")
def api_schema(fuzz_app):
    loaded = schemathesis.openapi.from_asgi("/api/v1/openapi.json", fuzz_app)
    loaded.hook("flatmap_path_parameters")(_overflowing("path"))
    loaded.hook("flatmap_query")(_overflowing("query"))
    return loaded


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_api_has_no_server_errors(case, fuzz_app):
    token_id, secret = fuzz_app.state.fuzz_token
    if case.path_parameters and case.path_parameters.get("token_id") == token_id:
        case.path_parameters["token_id"] = token_id + 1_000_000     # do not revoke our own token
    case.call_and_validate(headers={"Authorization": f"Bearer {secret}"}, checks=CHECKS)
