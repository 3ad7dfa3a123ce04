"""Porchlight settings: one module, configured from the environment.

With no environment at all it runs as the demo does: a SQLite file in the
project folder, Celery on its filesystem transport, mail and SMS written to
the console and to files under var/outbox/.
"""

import importlib.util
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def env_int(name, default):
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# PRODUCTION=1 turns on the secure defaults (HTTPS only, secure cookies, HSTS)
# and insists on a real SECRET_KEY; each can still be overridden one by one.
PRODUCTION = env_bool("PRODUCTION", False)
DEBUG = env_bool("DEBUG", False)
# Published with the code and used by the demo: it signs nothing in production.
DEVELOPMENT_SECRET_KEY = "porchlight-insecure-development-key-change-me"
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set when PRODUCTION=1.")
    # Only ever used for local development and tests.
    SECRET_KEY = DEVELOPMENT_SECRET_KEY
if PRODUCTION and SECRET_KEY.strip() == DEVELOPMENT_SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY is the development key published with Porchlight: anyone could forge "
        "its links and sessions. Set a long random SECRET_KEY when PRODUCTION=1."
    )
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "canvass.admin_site.PorchlightAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "canvass",
    "turf",
    "conversations",
    "exports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Below WhiteNoise: static files keep their long caching; every page and API answer
    # (they carry people's names, addresses and stories) is marked no-store.
    "canvass.middleware.NoStoreMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "canvass.security.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it answers a locked-out login attempt.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "canvass.urls"
WSGI_APPLICATION = "canvass.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'porchlight.sqlite3'}",
        conn_max_age=env_int("DB_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the reminder worker write to the same file: WAL lets
    # them read while the other writes, IMMEDIATE transactions make a writer
    # wait for the lock instead of failing half-way.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # django-axes counts failed logins and refuses a locked-out one before any password check.
    "canvass.security.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Wrong passwords: after AXES_FAILURE_LIMIT in a row for one account, or from one address,
# logins from it are refused for AXES_COOLOFF_MINUTES (an organizer can unlock sooner).
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 30))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
AXES_CLIENT_IP_CALLABLE = "canvass.security.client_ip"
AXES_VERBOSE = False
OTP_TOTP_ISSUER = "Porchlight"
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 2 * 60 * 60)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# --- Language and time ------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "America/Chicago")
USE_I18N = True
USE_TZ = True
# The default region for phone numbers written without a country code.
PHONE_DEFAULT_REGION = os.environ.get("PHONE_DEFAULT_REGION", "US")

# --- Static files -----------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env_bool("STATIC_MANIFEST", PRODUCTION)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "var" / "media"))
MEDIA_URL = "/media/"
# Uploads go through Django's storage API, so every process reaches them: MEDIA_ROOT on a
# volume the web and the worker share, or S3-compatible storage (django-storages, the
# optional "s3" dependencies) when MEDIA_S3_BUCKET is set.
if os.environ.get("MEDIA_S3_BUCKET"):
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ["MEDIA_S3_BUCKET"],
            "endpoint_url": os.environ.get("MEDIA_S3_ENDPOINT_URL") or None,
            "location": os.environ.get("MEDIA_S3_PREFIX", "media"),
            "default_acl": None,
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
# The largest voter-file upload the import page takes (zipped statewide files are well
# under this; a bigger file can be imported from the command line).
IMPORT_MAX_UPLOAD_MB = env_int("IMPORT_MAX_UPLOAD_MB", 2048)

# --- Exports ------------------------------------------------------------------
# Up to this many rows an export is written in the request; more go to a Celery worker.
EXPORT_INLINE_MAX_ROWS = env_int("EXPORT_INLINE_MAX_ROWS", 5000)
# Export files are deleted this many days after they were written (the record stays).
EXPORT_KEEP_DAYS = env_int("EXPORT_KEEP_DAYS", 7)

# --- Map ----------------------------------------------------------------------
# Leaflet is served by the app from the django-leaflet package's static files.
# The package is not an installed app: its admin module needs GeoDjango (GDAL),
# which Porchlight does not use. The tile server is a setting; MAP_TILES_URL=none
# draws households and turf outlines on a blank background, which is also what
# the map shows when no tile server can be reached.
_leaflet_spec = importlib.util.find_spec("leaflet")
if _leaflet_spec is not None:
    STATICFILES_DIRS.append(("leaflet", Path(_leaflet_spec.origin).parent / "static" / "leaflet"))
