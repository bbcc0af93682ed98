"""Printed forms: a registry of printable document types, templates kept in the database, a sandboxed renderer
and PDF output through WeasyPrint.

How an app adds a printed form
------------------------------
Write `fabrika/<app>/printing.py` with a module-level `printing.register(PrintableDocument(...))` and ship the
default template as `fabrika/<app>/templates/<app>/print/<name>.html` (optional CSS next to it as `<name>.css`).
The registry imports the `printing` module of every installed app the first time it is used
(`autodiscover_modules`), so core never imports a higher app and apps need no `ready()` hook.

The context is plain data only
------------------------------
`build_context(obj)` returns dicts, lists, strings, numbers, Decimals, dates and booleans: an administrator's
template never sees a model instance, so it cannot call methods or follow relations. `ensure_plain` checks this.

The sandbox
-----------
Templates run on their own Django `Engine`: no loaders (so `{% include %}` and `{% extends %}` are not even
tags here), only the safe default tags (no `{% debug %}`, `{% url %}`, `{% csrf_token %}`) and filters, and
`{% load %}` knows one library, `fabrika_print`, whose filters are also built in. A syntax error or a failing
render of the sample context is a ValidationError naming `body` (422 in the API, a form error in the UI).
WeasyPrint gets no base URL and a URL fetcher that only accepts `data:` URLs, so a template cannot make the
server fetch anything.
"""

from __future__ import annotations

import datetime as dt
import decimal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.apps import apps
from django.db import transaction
from django.db.models import Model, QuerySet
from django.template import Context, Engine, Library, TemplateSyntaxError, defaultfilters, defaulttags
from django.utils import timezone, translation
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext as _

from . import audit
from .errors import NotFound, ValidationError
from .models.audit import AuditAction
from .models.printing import PaperOrientation, PaperSize, PrintTemplate, PrintTemplateVersion
from .selectors import company_settings

PRINT_LIBRARY = "fabrika.core.templatetags.fabrika_print"
BLOCKED_TAGS = frozenset({"debug", "url", "csrf_token"})
MAX_SOURCE_LENGTH = 200_000
PDF_CONTENT_TYPE = "application/pdf"


# ----------------------------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class PrintableDocument:
    """A document type that can be printed.

    code: "<app>.<name>", e.g. "inventory.receipt_note"; model: the record printed (its "view" permission is
    required to print); get_for_user(user, object_id): the record if the user's scope includes it, NotFound
    otherwise; build_context(obj): plain data for the template; sample_context(): the same shape with made-up
    data, for previews and validation; check(obj): raise a DomainError when this record cannot be printed with
    this form (e.g. a draft); template_name: the default template under the app's templates folder."""

    code: str
    name: Any
    model: type[Model]
    build_context: Callable[[Any], dict]
    sample_context: Callable[[], dict]
    get_for_user: Callable[[Any, Any], Any]
    template_name: str
    check: Callable[[Any], None] | None = None
    preview_queryset: Callable[[Any], QuerySet] | None = None
    paper_size: str = PaperSize.A4
    orientation: str = PaperOrientation.PORTRAIT

    @property
    def app_label(self) -> str:
        return self.model._meta.app_label

    def default_source(self) -> tuple[str, str]:
        """(body, css) of the shipped default template."""
        folder = Path(apps.get_app_config(self.app_label).path) / "templates"
        body_path = folder / self.template_name
        css_path = body_path.with_suffix(".css")
        body = body_path.read_text(encoding="utf-8")
        css = css_path.read_text(encoding="utf-8") if css_path.exists() else ""
        return body, css


_registry: dict[str, PrintableDocument] = {}
_discovered = threading.Event()
_discover_lock = threading.Lock()


def register(document: PrintableDocument) -> PrintableDocument:
    _registry[document.code] = document
    return document


def _discover() -> None:
    if _discovered.is_set():
        return
    with _discover_lock:
        if not _discovered.is_set():
            autodiscover_modules("printing")
            _discovered.set()


def printable_documents() -> list[PrintableDocument]:
    _discover()
    return sorted(_registry.values(), key=lambda document: document.code)


def printable_document(code: str) -> PrintableDocument:
    _discover()
    try:
        return _registry[code]
    except KeyError:
        raise ValidationError({"document_type": [_("Unknown printed form '%(code)s'") % {"code": code}]})


# ----------------------------------------------------------------------------------------------- plain context

_PLAIN_SCALARS = (str, int, decimal.Decimal, dt.date, dt.datetime, bool, type(None), float)


