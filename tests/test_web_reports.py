"""The reports on the web, driven by a real browser (Playwright with Debian's chromium)
against a real uvicorn server over a private copy of the built store (with an index
build): the actor page's profile report and its charts' files (SVG, PNG), the alignment
report's upload page (view and download), its error messages; and the API routes of the
reports and their figures."""

from __future__ import annotations

import sys
import urllib.error
import urllib.request
from io import BytesIO
from pathlib import Path

import pytest
from pypdf import PdfReader

from webserver import CHROMIUM, chromium, serving, watched_page  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pdfgen import write_pdf  # noqa: E402
from vlrdoc import write_vlr  # noqa: E402

pytest.importorskip("uvicorn")
sync_api = pytest.importorskip("playwright.sync_api")
from citydiplomacy.reports.render import pdf_available  # noqa: E402
from conftest import app_args, copy_store  # noqa: E402

pytestmark = pytest.mark.skipif(pdf_available() is not None, reason=str(pdf_available()))
needs_browser = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at "
                                                                "/usr/bin/chromium (apt-get install chromium)")


@pytest.fixture(scope="module")
def server(built_home, tmp_path_factory):
    import citydiplomacy
    from citydiplomacy.web import create_app

    home = tmp_path_factory.mktemp("reports-web")
    obs = citydiplomacy.open(**copy_store(built_home, home), build=False)
    obs.build_index(replications=20)
    obs.close()
    app = create_app(**app_args(home), secret="test-secret-for-the-report-tests")
    with serving(app) as url:
        yield {"url": url, "app": app}


@pytest.fixture(scope="module")
def browser():
    with chromium(sync_api) as b:
        yield b


@pytest.fixture
def page(browser, server):
    with watched_page(browser, server["url"], timeout_ms=120_000) as pg:
        yield pg


@pytest.fixture(scope="module")
def vlr(tmp_path_factory):
    return write_vlr(tmp_path_factory.mktemp("docs") / "vlr-barcelona.pdf", pages=12)


def _get(url: str) -> tuple[int, dict, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=300) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


@needs_browser
def test_actor_page_links_its_profile_report(page):
    page.goto("/actors/barcelona-es")
    page.locator("#profile-report a", has_text="view").click()
    page.wait_for_url("**/actors/barcelona-es/report")
    assert page.locator("h1").inner_text() == "Diplomacy profile: Barcelona"
    # the figures are images with their text alternative; the axis ranks are there (an index is built)
    for name in ("ties-by-layer", "twinning-map", "ego-network", "axis-ranks", "sdg-coverage"):
        img = page.locator(f"#fig-{name} img")
        assert img.get_attribute("alt")
        assert page.evaluate("(el) => el.naturalWidth", img.element_handle()) > 100
    # the contents lead to the sections; each figure offers its SVG and PNG
    page.get_by_role("link", name="Twinning map").first.click()
    assert page.url.endswith("#twinning")
    with page.expect_download() as dl:
        page.locator("#fig-twinning-map a", has_text="PNG").click()
    assert Path(dl.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@needs_browser
def test_actor_page_offers_each_of_its_charts_as_svg_and_png(page):
    page.goto("/actors/barcelona-es")
    names = page.locator(".chart-files").evaluate_all("els => els.map(e => e.dataset.chart)")
    assert {"axis-scores", "axis-ranks", "tie-map", "ego-network"} <= set(names)
    # the radar's caption holds its text alternative and its files
    caption = page.locator("figure.radar-figure figcaption")
    assert "Axis scores from 0 to 100" in caption.inner_text()
    for name in names:
        svg = page.locator(f'.chart-files[data-chart="{name}"] a', has_text="SVG")
        assert svg.is_visible() and svg.get_attribute("aria-label").endswith(", as an SVG file")
        r = page.request.get(svg.get_attribute("href"))
        assert r.status == 200 and r.headers["content-type"] == "image/svg+xml"
        assert "<title" in r.text() and "<desc" in r.text()
    # a link downloads its file under the chart's name
    with page.expect_download() as dl:
        page.locator('.chart-files[data-chart="tie-map"] a', has_text="PNG").click()
    assert dl.value.suggested_filename == "tie-map.png"
    assert Path(dl.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@needs_browser
def test_upload_documents_view_and_download_the_alignment_report(page, vlr):
    page.goto("/reports/align")
    page.set_input_files("#f-files", str(vlr))
    page.fill("#f-city", "Barcelona")
    page.select_option("#f-mode", "light")
    page.get_by_role("button", name="View the report").click()
    page.wait_for_selector("h1")
    assert page.locator("h1").inner_text() == "Alignment report: Barcelona"
    assert page.locator("#fig-sdg-heatmap img").get_attribute("alt").startswith("Share of the passages")
    assert "vlr-barcelona.pdf, p. 1" in page.locator("#passages").inner_text()
    page.goto("/reports/align")
    page.set_input_files("#f-files", str(vlr))
    page.select_option("#f-lang", "es")
    page.select_option("#f-mode", "light")
    with page.expect_download() as dl:
        page.get_by_role("button", name="Download PDF").click()
    reader = PdfReader(dl.value.path())
    assert len(reader.pages) >= 4
    assert "Informe de alineación" in reader.pages[0].extract_text()


@needs_browser
def test_a_scanned_document_is_named_next_to_the_field(page, tmp_path):
    scan = write_pdf(tmp_path / "scan.pdf", scanned_pages=2)
    page.goto("/reports/align")
    page.set_input_files("#f-files", str(scan))
    page.select_option("#f-mode", "light")
    page.get_by_role("button", name="View the report").click()
    err = page.locator("#err-files").inner_text()
    assert "scan.pdf" in err and "no text layer (a scan?)" in err
    page.fill("#f-city", "Atlantisxx")
    page.get_by_role("button", name="View the report").click()   # the form forgot the file
    assert "choose at least one document" in page.locator("#err-files").inner_text()


def test_api_profile_report_and_its_figures(server):
    base = server["url"] + "/api/v1/actors/barcelona-es"
    status, headers, body = _get(base + "/report.pdf?lang=de")
    assert status == 200 and headers["content-type"] == "application/pdf"
    reader = PdfReader(BytesIO(body))
    assert "Diplomatieprofil: Barcelona" in reader.pages[0].extract_text()
    status, headers, svg = _get(base + "/charts/axis-ranks.svg")
    assert status == 200 and headers["content-type"].startswith("image/svg+xml")
    assert b'role="img"' in svg and b"<desc" in svg
    status, headers, png = _get(base + "/charts/ego-network.png?lang=fr")
    assert status == 200 and png[:4] == b"\x89PNG"
    status, _h, body = _get(base + "/charts/pie.svg")
    assert status == 404 and b"twinning-map" in body
    status, _h, body = _get(server["url"] + "/api/v1/actors/Barcelonaa/report.html")
    assert status == 404 and b"no actor matches" in body


def test_api_alignment_report(server, vlr):
    import httpx

    with open(vlr, "rb") as fh:
        r = httpx.post(server["url"] + "/api/v1/reports/align", timeout=300,
                       files=[("files", ("vlr.pdf", fh, "application/pdf"))],
                       data={"city": "Barcelona", "mode": "light", "format": "html", "lang": "fr"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "Rapport d’alignement : Barcelona" in r.text and r.text.count("<svg") == 4
    r = httpx.post(server["url"] + "/api/v1/reports/align", timeout=60,
                   files=[("files", ("empty.txt", b"", "text/plain"))], data={"mode": "light"})
    assert r.status_code == 422 and "the file is empty" in r.json()["detail"]
