"""The generic UI kit: lists (lists.py, exports.py), cards (cards.py), forms (forms.py), global search (search.py).

An entity's pages declare a ListConfig and call `views.list_view`; its card view builds CardField/RelatedList
values and `cards.record_timeline`; its form uses `forms.add_custom_fields`, `forms.apply_errors` and
`forms.validate_field_response` for inline validation. See docs in each module.
"""
