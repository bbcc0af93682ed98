"""Reading uploads: XLSX and CSV in the encodings and delimiters people actually send."""

from __future__ import annotations

import datetime as dt

import pytest

from fabrika.core.errors import ValidationError
from fabrika.core.importer import read_table


def test_csv_utf8_with_comma():
    table = read_table(b"Name,City\nRobokids,Kazan\n", "clients.csv")
    assert (table.file_format, table.encoding, table.delimiter) == ("csv", "utf-8", ",")
    assert table.columns == ["Name", "City"]
    assert table.rows == [(2, ["Robokids", "Kazan"])]


def test_csv_utf8_with_bom_and_semicolons_as_excel_saves_it():
    table = read_table("\ufeffНазвание;Город\n\"Ромашка; ООО\";Москва\n".encode(), "clients.csv")
    assert (table.encoding, table.delimiter) == ("utf-8-sig", ";")
    assert table.columns == ["Название", "Город"]
    assert table.rows == [(2, ["Ромашка; ООО", "Москва"])]


def test_csv_windows_1251_with_semicolons():
    content = "Название;ИНН\nЛицей №239;7830002293\nЁлка;\n".encode("cp1251")
    table = read_table(content, "clients.csv")
    assert (table.encoding, table.delimiter) == ("cp1251", ";")
    assert table.rows == [(2, ["Лицей №239", "7830002293"]), (3, ["Ёлка", ""])]


def test_csv_tab_separated():
    table = read_table(b"Name\tPhone\nA\t+7 900 000-00-00\n", "export.txt")
    assert table.delimiter == "\t"
    assert table.rows == [(2, ["A", "+7 900 000-00-00"])]


def test_blank_rows_are_skipped_but_row_numbers_stay_those_of_the_file():
    table = read_table(b"\nName\n\nA\n,\nB\n", "x.csv")
    assert table.columns == ["Name"]
    assert table.rows == [(4, ["A"]), (6, ["B"])]


def test_empty_and_duplicate_headers_get_unique_names_and_short_rows_are_padded():
    table = read_table(b"Name,,Name\nA\n", "x.csv")
    assert table.columns == ["Name", "Column B", "Name (2)"]
    assert table.rows == [(2, ["A", "", ""])]


def test_xlsx_numbers_dates_and_booleans_become_the_text_people_see(xlsx):
    content = xlsx([["Name", "INN", "Since", "Client", "Share"], ["Robokids", 7830002293, dt.datetime(2024, 3, 1), True, 0.25], [None, None, None, None, None], ["B", 12, dt.datetime(2024, 3, 1, 9, 30), False, 3.0]])
    table = read_table(content, "clients.xlsx")
    assert table.file_format == "xlsx"
    assert table.columns == ["Name", "INN", "Since", "Client", "Share"]
    assert table.rows == [(2, ["Robokids", "7830002293", "2024-03-01", "yes", "0.25"]), (4, ["B", "12", "2024-03-01 09:30:00", "no", "3"])]


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "x.csv", "The file is empty"),
        (b"\n\n", "x.csv", "The file is empty: the first row must name the columns"),
        (b"%PDF-1.4", "x.pdf", "Upload an .xlsx or .csv file"),
        (b"PK\x03\x04garbage", "x.xlsx", "Not a readable .xlsx file: save it again from your spreadsheet program"),
    ],
)
def test_unreadable_files_are_refused_with_a_message_on_the_file_field(content, name, message):
    with pytest.raises(ValidationError) as refused:
        read_table(content, name)
    assert refused.value.errors == {"file": [message]}
