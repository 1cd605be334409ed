"""One settings module, driven by environment variables.

Development defaults are safe to run on a laptop; `SHOUHU_ENV=production` refuses to start
with a development secret, a development field key or the demo data switched on.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

django_stubs_ext.monkeypatch()  # lets admin classes and querysets be subscripted at runtime

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    """Read a setting; `NAME_FILE` (a path to a secret file) wins over `NAME`."""
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        return Path(file_path).read_text(encoding="utf-8").strip()
    return os.environ.get(name, default)


def envbool(name: str, default: bool) -> bool:
    return env(name, "1" if default else "0").lower() in {"1", "true", "yes", "on"}


def envint(name: str, default: int) -> int:
    return int(env(name, str(default)))


DEV_SECRET_KEY = "dev-only-secret-key-never-use-in-production"  # noqa: S105
DEV_FIELD_KEY = "dev-only-field-key-never-use-in-production"

SHOUHU_ENV = env("SHOUHU_ENV", "development")
PRODUCTION = SHOUHU_ENV == "production"
SECRET_KEY = env("SHOUHU_SECRET_KEY", DEV_SECRET_KEY)
SHOUHU_FIELD_KEY = env("SHOUHU_FIELD_KEY", DEV_FIELD_KEY)
# This deployment's name in hand-off packages and key bundles (another province runs its own).
SHOUHU_DEPLOYMENT_ID = env("SHOUHU_DEPLOYMENT_ID", "shouhu")
SHOUHU_DEMO = envbool("SHOUHU_DEMO", not PRODUCTION)
DEBUG = envbool("SHOUHU_DEBUG", not PRODUCTION)

if PRODUCTION:
    if SECRET_KEY == DEV_SECRET_KEY or len(SECRET_KEY) < 32:
        raise ImproperlyConfigured("SHOUHU_SECRET_KEY must be set to a long random value.")
    if SHOUHU_FIELD_KEY == DEV_FIELD_KEY or len(SHOUHU_FIELD_KEY) < 32:
        raise ImproperlyConfigured("SHOUHU_FIELD_KEY must be set to a long random value.")
    if SHOUHU_DEMO:
        raise ImproperlyConfigured("SHOUHU_DEMO must be off in production.")
    if DEBUG:
        raise ImproperlyConfigured("SHOUHU_DEBUG must be off in production.")

ALLOWED_HOSTS = [h for h in env("SHOUHU_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in env("SHOUHU_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "ninja",
    "shouhu.places",
    "shouhu.accounts",
    "shouhu.audit",
    "shouhu.children",
    "shouhu.notify",
    "shouhu.tasks",
    "shouhu.screening",
    "shouhu.cases",
    "shouhu.reunion",
    "shouhu.programmes",
    "shouhu.volunteers",
    "shouhu.aid",
    "shouhu.surrogates",
    "shouhu.jobs",
    "shouhu.linkage",
    "shouhu.handoff",
    "shouhu.demo",
    "shouhu.web",
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
    "shouhu.web.errors.ErrorReferenceMiddleware",
    "shouhu.web.actions.ActionPageMiddleware",
    "shouhu.screening.handback.HandBackMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "shouhu.audit.middleware.AuditContextMiddleware",
    "shouhu.accounts.middleware.NoStoreMiddleware",
    "shouhu.accounts.middleware.ContentSecurityPolicyMiddleware",
    "shouhu.web.scope.RequestCacheMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "shouhu.urls"
CSRF_FAILURE_VIEW = "shouhu.web.errors.csrf_failure"
WSGI_APPLICATION = "shouhu.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "shouhu" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "shouhu.web.nav.nav",
                "shouhu.web.context_processors.typed_input",
            ],
        },
    },
]

VAR_DIR = Path(env("SHOUHU_VAR_DIR", str(BASE_DIR / "var")))
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'shouhu.sqlite3'}"),
        conn_max_age=envint("SHOUHU_DB_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite as a small multi-user server: readers never block the writer (WAL); a
    # transaction takes the write lock when it begins (IMMEDIATE), so two requests that read
    # and then write queue for the lock instead of failing with "database is locked" when
    # the second tries to upgrade; and a waiting writer waits up to `timeout` seconds.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": envint("SHOUHU_SQLITE_TIMEOUT", 20),
        }
    )
DATABASES["default"]["TEST"] = (
    {"NAME": env("SHOUHU_TEST_DB_NAME", "")} if env("SHOUHU_TEST_DB_NAME") else {}
)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "children:list"
LOGOUT_REDIRECT_URL = "accounts:login"

# Lockout after repeated failures (django-axes): per username and address, and per username
# across addresses with a higher limit (shouhu/accounts/lockout.py).
AXES_HANDLER = "shouhu.accounts.lockout.UsernameAndAddressHandler"
AXES_FAILURE_LIMIT = envint("SHOUHU_LOGIN_FAILURE_LIMIT", 5)
SHOUHU_LOGIN_USERNAME_FAILURE_LIMIT = envint("SHOUHU_LOGIN_USERNAME_FAILURE_LIMIT", 20)
AXES_COOLOFF_TIME = envint("SHOUHU_LOGIN_COOLOFF_MINUTES", 30) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False

# Sessions expire after inactivity (idle timeout), and never outlive the browser.
SESSION_COOKIE_AGE = envint("SHOUHU_SESSION_IDLE_MINUTES", 30) * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# HTTPS only in production: redirect plain HTTP and tell browsers never to use it (HSTS).
# Behind a reverse proxy that terminates TLS, set SHOUHU_PROXY_SSL_HEADER=1 and have the proxy
# send `X-Forwarded-Proto: https` (and strip it from clients).
SECURE_SSL_REDIRECT = envbool("SHOUHU_SSL_REDIRECT", PRODUCTION)
SECURE_HSTS_SECONDS = envint("SHOUHU_HSTS_SECONDS", 365 * 24 * 3600 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SHOUHU_HSTS_INCLUDE_SUBDOMAINS", PRODUCTION)
SECURE_HSTS_PRELOAD = envbool("SHOUHU_HSTS_PRELOAD", PRODUCTION)
if envbool("SHOUHU_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Content-Security-Policy (shouhu.accounts.middleware): no inline or foreign script. Styles may
# be inline (style attributes in templates; htmx adds its indicator style).
SHOUHU_CSP = env(
    "SHOUHU_CSP",
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
)
API_TOKEN_HOURS = envint("SHOUHU_API_TOKEN_HOURS", 8)

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "shouhu" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
# Dates as people write them: 2026年12月4日 on the Chinese pages, 4 Dec 2026 on the English.
FORMAT_MODULE_PATH = ["shouhu.formats"]
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "shouhu" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024

NINJA_PAGINATION_MAX_LIMIT = 500

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("SHOUHU_LOG_LEVEL", "WARNING")},
}

# Safeguarding: minutes to acknowledge an alert before it escalates a level.
SHOUHU_ALERT_ACK_MINUTES = {
    "imminent": envint("SHOUHU_ALERT_ACK_IMMINENT_MINUTES", 30),
    "urgent": envint("SHOUHU_ALERT_ACK_URGENT_MINUTES", 24 * 60),
}
# Risk rules (TOML; empty = the shipped shouhu/screening/risk_rules.toml).
SHOUHU_RISK_RULES = env("SHOUHU_RISK_RULES", "")
# Notification channels besides the in-app inbox (dotted paths of backend classes).
SHOUHU_NOTIFY_BACKENDS = [
    b
    for b in env("SHOUHU_NOTIFY_BACKENDS", "shouhu.notify.services.ConsoleBackend").split(",")
    if b
]

# Online reunions: the video server (self-hosted Jitsi Meet in production), optional JWT
# (app id and secret of the server's token authentication), a dial-in number for when video
# fails, the slot length, and the days without contact that alert the child director.
SHOUHU_JITSI_URL = env("SHOUHU_JITSI_URL", "https://meet.example.org")
SHOUHU_JITSI_APP_ID = env("SHOUHU_JITSI_APP_ID", "")
SHOUHU_JITSI_SECRET = env("SHOUHU_JITSI_SECRET", "")
SHOUHU_JITSI_DIALIN = env("SHOUHU_JITSI_DIALIN", "")
SHOUHU_REUNION_SLOT_MINUTES = envint("SHOUHU_REUNION_SLOT_MINUTES", 20)
SHOUHU_NO_CONTACT_DAYS = envint("SHOUHU_NO_CONTACT_DAYS", 7)
# Channels for messages to parents (SMS/WeChat adapters implement deliver(phone, channel,
# body)); the console backend logs them with the number masked.
# The SMS gateway adapter (shouhu.notify.gateways.HttpSmsGateway), when enabled.
SHOUHU_SMS_URL = env("SHOUHU_SMS_URL", "")
SHOUHU_SMS_TOKEN = env("SHOUHU_SMS_TOKEN", "")
SHOUHU_SMS_SIGNATURE = env("SHOUHU_SMS_SIGNATURE", "【守护】")
SHOUHU_SMS_TIMEOUT = envint("SHOUHU_SMS_TIMEOUT", 10)
SHOUHU_PARENT_BACKENDS = [
    b
    for b in env("SHOUHU_PARENT_BACKENDS", "shouhu.notify.services.ConsoleParentBackend").split(",")
    if b
]
