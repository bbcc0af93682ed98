import pytest

from fabrika.parties.address_parser import parse_address


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "123456, Московская обл., г. Химки, ул. Ленина, д. 5, корп. 2",
            {"country": "RU", "postcode": "123456", "region": "Московская обл", "city": "Химки", "street": "ул. Ленина", "building": "д. 5, корп. 2"},
        ),
        (
            "191186, г. Санкт-Петербург, Невский пр-т, д. 28",
            {"country": "RU", "postcode": "191186", "region": "", "city": "Санкт-Петербург", "street": "Невский пр-т", "building": "д. 28"},
        ),
        (
            "Россия, 420111, Республика Татарстан, г. Казань, ул. Баумана, 10",
            {"country": "RU", "postcode": "420111", "region": "Республика Татарстан", "city": "Казань", "street": "ул. Баумана", "building": "10"},
        ),
        (
            "Calle Mayor 12, 28013 Madrid, Spain",
            {"country": "ES", "postcode": "28013", "region": "", "city": "Madrid", "street": "Calle Mayor", "building": "12"},
        ),
        (
            "221B Baker Street, London NW1 6XE, United Kingdom",
            {"country": "GB", "postcode": "NW1 6XE", "region": "", "city": "London", "street": "Baker Street", "building": "221B"},
        ),
        (
            "Yerevan, Abovyan street 5, Armenia",
            {"country": "AM", "postcode": "", "region": "", "city": "Yerevan", "street": "Abovyan street", "building": "5"},
        ),
    ],
)
def test_parser_fills_the_parts_it_recognises(text, expected):
    parsed = parse_address(text)
    assert {name: getattr(parsed, name) for name in expected} == expected
    assert parsed.raw == text


def test_parser_leaves_unknown_text_only_in_raw():
    parsed = parse_address("somewhere near the old mill")
    assert parsed.raw == "somewhere near the old mill"
    assert (parsed.street, parsed.building, parsed.postcode) == ("", "", "")
