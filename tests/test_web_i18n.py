"""The page frame (navigation, headings, buttons) follows the framework browser's
language: en, fr, es, de from the catalogues in ``citydiplomacy/web/locales``."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from citydiplomacy.web import create_app, i18n
from citydiplomacy.web.pages import templates
from conftest import app_args, copy_store

FRAMED = ("base.html", "frameworks.html", "framework.html")
TEMPLATES = Path(i18n.__file__).parent / "templates"


@pytest.fixture(scope="module")
def client(built_home, tmp_path_factory):
    home = tmp_path_factory.mktemp("i18n-home")
    copy_store(built_home, home)
    mp = pytest.MonkeyPatch()
    mp.setenv("CITYDIP_WEB_WARM_ALIGN", "0")
    app = create_app(**app_args(home), secret="test-secret", read_only=True)
    with TestClient(app) as c:
        yield c
    app.state.obs.close()
    mp.undo()


def _messages() -> set[str]:
    """The messages the frame's templates mark for translation."""
    out = set()
    for name in FRAMED:
        source = (TEMPLATES / name).read_text(encoding="utf-8")
        for _, _, message in templates.env.extract_translations(source):
            found = message if isinstance(message, tuple) else (message,)
            out.update(m for m in found if isinstance(m, str))      # None: a variable's value (levels below)
    return out


def _levels(obs) -> set[str]:
    """Framework levels (goal, target, ...), singular and plural, and item facts' names."""
    out = set()
    for fw in obs.frameworks():
        for level in obs.framework(fw["id"])["counts"]:
            out |= {level, level + "s"}
    out.add("theme")                                           # the Paris Agreement's articles
    return out


@pytest.mark.parametrize("lang", ["fr", "es", "de"])
def test_every_message_of_the_frame_has_its_translation(obs, lang):
    messages = _messages() | _levels(obs)
    assert {"Overview", "Frameworks", "Global frameworks", "This %(level)s has no sub-items."} <= messages
    cat = i18n.catalogue(lang)
    assert sorted(messages - set(cat)) == []
    for m in messages:
        assert re.findall(r"%\(\w+\)s", m) == re.findall(r"%\(\w+\)s", cat[m]), (lang, m)
        assert cat[m] != m or m in ("Indices", "Engagements", "article", "articles", "Artikel"), (lang, m)


def test_frame_language_and_plural():
    assert [i18n.frame_language(x) for x in ("fr", "fr-CA", "es", "de", "en", "ru", "zh-Hans", None, "")] == \
        ["fr", "fr", "es", "de", "en", "en", "en", "en", "en"]
    assert i18n.translate_plural("fr", "goal", "goals", 1) == "objectif"
    assert i18n.translate_plural("fr", "goal", "goals", 0) == "objectif"          # French: 0 takes the singular
    assert i18n.translate_plural("de", "target", "targets", 0) == "Zielvorgaben"
    assert i18n.translate("xx", "Overview") == "Overview"


def _page(client, path: str) -> tuple[str, str]:
    r = client.get(path)
    assert r.status_code == 200, r.text[:500]
    html = r.text
    return re.search(r'<html lang="([^"]+)"', html).group(1), unescape(html)


def test_the_french_framework_page_has_a_french_frame(client):
    lang, html = _page(client, "/frameworks/sdg/11?lang=fr")
    assert lang == "fr"
    assert "Villes et communautés durables" in html or "durables" in html          # the framework text
    for word in ("Aller au contenu", "Vue d’ensemble", "Rechercher", "Aligner un texte",
                 "Observatoire</span> de la diplomatie des villes", 'aria-label="Fil d’Ariane"',
                 "chaque donnée porte sa source et sa licence", "Mode public en lecture seule"):
        assert word in html, word
    assert re.search(r"<h2>Cibles <span", html)                                     # goal 11's targets
    assert '<a href="/frameworks?lang=fr">Cadres</a>' in html                       # back, in French
    for word in (">Overview<", ">Skip to content<", ">Search<", "every fact carries", ">Targets", "Breadcrumb"):
        assert word not in html, word


@pytest.mark.parametrize("lang, frameworks, search, heading", [
    ("en", "Frameworks", "Search", "Contents"),
    ("fr", "Cadres", "Rechercher", "Contenu"),
    ("es", "Marcos", "Buscar", "Contenido"),
    ("de", "Rahmenwerke", "Suchen", "Inhalt"),
])
def test_the_frame_follows_the_framework_text_in_each_language(client, lang, frameworks, search, heading):
    shown, html = _page(client, f"/frameworks/sdg?lang={lang}")
    assert shown == lang
    assert f'aria-current="page">{frameworks}</a>' in html
    assert f'<button type="submit">{search}</button>' in html
    assert f"<h2>{heading} <span" in html
    _, html = _page(client, f"/frameworks/paris/7?lang={lang}")
    assert {"en": "article 7", "fr": "article 7", "es": "artículo 7", "de": "Artikel 7"}[lang] in html
    assert {"en": "This article has no sub-items.", "fr": "Cet élément (article) n’a pas de sous-éléments.",
            "es": "Este elemento (artículo) no tiene subelementos.",
            "de": "Dieses Element (Artikel) hat keine Unterelemente."}[lang] in html


def test_a_language_without_a_frame_keeps_the_english_frame(client):
    lang, html = _page(client, "/frameworks/sdg/11?lang=ru")
    assert lang == "en" and '<div lang="ru"' in html
    assert ">Overview<" in html and "<h2>Targets <span" in html


def test_the_frameworks_list_in_french(client):
    lang, html = _page(client, "/frameworks?lang=fr")
    assert lang == "fr"
    assert "<h1>Cadres mondiaux</h1>" in html and "Accord de Paris" in html
    assert "17 objectifs" in html and "169 cibles" in html and "langues :" in html
    assert 'href="/frameworks/sdg/11?lang=fr"' in html
    assert '<a href="?lang=de" lang="de" hreflang="de">Deutsch</a>' in html
    lang, html = _page(client, "/frameworks")
    assert lang == "en" and "17 goals" in html and "<h1>Global frameworks</h1>" in html
    assert 'href="/frameworks/sdg/11"' in html


def test_the_rest_of_the_site_keeps_its_english_frame(client):
    lang, html = _page(client, "/search?q=Lyon&lang=fr")
    assert lang == "en" and ">Overview<" in html
