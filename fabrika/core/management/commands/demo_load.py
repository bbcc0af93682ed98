from django.core.management.base import BaseCommand

from fabrika.core.demo import demo_load


class Command(BaseCommand):
    help = "Load (or refresh) the Robokids demo company and print its logins."

    def handle(self, *args, **options):
        users = demo_load()
        self.stdout.write(self.style.SUCCESS("Robokids demo is ready. Log in at http://127.0.0.1:8000/ as:"))
        for demo in users:
            self.stdout.write(f"  {demo.username:<12} {demo.password:<22} {demo.role}")
