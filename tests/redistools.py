"""The Redis server of the queue tests (RQ): skip, saying why, when the queue extra is not
installed or no server answers."""

from __future__ import annotations

import pytest


def connect_or_skip(url: str):
    """A Redis connection to ``url``, or the test skipped: the ``queue`` extra (rq, redis)
    missing, or no server at ``url``."""
    redis = pytest.importorskip("redis", reason="the queue extra (rq, redis) is not installed")
    pytest.importorskip("rq", reason="the queue extra (rq, redis) is not installed")
    conn = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        conn.ping()
    except redis.exceptions.RedisError as exc:
        pytest.skip(f"no Redis at {url}: {exc}")
    return conn
