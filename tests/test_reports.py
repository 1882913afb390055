"""The reports (citydiplomacy.reports): both rendered for real cities and a real-text
document to HTML and PDF, the PDF read back with pypdf (pages, text, images); figures as
SVG and PNG with their text alternatives; clear messages for a missing city, an empty
document and a scanned PDF; the CLI."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from pypdf import PdfReader

from citydiplomacy.errors import NotFoundError, ValidationError
from citydiplomacy.reports import align_report, profile_report, to_html, write_report
from citydiplomacy.reports.alignment import accuracy
from citydiplomacy.reports.render import pdf_available

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pdfgen import write_pdf  # noqa: E402
from vlrdoc import city_texts, write_vlr  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
needs_pdf = pytest.mark.skipif(pdf_available() is not None, reason=str(pdf_available()))


def _images(reader: PdfReader) -> set[str]:
    """The distinct raster images the PDF holds (WeasyPrint shares one resource dictionary)."""
    names = set()
    for page in reader.pages:
        xo = page.get("/Resources", {}).get("/XObject") or {}
        for name, ref in xo.items():
            obj = ref.get_object()
            if obj.get("/Subtype") == "/Image":
                names.add(hashlib.sha1(obj.get_data()).hexdigest())
    return names


def _pdf_text(reader: PdfReader) -> str:
    return "\n".join(p.extract_text() or "" for p in reader.pages)


@pytest.fixture(scope="module")
def barcelona(obs):
    return profile_report(obs, "Barcelona")


@pytest.fixture(scope="module")
def vlr(tmp_path_factory) -> Path:
    return write_vlr(tmp_path_factory.mktemp("vlr") / "vlr-2025.pdf", pages=24)


@pytest.fixture(scope="module")
def aligned(obs, vlr):
    return align_report(obs, [vlr], city="Barcelona", mode="light")


# -- the profile report ------------------------------------------------------------------------

def test_profile_report_holds_every_section_with_figures_and_sources(barcelona, obs):
    ids = [s.id for s in barcelona.sections]
    assert ids == ["ties", "networks", "twinning", "ego", "reach", "index", "activity", "sdg", "partners", "sources"]
    charts = barcelona.charts()
    assert {"ties-by-layer", "networks-by-axis", "twinning-map", "ego-network", "reach-channels",
            "activity-by-year", "sdg-coverage"} <= set(charts)
    for c in charts.values():
        assert c.alt and c.source and c.title
    p = obs.profile("Barcelona")
    text = barcelona.text()
    # the figures are the library's: twinning partners, networks, reach
    assert f"twinned with {len(p['twinning']['partners'])} cities" in text
    assert "C40 Cities Climate Leadership Group" in text and "97 of 97 held" in text
    assert "Saint Petersburg" in text and "suspended" in text          # a suspended twinning, marked
    assert f"reaches {p['reach']['count']} global institutions" in text
    # every tie source is listed with its licence
    sources = barcelona.sections[-1].tables[0].rows
    assert any("CC BY-SA 4.0" == r[1] for r in sources)
    assert sum(r[3] for r in sources) == len(obs.ties("Barcelona"))


@needs_pdf
def test_profile_report_pdf_reads_back(barcelona, tmp_path):
    path = write_report(barcelona, tmp_path / "barcelona.pdf")
    reader = PdfReader(str(path))
    assert 6 <= len(reader.pages) <= 20
    first = reader.pages[0].extract_text()
    assert "Diplomacy profile: Barcelona" in first and "Contents" in first
    # the table of contents gives each section its page (target-counter), in order
    toc = re.findall(r"^(\S.*?) \.{3,}\s*(\d+)$", first, flags=re.M)
    assert len(toc) == 10
    pages = [int(n) for _t, n in toc]
    assert pages == sorted(pages) and pages[-1] <= len(reader.pages)
    twin_page = dict(toc)["Twinning map"]
    assert "Twinning map" in reader.pages[int(twin_page) - 1].extract_text()
    text = _pdf_text(reader)
    assert "Antwerp" in text and "Figure 3. Twinning partners." in text
    assert f"1 / {len(reader.pages)}" in first               # page numbers
    assert len(_images(reader)) == len(barcelona.charts())    # every figure, as an image
    w, h = (float(x) for x in reader.pages[0].mediabox[2:])
    assert (round(w), round(h)) == (595, 842)                 # A4 in points


def test_profile_report_html_has_accessible_inline_figures(barcelona, tmp_path):
    path = write_report(barcelona, tmp_path / "barcelona.html")
    html = path.read_text(encoding="utf-8")
    assert html.count("<svg") == len(barcelona.charts())
    assert html.count('role="img"') == len(barcelona.charts())
    assert "<title id=\"t\">Twinning partners</title>" in html
    assert not re.search(r'(src|href)="(https?:)?//', html)          # nothing fetched from elsewhere
    assert 'href="#twinning"' in html and 'id="twinning"' in html


@pytest.mark.parametrize("lang, words", [("fr", "Carte des jumelages"), ("es", "Mapa de hermanamientos"),
                                         ("de", "Karte der Partnerschaften")])
def test_profile_report_speaks_four_languages(obs, lang, words):
    rep = profile_report(obs, "Nairobi", lang=lang, partners=False)
    html = to_html(rep)
    assert f'lang="{lang}"' in html and words in html


def test_every_report_message_is_translated():
    """Every message the reports' code marks has its translation in fr, es and de."""
    src = "\n".join((ROOT / "src" / "citydiplomacy" / "reports" / f).read_text(encoding="utf-8")
                    for f in ("profile.py", "alignment.py")) + \
        (ROOT / "src" / "citydiplomacy" / "reports" / "templates" / "report.html").read_text(encoding="utf-8")
    marked = set(re.findall(r'_\(\s*"((?:[^"\\]|\\.)*)"', src)) | set(re.findall(r"_\('([^']*)'\)", src))
    # implicit concatenation of literals inside _( ... ): join them
    for m in re.finditer(r'_\(((?:\s*"(?:[^"\\]|\\.)*"\s*)+)[,)]', src):
        marked.add("".join(re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(1))))
    marked = {m.replace('\\"', '"') for m in marked}
    marked = {m for m in marked if not any(o != m and o.startswith(m) for o in marked)}  # a literal's first part
    for lang in ("fr", "es", "de"):
        cat = yaml.safe_load((ROOT / "src" / "citydiplomacy" / "web" / "locales" / f"{lang}.yaml")
                             .read_text(encoding="utf-8"))
        missing = sorted(m for m in marked if m not in cat and m.strip())
        assert not missing, f"{lang}: {missing[:5]}"


