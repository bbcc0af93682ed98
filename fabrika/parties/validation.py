"""Checks on counterparty requisites: tax identifiers with checksums, KPP, BIC, phones in E.164, names for matching."""

from __future__ import annotations

import re

import phonenumbers
from django.utils.translation import gettext
from stdnum.es import nif as es_nif
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.ru import inn as ru_inn

KPP_PATTERN = re.compile(r"^\d{4}[0-9A-Z]{2}\d{3}$")
CODE_PATTERN = re.compile(r"^[A-Za-z0-9_.-]*$")


def normalise_tax_id(value: str, *, country: str) -> str:
    """Return the cleaned tax ID or raise ValueError with a message naming the rule.

    Checked with their checksums: Russia (INN, 10 or 12 digits), Spain (NIF, including CIF/NIE), Armenia (TIN,
    8 digits). Other countries keep the text as entered (spaces removed)."""
    value = (value or "").strip().replace(" ", "").replace("-", "") if country in ("RU", "ES", "AM") else (value or "").strip()
    if not value:
        return ""
    if len(value) > 32:
        raise ValueError(gettext("At most 32 characters"))
    if country == "RU":
        if not value.isdigit() or len(value) not in (10, 12):
            raise ValueError(gettext("A Russian INN has 10 digits (organisation) or 12 digits (individual)"))
        try:
            return ru_inn.validate(value)
        except StdnumError:
            raise ValueError(gettext("The INN checksum does not match: check the digits"))
    if country == "ES":
        try:
            return es_nif.validate(value.upper())
        except StdnumError:
            raise ValueError(gettext("Not a valid Spanish NIF/CIF: check the letter and the digits"))
    if country == "AM":
        if not value.isdigit() or len(value) != 8:
            raise ValueError(gettext("An Armenian TIN has 8 digits"))
    return value


def normalise_kpp(value: str) -> str:
    value = (value or "").strip().replace(" ", "").upper()
    if value and not KPP_PATTERN.match(value):
        raise ValueError(gettext("A KPP has 9 characters: 4 digits, 2 digits or letters, 3 digits"))
    return value


def normalise_bic(value: str, *, country: str) -> str:
    value = (value or "").strip().replace(" ", "").upper()
    if not value:
        return ""
    if country == "RU":
        if not value.isdigit() or len(value) != 9:
            raise ValueError(gettext("A Russian BIC has 9 digits"))
    elif not re.match(r"^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$", value):
        raise ValueError(gettext("A SWIFT BIC has 8 or 11 letters and digits"))
    return value


def normalise_code(value: str) -> str:
    value = (value or "").strip()
    if not CODE_PATTERN.match(value):
        raise ValueError(gettext("Use letters, digits, dot, dash and underscore only"))
    if len(value) > 50:
        raise ValueError(gettext("At most 50 characters"))
    return value


def normalise_phone(value: str, *, country: str) -> str:
    value = (value or "").strip()
    if not value:
        return ""
    try:
        parsed = phonenumbers.parse(value, country or None)
    except phonenumbers.NumberParseException:
        raise ValueError(gettext("Not a phone number"))
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError(gettext("Not a valid phone number for its country"))
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def phone_for_matching(value: str, *, country: str) -> str:
    """E.164 if the text is a valid phone, else empty: used to compare phones without raising."""
    try:
        return normalise_phone(value, country=country)
    except ValueError:
        return ""


LEGAL_FORMS = (
    "ооо", "оао", "зао", "пао", "ао", "ип", "нко", "ано", "гбоу", "мбоу", "гбу", "муп", "гуп", "фгуп", "тоо",
    "llc", "ltd", "limited", "inc", "corp", "co", "gmbh", "ag", "plc", "sl", "sa", "slu", "sau", "bv", "oy", "ab",
)
_PUNCTUATION = re.compile(r"[\"'«»“”„`,;:!?()\[\]/\\&+-]+")


def normalise_name(value: str) -> str:
    """A name for similarity matching: lower case, no quotes or punctuation, legal forms (ООО, LLC, SL...) dropped."""
    text = re.sub(r"(?<=\w)\.(?=\w\.)", "", (value or "").casefold().replace("ё", "е"))  # S.L. -> SL.
    words = _PUNCTUATION.sub(" ", text.replace(".", " ")).split()
    return " ".join(word for word in words if word not in LEGAL_FORMS)
