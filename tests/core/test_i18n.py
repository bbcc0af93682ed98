"""Russian is complete: every string of the code and templates is in the Russian catalogue, translated, not fuzzy.

The strings are extracted with Django's `makemessages` from a temporary copy of the `fabrika` package (the real
catalogue in fabrika/locale is only read, never written) and compared with fabrika/locale/ru/LC_MESSAGES/django.po.
To fix a failure: run `fabrika makemessages -l ru` in the repository root, translate the listed strings in
fabrika/locale/ru/LC_MESSAGES/django.po and remove their "fuzzy" flags.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.utils.html import escape

PACKAGE = Path(settings.BASE_DIR) / "fabrika"
CATALOGUE = PACKAGE / "locale" / "ru" / "LC_MESSAGES" / "django.po"
LOGIN_PAGE_STRINGS = ("Log in", "Forgot your password?")
NEEDS_GETTEXT = "GNU gettext is needed (apt-get install gettext; `make test` installs it)"


def read_catalogue(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale="ru", domain="django")


def key(message) -> tuple[str | None, str]:
    msgid = message.id[0] if isinstance(message.id, tuple | list) else message.id
    return message.context, msgid


def describe(message) -> str:
    context, msgid = key(message)
    where = ", ".join(f"{path}:{line}" for path, line in message.locations[:2])
    return f"  {msgid!r}" + (f" [context {context!r}]" if context else "") + (f"  ({where})" if where else "")


def is_untranslated(message) -> bool:
    strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
    return not all(strings)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> Catalog:
    """Every translatable string of the fabrika package, as Django's makemessages extracts it."""
    if shutil.which("xgettext") is None:
        pytest.fail(f"makemessages needs xgettext: {NEEDS_GETTEXT}")
    root = tmp_path_factory.mktemp("i18n")
    shutil.copytree(
        PACKAGE,
        root / "fabrika",
        ignore=shutil.ignore_patterns("locale", "migrations", "__pycache__", "vendor", "*.pyc"),
    )
    locale_dir = root / "fabrika" / "locale"
    locale_dir.mkdir()
    previous_cwd, previous_paths = Path.cwd(), settings.LOCALE_PATHS
    try:
        os.chdir(root)
        settings.LOCALE_PATHS = [str(locale_dir)]
        call_command("makemessages", locale=["ru"], domain="django", verbosity=0, stdout=io.StringIO())
    finally:
        os.chdir(previous_cwd)
        settings.LOCALE_PATHS = previous_paths
    return read_catalogue(locale_dir / "ru" / "LC_MESSAGES" / "django.po")


def test_extraction_finds_the_strings_of_code_and_templates(extracted):
    # a guard for the test itself: strings from Python (gettext_lazy) and from templates ({% translate %}) are found
    ids = {key(message)[1] for message in extracted if message.id}
    assert {"Log in", "Forgot your password?", "Counterparties", "Own records"} <= ids


def test_russian_catalogue_has_every_string_translated(extracted):
    catalogue = read_catalogue(CATALOGUE)
    missing, untranslated, fuzzy = [], [], []
    for message in extracted:
        if not message.id:
            continue
        translated = catalogue.get(*reversed(key(message))) if key(message)[0] else catalogue.get(key(message)[1])
        if translated is None:
            missing.append(describe(message))
        elif translated.fuzzy:
            fuzzy.append(describe(message))
        elif is_untranslated(translated):
            untranslated.append(describe(message))
    problems = []
    for title, items in (
        ("missing from the Russian catalogue", missing),
        ("untranslated (empty msgstr)", untranslated),
        ("fuzzy (translation not confirmed)", fuzzy),
    ):
        if items:
            problems.append(f"{len(items)} string(s) {title}:\n" + "\n".join(items))
    if problems:
        pytest.fail(
            f"The Russian catalogue {CATALOGUE.relative_to(settings.BASE_DIR)} is incomplete. Run `fabrika makemessages "
            "-l ru`, translate these strings and clear their fuzzy flags:\n\n" + "\n\n".join(problems),
            pytrace=False,
        )


def test_russian_catalogue_header_lets_it_compile():
    with CATALOGUE.open("rb") as handle:
        catalogue = read_po(handle)  # no locale given: the header's own "Language" decides
    problems = []
    if catalogue.fuzzy:
        problems.append('the header entry is marked "#, fuzzy": `pybabel compile` (make messages) skips the whole catalogue')
    if catalogue.locale_identifier != "ru":
        problems.append(f'the header says "Language: {catalogue.locale_identifier or ""}" instead of "Language: ru"')
    if catalogue.num_plurals != 4:
        problems.append(f"Plural-Forms must declare the 4 Russian plural forms, not {catalogue.num_plurals}")
    if problems:
        pytest.fail(f"{CATALOGUE.relative_to(settings.BASE_DIR)}: " + "; ".join(problems), pytrace=False)


def test_russian_catalogue_compiles():
    # babel (what `make messages` uses) reads and compiles it
    write_mo(io.BytesIO(), read_catalogue(CATALOGUE))
    # GNU msgfmt checks the printf-style placeholders of every translation against its msgid
    if shutil.which("msgfmt") is None:
        pytest.fail(f"msgfmt is needed to check the catalogue: {NEEDS_GETTEXT}")
    result = subprocess.run(
        ["msgfmt", "--check-format", "--check-domain", "--output-file=/dev/null", str(CATALOGUE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"msgfmt refuses {CATALOGUE}:\n{result.stderr}"


@pytest.mark.django_db
def test_login_page_renders_in_russian_when_the_language_is_switched():
    # given the Russian translations of the login page's strings, compiled (`make messages` compiles the catalogue)
    catalogue = read_catalogue(CATALOGUE)
    russian = {english: catalogue.get(english).string if catalogue.get(english) else "" for english in LOGIN_PAGE_STRINGS}
    untranslated = sorted(english for english, text in russian.items() if not text)
    if untranslated:
        pytest.fail(f"{CATALOGUE.relative_to(settings.BASE_DIR)} does not translate {untranslated}", pytrace=False)
    if not CATALOGUE.with_suffix(".mo").exists():
        pytest.fail(f"{CATALOGUE.with_suffix('.mo')} is missing: compile the catalogue with `make messages`", pytrace=False)
    # and a visitor who chose Russian (the language switch sets this cookie)
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    # when they open the login page
    response = client.get("/login/")
    # then the page declares Russian and shows the Russian strings instead of the English ones
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="ru"' in html
    for english, text in russian.items():
        assert text in html or escape(text) in html, f"{text!r} (for {english!r}) is not on the Russian login page"
        assert english not in html