def ensure_plain(value: Any, path: str = "context") -> Any:
    """Return `value` if it holds only plain data (dicts with str keys, lists, scalars); TypeError otherwise."""
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{path}: keys must be strings, got {type(key).__name__}")
            ensure_plain(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            ensure_plain(item, f"{path}[{index}]")
    elif not isinstance(value, _PLAIN_SCALARS):
        raise TypeError(f"{path}: a print context holds plain data only, not {type(value).__name__}")
    return value


def company_context() -> dict:
    settings = company_settings()
    return {"name": settings.name, "country": settings.country, "currency": settings.base_currency}


def full_context(document: PrintableDocument, data: dict) -> dict:
    context = {**data, "company": company_context(), "printed_at": timezone.localtime().replace(microsecond=0)}
    return ensure_plain(context)


# ----------------------------------------------------------------------------------------------- sandbox


def _safe_builtins() -> Library:
    library = Library()
    library.tags = {name: tag for name, tag in defaulttags.register.tags.items() if name not in BLOCKED_TAGS}
    library.filters = dict(defaultfilters.register.filters)
    return library


_engine: Engine | None = None


def sandbox_engine() -> Engine:
    """The engine print templates run on: no loaders, safe tags and filters, one loadable library."""
    global _engine
    if _engine is None:
        engine = Engine(
            dirs=[], app_dirs=False, loaders=[("django.template.loaders.locmem.Loader", {})],
            libraries={"fabrika_print": PRINT_LIBRARY}, builtins=[PRINT_LIBRARY], autoescape=True, debug=True,  # debug: line numbers in syntax errors
        )
        print_library = engine.template_libraries["fabrika_print"]
        engine.template_builtins = [_safe_builtins(), print_library]
        _engine = engine
    return _engine


def _syntax_message(error: Exception) -> str:
    info = getattr(error, "template_debug", None)
    if info:
        return _("Line %(line)s: %(error)s") % {"line": info.get("line"), "error": error}
    return str(error)


def compile_source(body: str):
    """The compiled template; ValidationError on `body` for a syntax error (with its line when known)."""
    if len(body) > MAX_SOURCE_LENGTH:
        raise ValidationError({"body": [_("The template may be at most %(n)d characters long") % {"n": MAX_SOURCE_LENGTH}]})
    try:
        return sandbox_engine().from_string(body)
    except TemplateSyntaxError as error:
        raise ValidationError({"body": [_("Template error: %(error)s") % {"error": _syntax_message(error)}]})
    except Exception as error:  # anything the template machinery raises on odd input is the template's fault
        raise ValidationError({"body": [_("Template error: %(error)s") % {"error": error}]})


def render_source(body: str, css: str, context: dict, *, paper_size: str, orientation: str, title: str = "") -> str:
    """The complete HTML page: the template rendered in the sandbox, with page setup and the template's CSS."""
    template = compile_source(body)
    try:
        content = template.render(Context(context, autoescape=True))
    except Exception as error:  # a failing filter or tag: report it as the template's error
        raise ValidationError({"body": [_("Template error while rendering: %(error)s") % {"error": error}]})
    size = {"letter": "letter"}.get(paper_size, paper_size)
    page_css = f"@page {{ size: {size} {orientation}; margin: 15mm 12mm; }}"
    from django.utils.html import escape

    return (
        "<!doctype html><html><head><meta charset=\"utf-8\">"
        f"<title>{escape(title)}</title><style>{page_css}\n{escape_css(css)}</style></head>"
        f"<body>{content}</body></html>"
    )


def escape_css(css: str) -> str:
    """CSS placed inside <style>: a closing tag cannot end the element early."""
    return css.replace("</", "<\\/")


def refuse_url_fetcher(url: str, *args, **kwargs):
    """WeasyPrint's URL fetcher for print templates: inline `data:` URLs only, never the network or the disk."""
    if url.startswith("data:"):
        from weasyprint.urls import default_url_fetcher

        return default_url_fetcher(url)
    raise ValueError(f"Print templates may not load external resources ({url[:80]})")


def html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=html, base_url=None, url_fetcher=refuse_url_fetcher).write_pdf()


# ----------------------------------------------------------------------------------------------- templates


def print_template_list(*, document_type: str = "") -> QuerySet[PrintTemplate]:
    queryset = PrintTemplate.objects.select_related("updated_by")
    if document_type:
        queryset = queryset.filter(document_type=document_type)
    return queryset.order_by("document_type", "language", "name", "id")