def test_missing_city_is_named_with_the_closest(obs):
    with pytest.raises(NotFoundError, match="no actor matches 'Barcelonaa'"):
        profile_report(obs, "Barcelonaa")


# -- the alignment report ----------------------------------------------------------------------

def test_alignment_report_counts_the_documents_passages(aligned, vlr):
    sections = [s.id for s in aligned.sections]
    assert sections == ["coverage", "targets", "paris", "passages", "gaps", "city", "method"]
    coverage = aligned.sections[0].tables[0].rows
    texts = city_texts()[:24 * 4]
    assert sum(r[1] for r in coverage) >= len(texts) * 0.8   # most passages speak to at least one goal
    by_goal = {int(r[0].split()[0]): r[1] for r in coverage}
    top = max(by_goal, key=by_goal.get)
    labelled = {g: sum(1 for t in texts if g in t["sdgs"]) for g in range(1, 18)}
    assert labelled[top] >= max(labelled.values()) * 0.5      # the most covered goal is one the texts are about
    gaps = aligned.sections[4].tables[0].rows
    assert any("no evidence" in r[1] for r in gaps)          # the document's texts cover the first goals only
    passages = aligned.sections[3].tables[0].rows
    assert passages and all(r[1].startswith("vlr-2025.pdf, p. ") for r in passages)
    assert all(any(t["text"].startswith(r[3][:60]) for t in texts) for r in passages)


def test_alignment_report_states_the_measured_accuracy(aligned):
    acc = accuracy()
    method = aligned.sections[-1].paragraphs
    assert "Method used here: lexical." in method[0]
    assert f"{acc['modes']['light']['accuracy']:.3f}" in method[1] and acc["measured"] in method[1]


def test_the_accuracy_the_reports_quote_is_the_docs():
    """data/align/accuracy.yaml and docs/align-method.md's results agree."""
    acc = accuracy()
    page = (ROOT / "docs" / "align-method.md").read_text(encoding="utf-8")
    hy, li = acc["modes"]["hybrid"], acc["modes"]["light"]
    assert f"| hybrid, all ({acc['texts']} texts, en/fr/es/de) | **{hy['accuracy']:.3f}** | {hy['precision']:.3f} | " \
           f"{hy['recall']:.3f} | {hy['f1']:.3f} |" in page
    assert f"| light, all | {li['accuracy']:.3f} | {li['precision']:.3f} | {li['recall']:.3f} | {li['f1']:.3f} |" in page
    assert f"Results (test split, `python benchmarks/bench_align.py`, {acc['measured']})" in page
    assert f"F1 {acc['multilabel']['sdg']['f1']:.3f}" in page and f"F1 {acc['multilabel']['paris']['f1']:.3f}" in page


def test_alignment_report_compares_with_the_city(aligned, obs):
    city = next(s for s in aligned.sections if s.id == "city")
    assert "Barcelona" in city.title
    assert "city-comparison" in aligned.charts()
    rows = city.tables[0].rows
    assert len(rows) == 17 and {r[3] for r in rows} <= {"in both", "documents only", "register only", "neither"}


