"""Template tags for "any record" pieces of a card: `{% load fabrika_records %}`.

{{ object|entity }}                     "app_label.model_name"
{% record_statuses_panel object %}      the statuses section (current, history, form to set one)
{% record_attachments_panel object %}   the attachments section (list, upload form)
"""

from __future__ import annotations

from django import template

from fabrika.core.records import entity_of

register = template.Library()


@register.filter(name="entity")
def entity_filter(record) -> str:
    return entity_of(record) if hasattr(record, "_meta") else ""


@register.simple_tag(takes_context=True)
def record_statuses_panel(context, record):
    from fabrika.core.views_statuses import statuses_panel

    request = context.get("request")
    if request is None or record is None or not hasattr(record, "_meta"):
        return ""
    return statuses_panel(request, record)


@register.simple_tag(takes_context=True)
def record_attachments_panel(context, record):
    from fabrika.core.views_statuses import attachments_panel

    request = context.get("request")
    if request is None or record is None or not hasattr(record, "_meta"):
        return ""
    return attachments_panel(request, record)
