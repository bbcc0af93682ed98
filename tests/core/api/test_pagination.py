"""Cursor pagination: a total order (sort keys + primary key), every row exactly once."""

from __future__ import annotations

import pytest

from fabrika.core.errors import ValidationError
from fabrika.core.pagination import paginate
from fabrika.parties.models import Counterparty
from fabrika.parties.services import counterparty_create


def _all_pages(client, limit: int, query: str = "") -> list[list[int]]:
    pages, cursor = [], None
    while True:
        url = f"/api/v1/parties/counterparties?limit={limit}{query}" + (f"&cursor={cursor}" if cursor else "")
        body = client.get(url).json()
        pages.append([item["id"] for item in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages


def test_paging_where_many_rows_share_the_sort_key_returns_each_row_once(make_user, api_client):
    # given 23 counterparties of the same name between two others (the list is sorted by name)
    user = make_user()
    first = counterparty_create(actor=user, data={"name": "Aardvark"})
    same = [counterparty_create(actor=user, data={"name": "Robokids"}).pk for _ in range(23)]
    last = counterparty_create(actor=user, data={"name": "Zebra"})
    client = api_client(user)
    # when paging four at a time
    pages = _all_pages(client, limit=4)
    # then 7 pages, each row once, in name then id order
    assert [len(page) for page in pages] == [4, 4, 4, 4, 4, 4, 1]
    assert [pk for page in pages for pk in page] == [first.pk, *same, last.pk]
    assert client.get("/api/v1/parties/counterparties?limit=4").json()["count"] == 25


def test_rows_added_while_paging_do_not_shift_later_pages(make_user, api_client):
    # given ten counterparties of the same name and a first page read
    user = make_user()
    ids = [counterparty_create(actor=user, data={"name": "Same"}).pk for _ in range(10)]
    client = api_client(user)
    page = client.get("/api/v1/parties/counterparties?limit=5").json()
    # when a row that sorts before the cursor is added, and the next page is read
    counterparty_create(actor=user, data={"name": "Earlier"})
    rest = client.get(f"/api/v1/parties/counterparties?limit=5&cursor={page['next_cursor']}").json()
    # then the second page continues exactly after the first (no repeat, no gap)
    assert [item["id"] for item in page["items"]] + [item["id"] for item in rest["items"]] == ids
    assert rest["next_cursor"] is None


def test_ordering_without_a_keyset_falls_back_to_offsets_and_still_returns_each_row_once(make_user):
    # given rows ordered by a related field (no keyset possible), many sharing it
    owner = make_user(username="owner")
    created = [counterparty_create(actor=owner, data={"name": f"C{i}"}).pk for i in range(7)]
    queryset = Counterparty.objects.order_by("responsible__username")
    # when paging three at a time
    seen, cursor = [], None
    while True:
        page = paginate(queryset, cursor=cursor, limit=3)
        seen += [row.pk for row in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    # then by the primary key within the shared value, each once
    assert seen == created


def test_a_forged_cursor_is_a_422_naming_the_cursor(make_user, api_client):
    client = api_client(make_user())
    response = client.get("/api/v1/parties/counterparties?cursor=bm9wZQ")
    assert response.status_code == 422
    assert response.json()["errors"] == {"cursor": ["Invalid cursor: pass the next_cursor of the previous page unchanged"]}


def test_a_cursor_of_another_list_is_refused(make_user):
    # given a cursor from a list sorted differently
    user = make_user()
    for name in ("a", "b", "c"):
        counterparty_create(actor=user, data={"name": name})
    cursor = paginate(Counterparty.objects.order_by("-created_at"), cursor=None, limit=1)["next_cursor"]
    # when it is used on the name-sorted list
    with pytest.raises(ValidationError) as refused:
        paginate(Counterparty.objects.order_by("name"), cursor=cursor, limit=1)
    # then it is refused instead of skipping rows
    assert refused.value.errors == {"cursor": ["Invalid cursor: pass the next_cursor of the previous page unchanged"]}


def test_limit_out_of_range_is_422(make_user, api_client):
    client = api_client(make_user())
    assert client.get("/api/v1/parties/counterparties?limit=0").json()["errors"] == {"limit": ["Must be between 1 and 500"]}
    assert client.get("/api/v1/parties/counterparties?limit=501").status_code == 422