@needs_pdf
def test_alignment_report_pdf_and_html(aligned, tmp_path):
    pdf = PdfReader(str(write_report(aligned, tmp_path / "report.pdf")))
    assert 5 <= len(pdf.pages) <= 30
    text = _pdf_text(pdf)
    assert "Alignment report: Barcelona" in text and "Strongest passages per goal" in text
    assert "Method and accuracy" in text
    assert len(_images(pdf)) == len(aligned.charts()) == 4
    html = write_report(aligned, tmp_path / "report.html").read_text(encoding="utf-8")
    assert html.count("<svg") == 4 and "Coverage by SDG goal" in html


def test_alignment_report_in_hybrid_mode_names_the_matched_target(obs, tmp_path):
    pytest.importorskip("sentence_transformers")
    doc = write_pdf(tmp_path / "plan.pdf", [[t["text"] for t in city_texts() if 11 in t["sdgs"]][:6]])
    rep = align_report(obs, [doc], mode="hybrid")
    rows = rep.sections[3].tables[0].rows
    assert any(r[0] == "SDG 11" and re.match(r"11\.\w+: ", r[4]) for r in rows)
    assert "Method used here: lexical+minilm." in rep.sections[-1].paragraphs[0]


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("make, message", [
    (lambda d: write_pdf(d / "scan.pdf", scanned_pages=3), "no text layer (a scan?); run OCR first"),
    (lambda d: _write(d / "empty.txt", ""), "the file is empty"),
    (lambda d: _write(d / "blank.md", "\n\n  \n"), "no paragraphs of text found"),
    (lambda d: d / "missing.pdf", "no such file"),
    (lambda d: _write(d / "sheet.xlsx", "x"), "cannot read a '.xlsx' document"),
])
def test_bad_documents_say_what_to_do(obs, tmp_path, make, message):
    path = make(tmp_path)
    with pytest.raises(ValidationError, match=re.escape(message)) as info:
        align_report(obs, [path], mode="light")
    assert path.name in str(info.value)


def test_missing_city_is_refused_before_reading(obs, vlr):
    with pytest.raises(NotFoundError, match="no actor matches 'Atlantis City'"):
        align_report(obs, [vlr], city="Atlantis City", mode="light")


def test_report_file_names_its_format(barcelona, tmp_path):
    with pytest.raises(ValidationError, match="name the file .html or .pdf"):
        write_report(barcelona, tmp_path / "report.docx")
    with pytest.raises(ValidationError, match="the folder does not exist"):
        write_report(barcelona, tmp_path / "nowhere" / "report.html")
    assert not list(tmp_path.iterdir())


# -- figures -----------------------------------------------------------------------------------

def test_figures_as_svg_and_png(barcelona):
    chart = barcelona.charts()["twinning-map"]
    svg = chart.render("svg")
    assert svg.startswith(b"<?xml") and b"<desc id=\"d\">World map of the twinning ties of Barcelona" in svg
    png = chart.render("png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValidationError, match="use svg or png"):
        chart.render("gif")


# -- the command line --------------------------------------------------------------------------

def _cli(cli_env, *args):
    return subprocess.run([sys.executable, "-m", "citydiplomacy", *args], capture_output=True, text=True,
                          env=cli_env, timeout=600)


@needs_pdf
def test_cli_report_profile_and_align(cli_env, vlr, tmp_path):
    r = _cli(cli_env, "report", "profile", "Lyon", "--out", str(tmp_path / "lyon.pdf"), "--lang", "fr",
             "--no-partners")
    assert r.returncode == 0, r.stderr
    assert "Profil de diplomatie : Lyon" in PdfReader(str(tmp_path / "lyon.pdf")).pages[0].extract_text()
    r = _cli(cli_env, "report", "align", str(vlr), "--city", "Lyon", "--mode", "light",
             "--out", str(tmp_path / "vlr.html"))
    assert r.returncode == 0, r.stderr
    assert "Alignment report: Lyon" in (tmp_path / "vlr.html").read_text(encoding="utf-8")


def test_cli_report_errors_are_one_line(cli_env, tmp_path):
    scan = write_pdf(tmp_path / "scan.pdf", scanned_pages=2)
    r = _cli(cli_env, "report", "align", str(scan), "--out", str(tmp_path / "r.pdf"), "--mode", "light")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "no text layer (a scan?)" in r.stderr and "scan.pdf" in r.stderr
    r = _cli(cli_env, "report", "profile", "Nowhere-on-Sea", "--out", str(tmp_path / "r.pdf"))
    assert r.returncode == 1 and "no actor matches" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "r.pdf").exists()


@pytest.mark.parametrize("command", ["align", "profile"])
def test_report_commands_have_help_with_an_example(cli_env, command):
    r = _cli(cli_env, "report", command, "--help")
    assert r.returncode == 0 and "Example" in r.stdout and f"citydip report {command}" in r.stdout
