"""Forms of pipelines, stages and deals. They only shape input; the services check every rule."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from fabrika.core.models import Currency, User
from fabrika.core.ui.forms import add_custom_fields, custom_values
from fabrika.parties.models import Contact, Counterparty

from .models.pipelines import Deal, Pipeline, PipelinePurpose, Stage, StageKind, StageOrderEvent
from .services_pipelines import DEAL_ENTITY, required_field_choices


class PipelineForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=150)
    purpose = forms.ChoiceField(label=_("Purpose"), choices=PipelinePurpose.choices)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def service_data(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class StageForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=150)
    kind = forms.ChoiceField(label=_("Kind"), choices=StageKind.choices, initial=StageKind.OPEN)
    probability = forms.IntegerField(label=_("Probability, %"), min_value=0, max_value=100, required=False)
    color = forms.CharField(label=_("Colour"), initial="#6c757d", widget=forms.TextInput(attrs={"type": "color"}))
    required_fields = forms.MultipleChoiceField(
        label=_("Fields required to enter the stage"), required=False, widget=forms.CheckboxSelectMultiple
    )
    task_on_enter = forms.BooleanField(label=_("On entering, create a task"), required=False)
    task_title = forms.CharField(label=_("Task title"), required=False, max_length=200)
    task_assignee = forms.ModelChoiceField(label=_("Task for user"), queryset=User.objects.filter(is_active=True), required=False)
    task_role = forms.ModelChoiceField(label=_("Task for role"), queryset=Group.objects.order_by("name"), required=False)
    task_due_hours = forms.IntegerField(label=_("Task due in, hours"), min_value=1, required=False)
    advance_on_task_close = forms.BooleanField(label=_("Move the deal to the next stage when its stage task is closed"), required=False)
    remind_after_days = forms.IntegerField(
        label=_("Remind the responsible after, days in the stage"), min_value=1, required=False
    )
    order_event = forms.ChoiceField(
        label=_("Move the deal here when its sales order is"), choices=StageOrderEvent.choices, required=False,
    )

    def __init__(self, *args, pipeline: Pipeline, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["required_fields"].choices = required_field_choices(pipeline)

    def service_data(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


def stage_initial(stage: Stage) -> dict[str, Any]:
    return {
        "name": stage.name,
        "kind": stage.kind,
        "probability": stage.probability,
        "color": stage.color,
        "required_fields": stage.required_fields,
        "task_on_enter": stage.task_on_enter,
        "task_title": stage.task_title,
        "task_assignee": stage.task_assignee_id,
        "task_role": stage.task_role_id,
        "task_due_hours": stage.task_due_hours,
        "advance_on_task_close": stage.advance_on_task_close,
        "remind_after_days": stage.remind_after_days,
        "order_event": stage.order_event,
    }


DEAL_FIELDS = ("title", "counterparty", "contact", "amount", "currency", "expected_close", "responsible", "won_reason", "lost_reason")


class DealForm(forms.Form):
    """A deal's standard fields plus its pipeline's custom fields ("custom_<code>")."""

    title = forms.CharField(label=_("Title"), max_length=300)
    counterparty = forms.ModelChoiceField(label=_("Counterparty"), queryset=Counterparty.objects.filter(is_active=True))
    contact = forms.ModelChoiceField(label=_("Contact"), queryset=Contact.objects.select_related("counterparty"), required=False)
    amount = forms.DecimalField(label=_("Amount"), max_digits=15, decimal_places=2, min_value=0, required=False)
    currency = forms.ModelChoiceField(label=_("Currency"), queryset=Currency.objects.all(), required=False)
    expected_close = forms.DateField(label=_("Expected close"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    responsible = forms.ModelChoiceField(label=_("Responsible"), queryset=User.objects.filter(is_active=True), required=False)
    stage = forms.ModelChoiceField(label=_("Stage"), queryset=Stage.objects.none(), required=False)
    won_reason = forms.CharField(label=_("Won reason"), max_length=300, required=False)
    lost_reason = forms.CharField(label=_("Lost reason"), max_length=300, required=False)

    def __init__(self, *args, pipeline: Pipeline, instance: Deal | None = None, **kwargs):
        self.pipeline = pipeline
        self.instance = instance
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {name: getattr(instance, f"{name}_id", None) if name in ("counterparty", "contact", "currency", "responsible") else getattr(instance, name) for name in DEAL_FIELDS}
        super().__init__(*args, **kwargs)
        if instance is None:
            self.fields["stage"].queryset = pipeline.stages.order_by("order", "id")
            del self.fields["won_reason"], self.fields["lost_reason"]
        else:
            del self.fields["stage"]
        add_custom_fields(self, DEAL_ENTITY, custom=instance.custom if instance else {}, context=pipeline.custom_context)

    def service_data(self) -> dict[str, Any]:
        data = {name: value for name, value in self.cleaned_data.items() if name in DEAL_FIELDS}
        data["custom"] = custom_values(self, DEAL_ENTITY, context=self.pipeline.custom_context)
        return data


class DealMoveForm(forms.Form):
    stage = forms.IntegerField()
    reason = forms.CharField(required=False, max_length=300)
