"""Filters for printed forms, the only library a print template may load (`{% load fabrika_print %}`; they are also
available without loading). Values come from a plain-dict context: Decimals, strings, dates.

{{ value|money }}                 1 234,50 (grouped, 2 decimals, in the print language)
{{ value|money:"RUB" }}           1 234,50 ₽
{{ value|quantity }}              12,5 (no trailing zeros)
{{ value|amount_in_words:"RUB" }} одна тысяча двести тридцать четыре рубля, пятьдесят копеек
{{ value|number_in_words }}       двенадцать
{{ value|print_date }}            27 ноября 2026 г. (also "short", "medium", "long", "full" or a CLDR pattern)

A filter given something it cannot format returns it unchanged, so a template never fails on odd data.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal
from django import template
from django.utils import translation
from num2words import num2words

register = template.Library()

WORD_LANGUAGES = ("ru", "en")


def _locale() -> str:
    return (translation.get_language() or "en").replace("-", "_")


def _word_language() -> str:
    language = (translation.get_language() or "en").split("-")[0]
    return language if language in WORD_LANGUAGES else "en"


def _decimal(value) -> Decimal | None:
    if isinstance(value, bool) or value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


@register.filter
def money(value, currency: str = ""):
    number = _decimal(value)
    if number is None:
        return value
    number = number.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    try:
        if currency:
            return format_currency(number, str(currency).upper(), locale=_locale())
        return format_decimal(number, format="#,##0.00", locale=_locale())
    except (ValueError, LookupError):
        return str(number)


@register.filter
def quantity(value):
    number = _decimal(value)
    if number is None:
        return value
    try:
        return format_decimal(number, format="#,##0.####", locale=_locale())
    except (ValueError, LookupError):
        return str(number)


@register.filter
def amount_in_words(value, currency: str = ""):
    number = _decimal(value)
    if number is None:
        return value
    number = number.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    language = _word_language()
    try:
        if currency:
            return num2words(number, lang=language, to="currency", currency=str(currency).upper())
    except (NotImplementedError, KeyError, ValueError, TypeError):
        pass
    whole = int(number)
    cents = int((abs(number) - abs(whole)) * 100)
    return f"{num2words(whole, lang=language)} {cents:02d}"


@register.filter
def number_in_words(value):
    number = _decimal(value)
    if number is None:
        return value
    try:
        return num2words(number if number != number.to_integral_value() else int(number), lang=_word_language())
    except (NotImplementedError, ValueError, TypeError, OverflowError):
        return value


@register.filter
def print_date(value, date_format: str = "long"):
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value[:10])
        except ValueError:
            return value
    if not isinstance(value, dt.date):
        return value
    try:
        return format_date(value, format=str(date_format) or "long", locale=_locale())
    except (ValueError, LookupError, AttributeError):
        return value.isoformat()
