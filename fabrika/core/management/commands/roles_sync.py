"""`fabrika roles_sync [--add-missing]`: bring the standard roles up to date with their definitions after an upgrade.

    fabrika roles_sync                # show what each standard role lacks (changes nothing)
    fabrika roles_sync --add-missing  # add it; permissions an administrator removed from a role stay removed

Missing standard roles are created in both cases. Nothing is ever taken away from a role.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from fabrika.core.roles import standard_roles_sync


class Command(BaseCommand):
    help = "Show (or with --add-missing, add) the permissions the standard roles lack of their definitions."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--add-missing", action="store_true", help="Add the missing permissions (audited); without it nothing changes."
        )

    def handle(self, *args, add_missing: bool, verbosity: int, **options) -> None:
        plans = standard_roles_sync(apply=add_missing)
        for plan in plans:
            if verbosity and plan.missing:
                verb = "added" if add_missing else "missing"
                self.stdout.write(f"{plan.role}: {verb} {len(plan.missing)}: {', '.join(plan.missing)}")
            if verbosity > 1 and plan.kept_removed:
                self.stdout.write(f"{plan.role}: kept removed by an administrator: {', '.join(plan.kept_removed)}")
        total = sum(len(plan.missing) for plan in plans)
        if verbosity:
            if not total:
                self.stdout.write("The standard roles are up to date.")
            elif not add_missing:
                self.stdout.write(f"{total} permission(s) missing; run `fabrika roles_sync --add-missing` to add them.")
            else:
                self.stdout.write(f"{total} permission(s) added.")