MAP_TILES_URL = os.environ.get("MAP_TILES_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
if MAP_TILES_URL.strip().lower() in ("", "none"):
    MAP_TILES_URL = ""
MAP_TILES_ATTRIBUTION = os.environ.get(
    "MAP_TILES_ATTRIBUTION",
    '© <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
)

# --- Geocoding ----------------------------------------------------------------
# Households from a voter file without coordinates are located in the background:
# "census" (the US Census Bureau's free batch geocoder, the default), "nominatim"
# (a self-hosted Nominatim at GEOCODER_URL) or "none". docs/turf.md has the details.
GEOCODER = os.environ.get("GEOCODER", "census")
GEOCODER_URL = os.environ.get("GEOCODER_URL", "")
GEOCODER_TIMEOUT = env_int("GEOCODER_TIMEOUT", 300)
GEOCODER_BATCH_SIZE = env_int("GEOCODER_BATCH_SIZE", 0)
# Batches sent at once, and how often a batch that got no answer is tried again.
GEOCODER_PARALLEL = env_int("GEOCODER_PARALLEL", 4)
GEOCODER_RETRIES = env_int("GEOCODER_RETRIES", 3)

# --- Security (production values come from the environment) -----------------
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", PRODUCTION)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", PRODUCTION)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", PRODUCTION)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", PRODUCTION)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", PRODUCTION)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY", False) else None
)
# Health checks come over plain HTTP from inside the deployment.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"


def _tiles_source(url):
    """The map tile server's origin for img-src ("{s}." subdomains become "*.")."""
    from urllib.parse import urlsplit

    if not url:
        return []
    parts = urlsplit(url.replace("{s}.", "subdomain-wildcard."))
    host = parts.netloc.replace("subdomain-wildcard.", "*.")
    return [f"{parts.scheme}://{host}"] if parts.scheme and host else []


# Content-Security-Policy (django-csp): no inline script or style anywhere, every script
# from this server. docs/security.md explains each source.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", *_tiles_source(MAP_TILES_URL)],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "worker-src": ["'self'"],
        "manifest-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- Mail and SMS -----------------------------------------------------------
OUTBOX_DIR = Path(os.environ.get("OUTBOX_DIR", BASE_DIR / "var" / "outbox"))
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "canvass.messaging.ConsoleAndFileEmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Porchlight <porchlight@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# "console" (console and file, for development), "file" (file only, for tests)
# or "twilio" (Twilio's HTTP API, with the TWILIO_* settings below).
SMS_BACKEND = os.environ.get("SMS_BACKEND", "twilio" if PRODUCTION else "console")
# Mail and texts that would never reach anyone: refused in production, where a reminder
# written to a log file is a reminder silently lost (and a phone number left on disk).
DEVELOPMENT_EMAIL_BACKENDS = {
    "canvass.messaging.ConsoleAndFileEmailBackend",
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
}
DEVELOPMENT_SMS_BACKENDS = {"console", "file"}
if PRODUCTION and EMAIL_BACKEND in DEVELOPMENT_EMAIL_BACKENDS:
    raise ImproperlyConfigured(
        f"EMAIL_BACKEND={EMAIL_BACKEND} only writes mail to the console or a file. With "
        "PRODUCTION=1 use django.core.mail.backends.smtp.EmailBackend and the EMAIL_* settings."
    )
if PRODUCTION and SMS_BACKEND in DEVELOPMENT_SMS_BACKENDS:
    raise ImproperlyConfigured(
        f"SMS_BACKEND={SMS_BACKEND} only writes texts to the console or a file. With "
        "PRODUCTION=1 use SMS_BACKEND=twilio and the TWILIO_* settings."
    )
SMS_FROM_NUMBER = os.environ.get("SMS_FROM_NUMBER", "")
TWILIO_ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN", "")
TWILIO_API_URL = os.environ.get("TWILIO_API_URL", "https://api.twilio.com")
# Seconds for a whole provider call (connect, send, the complete answer), not per read.
SMS_TIMEOUT = env_int("SMS_TIMEOUT", 15)
# The most messages one person (one phone number or email address) gets in a day of theirs,
# across all their commitments, shift signups and links; more wait for the next day.
REMINDERS_PER_PERSON_PER_DAY = env_int("REMINDERS_PER_PERSON_PER_DAY", 3)
# Keys the one-way hash a forgotten person's opt-out is kept as (default: SECRET_KEY). Set
# it to the old key before rotating SECRET_KEY, or those people could be texted again.
OPTOUT_HASH_KEY = os.environ.get("OPTOUT_HASH_KEY", "")

# --- Celery -----------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_QUEUE_DIR = Path(os.environ.get("CELERY_QUEUE_DIR", BASE_DIR / "var" / "celery"))
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 600}
else:
    # No Redis: Celery's filesystem transport keeps messages as files, so the
    # demo runs the same worker and beat code as production with no service.
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_QUEUE_DIR / "queue"),
        "data_folder_out": str(CELERY_QUEUE_DIR / "queue"),
        "processed_folder": str(CELERY_QUEUE_DIR / "processed"),
        "control_folder": str(CELERY_QUEUE_DIR / "control"),
        "store_processed": False,
        "polling_interval": 0.5,
    }
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(
    Path(os.environ.get("CELERY_BEAT_SCHEDULE", BASE_DIR / "var" / "celerybeat-schedule"))
)

# --- REST framework ---------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Porchlight API",
    "DESCRIPTION": "Sync API for the door screen and the organizer dashboard.",
    "VERSION": "0.1.0",
    # The docs page's JavaScript is served by the app (drf-spectacular-sidecar), not a CDN.
    "REDOC_DIST": "SIDECAR",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