def print_template_get(template_id) -> PrintTemplate:
    try:
        return PrintTemplate.objects.select_related("updated_by").get(pk=int(template_id))
    except (PrintTemplate.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Print template %(id)s not found") % {"id": template_id})


def template_for(code: str, language: str | None = None) -> PrintTemplate | None:
    """The active default template for the language (then the one for every language), or None."""
    language = (language or translation.get_language() or "").split("-")[0]
    candidates = list(PrintTemplate.objects.filter(document_type=code, active=True, is_default=True, language__in=[language, ""]))
    candidates.sort(key=lambda template: template.language != language)
    return candidates[0] if candidates else None


def _validate(document: PrintableDocument, data: dict) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    name = str(data.get("name") or "").strip()
    if not name:
        errors["name"] = [_("Enter a name")]
    elif len(name) > 200:
        errors["name"] = [_("At most 200 characters")]
    cleaned["name"] = name
    language = str(data.get("language") or "").strip().lower()
    from django.conf import settings

    allowed_languages = {code for code, _label in settings.LANGUAGES}
    if language and language not in allowed_languages:
        errors["language"] = [_("Choose one of: %(choices)s, or leave empty") % {"choices": ", ".join(sorted(allowed_languages))}]
    cleaned["language"] = language
    paper_size = data.get("paper_size") or PaperSize.A4
    if paper_size not in PaperSize.values:
        errors["paper_size"] = [_("Choose one of: %(choices)s") % {"choices": ", ".join(PaperSize.values)}]
    cleaned["paper_size"] = paper_size
    orientation = data.get("orientation") or PaperOrientation.PORTRAIT
    if orientation not in PaperOrientation.values:
        errors["orientation"] = [_("Choose one of: %(choices)s") % {"choices": ", ".join(PaperOrientation.values)}]
    cleaned["orientation"] = orientation
    body = str(data.get("body") or "")
    css = str(data.get("css") or "")
    if not body.strip():
        errors["body"] = [_("Enter the template")]
    if len(css) > MAX_SOURCE_LENGTH:
        errors["css"] = [_("The CSS may be at most %(n)d characters long") % {"n": MAX_SOURCE_LENGTH}]
    cleaned["body"], cleaned["css"] = body, css
    cleaned["is_default"] = bool(data.get("is_default", True))
    cleaned["active"] = bool(data.get("active", True))
    if errors:
        raise ValidationError(errors)
    try:  # the template must compile and render the sample document
        render_source(
            body, css, full_context(document, document.sample_context()), paper_size=paper_size, orientation=orientation
        )
    except ValidationError as error:
        raise ValidationError(error.errors)
    return cleaned


def _save_version(template: PrintTemplate, *, actor, comment: str) -> PrintTemplateVersion:
    return PrintTemplateVersion.objects.create(
        template=template, version=template.version, name=template.name, body=template.body, css=template.css,
        paper_size=template.paper_size, orientation=template.orientation, comment=comment[:200],
        created_by=actor if getattr(actor, "pk", None) else None,
    )


def _unset_other_defaults(template: PrintTemplate) -> None:
    if template.is_default:
        PrintTemplate.objects.filter(
            document_type=template.document_type, language=template.language, is_default=True
        ).exclude(pk=template.pk).update(is_default=False)


@transaction.atomic
def print_template_create(*, actor, document_type: str, data: dict | None = None) -> PrintTemplate:
    """A new template for a document type; fields not given come from the shipped default."""
    document = printable_document(document_type)
    body, css = document.default_source()
    values = {
        "name": str(document.name), "language": "", "body": body, "css": css, "paper_size": document.paper_size,
        "orientation": document.orientation, "is_default": True, "active": True, **(data or {}),
    }
    cleaned = _validate(document, values)
    template = PrintTemplate(document_type=document.code, updated_by=actor, version=1, **cleaned)
    template.save()
    _unset_other_defaults(template)
    _save_version(template, actor=actor, comment=_("Created"))
    audit.record(actor=actor, action=AuditAction.CREATE, target=template, changes=audit.snapshot(template, ["document_type", "name", "language"]))
    return template


@transaction.atomic
def print_template_update(*, actor, template_id: int, data: dict, comment: str = "") -> PrintTemplate:
    template = PrintTemplate.objects.select_for_update().filter(pk=template_id).first()
    if template is None:
        raise NotFound(_("Print template %(id)s not found") % {"id": template_id})
    document = printable_document(template.document_type)
    fields = ("name", "language", "body", "css", "paper_size", "orientation", "is_default", "active")
    current = {name: getattr(template, name) for name in fields}
    cleaned = _validate(document, {**current, **{key: value for key, value in data.items() if key in fields}})
    before = audit.snapshot(template, fields)
    for name, value in cleaned.items():
        setattr(template, name, value)
    changes = audit.diff(before, audit.snapshot(template, fields))
    if not changes:
        return template
    template.version += 1
    template.updated_by = actor
    template.save()
    _unset_other_defaults(template)
    _save_version(template, actor=actor, comment=comment or _("Edited"))
    for source_field in ("body", "css"):  # the versions keep the source; the audit says that it changed
        if source_field in changes:
            changes[source_field] = ["…", f"v{template.version}"]
    audit.record(actor=actor, action=AuditAction.UPDATE, target=template, changes=changes)
    return template


def print_template_reset(*, actor, template_id: int) -> PrintTemplate:
    """Put the shipped default source back (as a new version: nothing is lost)."""
    template = print_template_get(template_id)
    body, css = printable_document(template.document_type).default_source()
    return print_template_update(actor=actor, template_id=template.pk, data={"body": body, "css": css}, comment=_("Reset to default"))


def print_template_restore(*, actor, template_id: int, version: int) -> PrintTemplate:
    found = PrintTemplateVersion.objects.filter(template_id=template_id, version=version).first()
    if found is None:
        raise ValidationError({"version": [_("Version %(version)s of this template does not exist") % {"version": version}]})
    data = {"name": found.name, "body": found.body, "css": found.css, "paper_size": found.paper_size, "orientation": found.orientation}
    return print_template_update(
        actor=actor, template_id=template_id, data=data, comment=_("Restored version %(version)s") % {"version": version}
    )


def print_template_versions(template_id: int) -> QuerySet[PrintTemplateVersion]:
    return PrintTemplateVersion.objects.filter(template_id=template_id).select_related("created_by").order_by("-version")


# ----------------------------------------------------------------------------------------------- rendering


@dataclass
class Rendered:
    html: str
    template: PrintTemplate | None
    document: PrintableDocument
    meta: dict = field(default_factory=dict)


def _source_of(document: PrintableDocument, template: PrintTemplate | None) -> tuple[str, str, str, str]:
    if template is not None:
        return template.body, template.css, template.paper_size, template.orientation
    body, css = document.default_source()
    return body, css, document.paper_size, document.orientation


def render_html(code: str, obj=None, *, language: str | None = None, template: PrintTemplate | None = None,
                source: dict | None = None) -> Rendered:
    """HTML of a printed form for `obj` (or the sample document when obj is None), with the given template, the
    chosen language's template, or the shipped default; `source` overrides body/css/paper (an unsaved preview)."""
    document = printable_document(code)
    with translation.override(language or translation.get_language()):
        if template is None and source is None:
            template = template_for(code, language)
        body, css, paper_size, orientation = _source_of(document, template)
        if source:
            body = source.get("body", body)
            css = source.get("css", css)
            paper_size = source.get("paper_size") or paper_size
            orientation = source.get("orientation") or orientation
        if obj is not None and document.check is not None:
            document.check(obj)
        data = document.build_context(obj) if obj is not None else document.sample_context()
        context = full_context(document, data)
        html = render_source(body, css, context, paper_size=paper_size, orientation=orientation, title=str(document.name))
    return Rendered(html=html, template=template, document=document)


def render_pdf(code: str, obj, *, actor, language: str | None = None, template: PrintTemplate | None = None) -> bytes:
    """The PDF of a printed form for `obj`; the print is written to the audit log as an export."""
    rendered = render_html(code, obj, language=language, template=template)
    pdf = html_to_pdf(rendered.html)
    audit.record(
        actor=actor, action=AuditAction.EXPORT, target=obj,
        changes={
            "print": code, "format": "pdf", "template": rendered.template.pk if rendered.template else None,
            "version": rendered.template.version if rendered.template else None,
            "language": language or translation.get_language(),
        },
        message=f"{code}: printed to PDF",
    )
    return pdf


def printable_object_for_user(user, code: str, object_id):
    """The record to print if the user may view it (model permission and scope); NotFound otherwise."""
    from .permissions import can

    document = printable_document(code)
    if not can(user, document.model, "view"):
        raise NotFound(_("%(name)s %(id)s not found") % {"name": str(document.model._meta.verbose_name).capitalize(), "id": object_id})
    return document.get_for_user(user, object_id)


def preview_choices(user, code: str, limit: int = 50) -> list[tuple[int, str]]:
    """Records of this type the user may see, newest first, to preview a template against."""
    from .permissions import can

    document = printable_document(code)
    if document.preview_queryset is None or not can(user, document.model, "view"):
        return []
    return [(obj.pk, str(obj)) for obj in document.preview_queryset(user)[:limit]]
