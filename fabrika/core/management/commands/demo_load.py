from django.core.management.base import BaseCommand, CommandError

from fabrika.core.demo import CORE_LOADERS, DEMO_USERS, DemoRefused, demo_load
from fabrika.crm.demo import load_crm
from fabrika.finance.demo import load_finance
from fabrika.inventory.demo import load_catalog_and_stock
from fabrika.ledger.demo import load_ledger
from fabrika.pricing.demo import load_pricing
from fabrika.sales.demo import load_sales

# Each app's part of the demo, in order: a later loader may use what earlier ones made (DemoContext.records).
# A new app adds `load_<things>(context)` in fabrika/<app>/demo.py and appends it here.
LOADERS = (*CORE_LOADERS, load_ledger, load_catalog_and_stock, load_crm, load_pricing, load_sales, load_finance)


class Command(BaseCommand):
    help = "Load (or complete) the Robokids demo company and print its logins. Loading twice changes nothing."

    def handle(self, *args, **options):
        try:
            demo_load(loaders=LOADERS)
        except DemoRefused as error:
            raise CommandError(error.message)
        self.stdout.write(self.style.SUCCESS("Robokids demo is ready. Log in at http://127.0.0.1:8000/ as:"))
        self.stdout.write(f"  {'login':<12} {'password':<22} role")
        for demo in DEMO_USERS:
            self.stdout.write(f"  {demo.username:<12} {demo.password:<22} {demo.role}")
