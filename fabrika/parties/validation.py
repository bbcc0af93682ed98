"""Checks on counterparty requisites: tax identifiers with checksums, phones in E.164."""

from __future__ import annotations

import phonenumbers
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.ru import inn as ru_inn


def normalise_tax_id(value: str, *, country: str) -> str:
    """Return the cleaned tax ID or raise ValueError with a message naming the rule."""
    value = (value or "").strip().replace(" ", "")
    if not value:
        return ""
    if country == "RU":
        if not value.isdigit() or len(value) not in (10, 12):
            raise ValueError("A Russian INN has 10 digits (organisation) or 12 digits (individual)")
        try:
            return ru_inn.validate(value)
        except StdnumError:
            raise ValueError("The INN checksum does not match: check the digits")
    return value


def normalise_phone(value: str, *, country: str) -> str:
    value = (value or "").strip()
    if not value:
        return ""
    try:
        parsed = phonenumbers.parse(value, country or None)
    except phonenumbers.NumberParseException:
        raise ValueError("Not a phone number")
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError("Not a valid phone number for its country")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
