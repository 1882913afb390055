"""A real uvicorn server and Debian's chromium for the browser tests (shared by
test_web_ui.py and test_web_ego.py)."""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

CHROMIUM = Path("/usr/bin/chromium")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(app, start_seconds: float = 30) -> Iterator[str]:
    """Serve ``app`` on a free loopback port in a thread; yield its URL; stop it and close
    the app's observatory."""
    import uvicorn

    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + start_seconds
    while not srv.started:
        if time.time() > deadline or not thread.is_alive():
            raise RuntimeError("the web server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)
        app.state.obs.close()


@contextmanager
def chromium(sync_api) -> Iterator[object]:
    """Debian's chromium, headless, driven by Playwright (no browser is downloaded)."""
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield b
        finally:
            b.close()


@contextmanager
def watched_page(browser, base_url: str, *, timeout_ms: int = 30_000,
                 viewport: dict | None = None) -> Iterator[object]:
    """A page in a new browser context at ``base_url`` that fails the test, when it closes,
    on a JavaScript error or on anything the Content-Security-Policy refused."""
    context = browser.new_context(base_url=base_url, viewport=viewport or {"width": 1280, "height": 900})
    pg = context.new_page()
    errors: list[str] = []
    refused: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    pg.set_default_timeout(timeout_ms)
    try:
        yield pg
    finally:
        context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
    assert not refused, f"the Content-Security-Policy refused something on the page: {refused}"
