"""Template tags for "any record" pieces of a card: `{% load fabrika_records %}`.

{{ object|entity }}                     "app_label.model_name"
{% record_statuses_panel object %}      the statuses section (current, history, form to set one)
{% record_attachments_panel object %}   the attachments section (list, upload form)
{% record_actions object %}             buttons other apps register for this record (core.ui.cards.register_card_actions)
{% record_related_lists object as rl %} related lists other apps register (core.ui.cards.register_related_lists)
"""

from __future__ import annotations

from django import template
from django.utils.html import format_html_join

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


@register.simple_tag(takes_context=True)
def record_actions(context, record):
    from fabrika.core.ui.cards import card_actions_for

    request = context.get("request")
    if request is None or record is None or not hasattr(record, "_meta"):
        return ""
    actions = card_actions_for(record, request.user)
    return format_html_join(
        "\n", '<a class="button{}" href="{}">{}</a>', ((f" {a.style}" if a.style else "", a.url, a.label) for a in actions)
    ) if actions else ""


@register.simple_tag(takes_context=True)
def record_related_lists(context, record):
    from fabrika.core.ui.cards import related_lists_for

    request = context.get("request")
    if request is None or record is None or not hasattr(record, "_meta"):
        return []
    return related_lists_for(record, request.user)
