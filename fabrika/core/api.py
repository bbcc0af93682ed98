from __future__ import annotations

from ninja import Router, Status

from . import tokens
from .models import AuditEntry
from .pagination import Page, paginate
from .permissions import require, user_scope
from .schemas import AuditEntryOut, MeOut, TokenCreatedOut, TokenIn, TokenOut
from .selectors_audit import audit_entries_for_user

router = Router(tags=["core"])


@router.get("/me", response=MeOut)
def me(request):
    user = request.user
    return {
        "id": user.pk,
        "username": user.username,
        "full_name": user.get_full_name(),
        "email": user.email,
        "department_id": user.department_id,
        "scope": user_scope(user),
        "language": user.language,
    }


@router.get("/tokens", response=list[TokenOut])
def token_list(request):
    return list(request.user.api_tokens.all())


@router.post("/tokens", response={201: TokenCreatedOut})
def token_create(request, payload: TokenIn):
    token, raw = tokens.api_token_create(user=request.user, name=payload.name, actor=request.user)
    return Status(201, {**TokenOut.from_orm(token).dict(), "token": raw})


@router.delete("/tokens/{token_id}", response={204: None})
def token_revoke(request, token_id: int):
    tokens.api_token_revoke(token_id=token_id, actor=request.user)
    return Status(204, None)


@router.get("/audit", response=Page[AuditEntryOut])
def audit_list(
    request, action: str = "", object_type: str = "", object_id: str = "", actor_id: int | None = None,
    cursor: str | None = None, limit: int = 50,
):
    require(request.user, AuditEntry, "view")
    queryset = audit_entries_for_user(request.user, action=action, object_type=object_type, object_id=object_id, actor_id=actor_id)
    return paginate(queryset, cursor=cursor, limit=limit, with_count=False)
