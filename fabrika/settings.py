"""Fabrika settings: one module, configured by environment variables (see README.md)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("FABRIKA_VAR_DIR", BASE_DIR / "var")).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)
(VAR_DIR / "static").mkdir(exist_ok=True)


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    key = os.environ.get("FABRIKA_SECRET_KEY")
    if key:
        return key
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = _env_bool("FABRIKA_DEBUG", False)
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("FABRIKA_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("FABRIKA_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.admin",
    "ninja",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "fabrika.core",
    "fabrika.parties",
    "fabrika.crm",
    "fabrika.ledger",
    "fabrika.catalog",
    "fabrika.inventory",
    "fabrika.pricing",
    "fabrika.sales",
    "fabrika.finance",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "fabrika.core.middleware.RequestContextMiddleware",
]

ROOT_URLCONF = "fabrika.urls"
WSGI_APPLICATION = "fabrika.wsgi.application"
AUTH_USER_MODEL = "core.User"
LOGIN_URL = "core:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "core:login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "fabrika.core.context_processors.navigation",
            ],
        },
    }
]

_SQLITE_DEFAULT = f"sqlite:///{VAR_DIR / 'fabrika.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(os.environ.get("DATABASE_URL") or _SQLITE_DEFAULT, conn_max_age=0)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
    # A file, not an in-memory database, so that tests with two real connections see each other.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test_fabrika.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ru", _("Russian"))]
LOCALE_PATHS = [BASE_DIR / "fabrika" / "locale"]
TIME_ZONE = os.environ.get("FABRIKA_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "fabrika" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "/media/"

EMAIL_BACKEND = os.environ.get("FABRIKA_EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = VAR_DIR / "mail"
EMAIL_HOST = os.environ.get("FABRIKA_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("FABRIKA_EMAIL_PORT", "25"))
DEFAULT_FROM_EMAIL = os.environ.get("FABRIKA_DEFAULT_FROM_EMAIL", "fabrika@localhost")

TASKS = {
    "default": {
        "BACKEND": os.environ.get("FABRIKA_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = _env_bool("FABRIKA_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# Login throttling: this many failures per username (or address) within the window locks it out.
FABRIKA_LOGIN_MAX_FAILURES = int(os.environ.get("FABRIKA_LOGIN_MAX_FAILURES", "5"))
FABRIKA_LOGIN_LOCKOUT_SECONDS = int(os.environ.get("FABRIKA_LOGIN_LOCKOUT_SECONDS", "900"))
# Attachments
FABRIKA_ATTACHMENT_MAX_BYTES = int(os.environ.get("FABRIKA_ATTACHMENT_MAX_BYTES", str(20 * 1024 * 1024)))
FABRIKA_ATTACHMENT_EXTENSIONS = os.environ.get(
    "FABRIKA_ATTACHMENT_EXTENSIONS",
    "pdf,png,jpg,jpeg,gif,webp,txt,csv,xlsx,xls,docx,doc,odt,ods,zip,dxf,dwg,step,stp",
).split(",")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("FABRIKA_LOG_LEVEL", "WARNING")},
}

# Worker heartbeat older than this makes /healthz report "degraded".
FABRIKA_WORKER_STALE_SECONDS = int(os.environ.get("FABRIKA_WORKER_STALE_SECONDS", "120"))
# Hour (company time) the worker e-mails the reminder digest; empty turns it off (then cron `fabrika send_reminder_digest`).
FABRIKA_REMINDER_DIGEST_HOUR = os.environ.get("FABRIKA_REMINDER_DIGEST_HOUR", "8") or None
# Public address of the site, for links in e-mails, e.g. https://erp.example.com
FABRIKA_BASE_URL = os.environ.get("FABRIKA_BASE_URL", "")

# Housekeeping, done by the worker at most every FABRIKA_HOUSEKEEPING_INTERVAL_SECONDS (and by `fabrika run_worker --once`).
FABRIKA_HOUSEKEEPING_INTERVAL_SECONDS = int(os.environ.get("FABRIKA_HOUSEKEEPING_INTERVAL_SECONDS", "3600"))
# An Idempotency-Key is remembered this long after the first request (then the key may be reused).
FABRIKA_IDEMPOTENCY_TTL_HOURS = int(os.environ.get("FABRIKA_IDEMPOTENCY_TTL_HOURS", "24"))
# Domain events delivered to every subscriber are deleted this many days after they were dispatched.
FABRIKA_OUTBOX_RETENTION_DAYS = int(os.environ.get("FABRIKA_OUTBOX_RETENTION_DAYS", "30"))
# Finished webhook deliveries (succeeded or given up) and their attempt log are deleted after this many days.
FABRIKA_WEBHOOK_LOG_RETENTION_DAYS = int(os.environ.get("FABRIKA_WEBHOOK_LOG_RETENTION_DAYS", "30"))
# Results of finished background tasks (django-tasks database backend) are deleted after this many days.
FABRIKA_TASK_RESULT_RETENTION_DAYS = int(os.environ.get("FABRIKA_TASK_RESULT_RETENTION_DAYS", "7"))
