import pytest

from fabrika.parties.validation import normalise_kpp, normalise_name, normalise_phone, normalise_tax_id


@pytest.mark.parametrize(
    ("country", "value", "expected"),
    [
        ("RU", "7707083893", "7707083893"),
        ("RU", "500100732259", "500100732259"),
        ("ES", "b58378431", "B58378431"),
        ("ES", "12345678Z", "12345678Z"),
        ("AM", "0123 4567", "01234567"),
        ("DE", "DE 123456789", "DE 123456789"),
    ],
)
def test_valid_tax_ids_are_normalised(country, value, expected):
    assert normalise_tax_id(value, country=country) == expected


@pytest.mark.parametrize(
    ("country", "value", "message"),
    [
        ("RU", "7707083894", "The INN checksum does not match: check the digits"),
        ("RU", "77070", "A Russian INN has 10 digits (organisation) or 12 digits (individual)"),
        ("ES", "12345678A", "Not a valid Spanish NIF/CIF: check the letter and the digits"),
        ("AM", "1234567", "An Armenian TIN has 8 digits"),
    ],
)
def test_invalid_tax_ids_name_the_rule(country, value, message):
    with pytest.raises(ValueError) as error:
        normalise_tax_id(value, country=country)
    assert str(error.value) == message


def test_kpp_has_nine_characters():
    assert normalise_kpp("7707 01 001") == "770701001"
    assert normalise_kpp("7707AB001") == "7707AB001"
    with pytest.raises(ValueError):
        normalise_kpp("77070100")


def test_phones_become_e164_with_the_default_region():
    assert normalise_phone("8 (495) 123-45-67", country="RU") == "+74951234567"
    assert normalise_phone("912 345 678", country="ES") == "+34912345678"
    with pytest.raises(ValueError):
        normalise_phone("12", country="RU")


def test_names_drop_legal_forms_quotes_and_punctuation():
    assert normalise_name('ООО «Ромашка-Плюс»') == "ромашка плюс"
    assert normalise_name("Acme Toys, Ltd.") == "acme toys"
    assert normalise_name("Plásticos Levante S.L.") == "plásticos levante"
