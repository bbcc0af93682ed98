"""Fill the parts of an address (postcode, region, city, street, building) from text pasted as one line.

Handles the Russian postal style ("123456, Московская обл., г. Химки, ул. Ленина, д. 5, корп. 2") and generic
comma-separated addresses ("Calle Mayor 12, 28013 Madrid, Spain"). What it cannot place stays only in `raw`: the
parser never invents a value, it leaves a part empty instead.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

COUNTRIES = {
    "россия": "RU", "российская федерация": "RU", "рф": "RU", "russia": "RU", "russian federation": "RU",
    "испания": "ES", "spain": "ES", "españa": "ES", "espana": "ES",
    "армения": "AM", "armenia": "AM", "հայաստան": "AM",
    "казахстан": "KZ", "kazakhstan": "KZ", "беларусь": "BY", "belarus": "BY",
    "united kingdom": "GB", "uk": "GB", "великобритания": "GB", "germany": "DE", "deutschland": "DE", "германия": "DE", "france": "FR", "франция": "FR",
}
CITY_MARKERS = re.compile(r"^(г\.?|город|гор\.|пос\.|пгт\.?|с\.|дер\.|д\.п\.)\s*(?=\S)", re.IGNORECASE)
REGION_WORDS = re.compile(
    r"(\bобл\.?|\bобласть\b|\bкрай\b|\bресп\.?|\bреспублика\b|\bао\b|автономный округ|\bр-н\b|\bрайон\b|\bprovince\b|\bprovincia\b|\bregion\b|\bмарз\b)",
    re.IGNORECASE,
)
STREET_MARKERS = re.compile(
    r"^(ул\.?|улица|пр-т\.?|пр-кт\.?|просп\.?|проспект|пер\.?|переулок|ш\.|шоссе|наб\.?|набережная|б-р|бульвар|пл\.?|площадь|"
    r"проезд|пр\.|мкр\.?|микрорайон|тракт|аллея)\s*(?=\S)",
    re.IGNORECASE,
)
STREET_SUFFIX = re.compile(r"\b(ул\.?|улица|проспект|пр-т|переулок|пер\.|шоссе|бульвар|б-р|набережная|проезд|площадь)$", re.IGNORECASE)
GENERIC_STREET = re.compile(
    r"^(calle|c/|avenida|avda\.?|av\.?|paseo|plaza|pl\.|carrer|street|st\.|road|rd\.|avenue|ave\.?|straße|strasse|rue)\b",
    re.IGNORECASE,
)
GENERIC_STREET_SUFFIX = re.compile(r"\b(street|st\.?|road|rd\.?|avenue|ave\.?|lane|ln\.?|straße|strasse|str\.|drive|dr\.)(\s+\d.*)?$", re.IGNORECASE)
BUILDING_MARKERS = re.compile(r"^(д\.|дом|зд\.|здание|стр\.|строение|корп\.|корпус|к\.|лит\.|литера|влад\.|вл\.|оф\.|офис|кв\.|пом\.|помещение)\s*", re.IGNORECASE)
POSTCODE_RU = re.compile(r"^\d{6}$")
POSTCODE_IN_PART = re.compile(r"^(\d{4,6}|[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2})\s+(.+)$")
POSTCODE_AFTER = re.compile(r"^(.+?)\s+(\d{4,6}|[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2})$")
NUMBER_AT_END = re.compile(r"^(.*\D)\s+(\d+[\w/-]*)$")


@dataclass
class ParsedAddress:
    country: str = ""
    region: str = ""
    city: str = ""
    street: str = ""
    building: str = ""
    postcode: str = ""
    raw: str = ""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def _clean(part: str) -> str:
    return re.sub(r"\s+", " ", part).strip(" .;")


def parse_address(text: str) -> ParsedAddress:
    """The parts found in `text` (kept whole in `raw`)."""
    raw = (text or "").strip()
    result = ParsedAddress(raw=raw)
    parts = [_clean(part) for part in re.split(r"[,\n;]", raw)]
    parts = [part for part in parts if part]
    building_parts: list[str] = []
    leftovers: list[str] = []
    for part in parts:
        lowered = part.casefold()
        if lowered in COUNTRIES and not result.country:
            result.country = COUNTRIES[lowered]
            continue
        if POSTCODE_RU.match(part) and not result.postcode:
            result.postcode = part
            continue
        if BUILDING_MARKERS.match(part) or (result.street and re.match(r"^\d{1,4}[а-яa-z]?([/-]\d+)?$", part, re.IGNORECASE)):
            building_parts.append(part)
            continue
        if CITY_MARKERS.match(part) and not result.city and not STREET_MARKERS.match(part):
            result.city = _clean(CITY_MARKERS.sub("", part))
            continue
        if STREET_MARKERS.match(part) or STREET_SUFFIX.search(part):
            if not result.street:
                street = part
                match = NUMBER_AT_END.match(street)
                if match and STREET_MARKERS.match(part):
                    street, number = match.group(1), match.group(2)
                    building_parts.insert(0, number)
                result.street = _clean(street)
                continue
        if REGION_WORDS.search(part) and not result.region:
            result.region = part
            continue
        if GENERIC_STREET.match(part) or GENERIC_STREET_SUFFIX.search(part) or (re.match(r"^\d+\w?\s+\D", part) and not result.street):
            if not result.street:
                match = NUMBER_AT_END.match(part)
                leading = re.match(r"^(\d+\w?)\s+(\D.*)$", part)
                if match:
                    result.street, number = _clean(match.group(1)), match.group(2)
                    building_parts.insert(0, number)
                elif leading:
                    result.street = _clean(leading.group(2))
                    building_parts.insert(0, leading.group(1))
                else:
                    result.street = part
                continue
        match = POSTCODE_IN_PART.match(part)
        if match and not result.postcode and not result.city:
            result.postcode, result.city = match.group(1), _clean(match.group(2))
            continue
        match = POSTCODE_AFTER.match(part)
        if match and not result.postcode and not result.city and not any(char.isdigit() for char in match.group(1)):
            result.city, result.postcode = _clean(match.group(1)), match.group(2)
            continue
        leftovers.append(part)
    if building_parts:
        result.building = ", ".join(building_parts)
    # A bare word left before the street is the city when no marker named one ("Madrid", "Москва").
    if not result.city:
        for part in leftovers:
            if not any(char.isdigit() for char in part):
                result.city = part
                leftovers.remove(part)
                break
    if not result.region:
        for part in leftovers:
            if not any(char.isdigit() for char in part) and part != result.city:
                result.region = part
                break
    if not result.country and (result.postcode and POSTCODE_RU.match(result.postcode) or re.search(r"[а-яё]", raw, re.IGNORECASE)):
        result.country = "RU"
    return result
