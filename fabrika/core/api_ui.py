"""API of the UI kit: the user's saved list views and global search."""

from __future__ import annotations

from ninja import Router, Schema, Status
from pydantic import Field

from .ui import services
from .ui.search import global_search
from .ui.selectors import saved_views_for_user

router = Router(tags=["core"])


class SavedViewIn(Schema):
    entity: str
    name: str
    query: str = ""
    columns: list[str] = Field(default_factory=list)
    is_default: bool = False


class SavedViewOut(Schema):
    id: int
    entity: str
    name: str
    query: str
    columns: list[str]
    is_default: bool


class SearchHitOut(Schema):
    title: str
    detail: str
    url: str


class SearchGroupOut(Schema):
    key: str
    label: str
    total: int
    more_url: str
    hits: list[SearchHitOut]


@router.get("/saved-views", response=list[SavedViewOut])
def saved_view_list(request, entity: str = ""):
    return list(saved_views_for_user(request.user, entity=entity))


@router.post("/saved-views", response={201: SavedViewOut})
def saved_view_save(request, payload: SavedViewIn):
    return Status(201, services.saved_view_save(actor=request.user, **payload.dict()))


@router.delete("/saved-views/{saved_view_id}", response={204: None})
def saved_view_delete(request, saved_view_id: int):
    services.saved_view_delete(actor=request.user, saved_view_id=saved_view_id)
    return Status(204, None)


@router.get("/search", response=list[SearchGroupOut])
def search(request, q: str, limit: int = 10):
    return global_search(request.user, q, limit=max(1, min(limit, 50)))
