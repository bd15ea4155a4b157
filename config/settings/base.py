"""Settings shared by every environment. Everything a deployment changes comes from the environment."""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-dev-key-change-me")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "guardian",
    "simple_history",
    "viewflow",
    "viewflow.workflow",
    "permissions",
    "cases",
    "workflows",
    "notifications",
    "audit",
    "committees",
    "documents",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "api",
    "steering",
    "reception",
    "bench",
    "demo",
    "privacy",
    "mozilla_django_oidc",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "accounts",
    "ops",
    "exchanges",
    "django_prometheus",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",  # first and last: the whole request timed
    "permissions.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # static files, DEBUG on or off (the demo runs with it off)
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "api.middleware.FrenchApiMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "ops.context.UserIdMiddleware",  # the user's id (only) on every log line of the request
    "ops.logging.AccessLogMiddleware",  # method, path, status, time: never the query string
    "accounts.second_factor.SecondFactorMiddleware",  # admins, auditors, supervisors, staff: TOTP first
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "audit.middleware.HistoryReasonMiddleware",
    "axes.middleware.AxesMiddleware",  # turns a locked-out login into the lockout page
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "config.urls"

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
                "notifications.context_processors.unread_notifications",
                "steering.context_processors.steering_nav",
                "permissions.context_processors.role_menu",
            ],
            # French amounts, dates and names in every template (cases/formats.py).
            "builtins": ["cases.templatetags.french"],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"


# SQLite in the checkout unless DATABASE_URL says otherwise (PostgreSQL in CI and production).
def database(url: str) -> dict:
    """A DATABASES entry whose queries are counted for /metrics (django-prometheus' wrapper of the backend)."""
    config = env.db_url_config(url)
    config["ENGINE"] = config["ENGINE"].replace("django.db.backends.", "django_prometheus.db.backends.")
    config["ATOMIC_REQUESTS"] = False
    if "postgresql" in config["ENGINE"]:
        # No JIT compilation: it is meant for long analytic queries, and the planner's cost of the visibility
        # subqueries (the notification badge on every page, at 1,000,000 cases) starts it on short page
        # queries, for hundreds of milliseconds per request (README, "Steering at 10,000 / 100,000 /
        # 1,000,000 cases").
        options = config.setdefault("OPTIONS", {})
        options["options"] = f"{options.get('options', '')} -c jit=off".strip()
    return config


def databases() -> dict:
    """default, and `replica` when DATABASE_REPLICA_URL is set: reads of lists and statistics go there
    (cases/routing.py); the replica is never migrated nor written."""
    found = {"default": database(env("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"))}
    if env("DATABASE_REPLICA_URL", default=""):
        found["replica"] = database(env("DATABASE_REPLICA_URL")) | {"TEST": {"MIRROR": "default"}}
    return found


DATABASES = databases()
DATABASE_ROUTERS = ["cases.routing.ReplicaRouter"]
# The alias the router sends list and statistics reads to ("" = everything on default).
PPGDID_READ_REPLICA = "replica" if "replica" in DATABASES else ""
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out username + address before any check
    "accounts.backends.LocalPasswordBackend",  # Django's password check, while PPGDID_LOCAL_LOGIN is on
    "accounts.backends.ProfessionalOIDCBackend",  # single sign-on, while OIDC_RP_CLIENT_ID is set
    "guardian.backends.ObjectPermissionBackend",
]
ANONYMOUS_USER_NAME = None  # guardian: no anonymous user row

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Local password login (the demo, accounts without single sign-on); off once every professional has SSO.
PPGDID_LOCAL_LOGIN = env.bool("PPGDID_LOCAL_LOGIN", default=True)
# Single sign-on (OpenID Connect, mozilla-django-oidc; ProConnect for public agents and partners). On when
# OIDC_RP_CLIENT_ID is set. It matches the provider's verified e-mail with ONE active account and never
# creates accounts nor grants rights (accounts/backends.py). Endpoints: the provider's discovery document.
OIDC_RP_CLIENT_ID = env("OIDC_RP_CLIENT_ID", default="")
OIDC_RP_CLIENT_SECRET = env("OIDC_RP_CLIENT_SECRET", default="")
OIDC_OP_AUTHORIZATION_ENDPOINT = env("OIDC_OP_AUTHORIZATION_ENDPOINT", default="")
OIDC_OP_TOKEN_ENDPOINT = env("OIDC_OP_TOKEN_ENDPOINT", default="")
OIDC_OP_USER_ENDPOINT = env("OIDC_OP_USER_ENDPOINT", default="")
OIDC_OP_JWKS_ENDPOINT = env("OIDC_OP_JWKS_ENDPOINT", default="")
OIDC_OP_LOGOUT_ENDPOINT = env("OIDC_OP_LOGOUT_ENDPOINT", default="")
OIDC_RP_SIGN_ALGO = env("OIDC_RP_SIGN_ALGO", default="RS256")
OIDC_RP_SCOPES = env("OIDC_RP_SCOPES", default="openid email given_name usual_name")
OIDC_CREATE_USER = False
OIDC_TIMEOUT = env.int("OIDC_TIMEOUT", default=10)
LOGIN_REDIRECT_URL_FAILURE = "/accounts/login/?sso=refuse"
# Second factor (django-otp, TOTP + recovery codes) for territory admins, auditors (DPO), supervisors,
# system admins and staff (accounts/second_factor.py). On in production; the demo and the test suite turn
# it off (tests/accounts turns it back on); PPGDID_SECOND_FACTOR=1 turns it on in the demo.
PPGDID_SECOND_FACTOR = env.bool("PPGDID_SECOND_FACTOR", default=True)
# The issuer shown by authenticator apps.
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", default="Ménages prioritaires")

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Sessions end after 8 hours without a request: activity pushes the expiry back (config/sessions.py).
SESSION_ENGINE = "config.sessions"
SESSION_COOKIE_AGE = 8 * 60 * 60

# Login protection (django-axes): 5 failures for one username from one address lock that pair for
# 15 minutes; a success resets the count. config/login_protection.py logs each lockout (user id or a
# hash, truncated address: no personal data) and shows the French page; axes' own lines say the same.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # 15 minutes from the 5th failure, as the page says
AXES_LOCKOUT_CALLABLE = "config.login_protection.lockout_response"
AXES_CLIENT_STR_CALLABLE = "config.login_protection.client_str"
AXES_CLIENT_IP_CALLABLE = "config.login_protection.client_ip"
AXES_VERBOSE = False
# Number of trusted reverse proxies in front of the app (X-Forwarded-For): the login lockout and
# the API throttles then count the client's address, not the proxy's.
PPGDID_PROXY_COUNT = env.int("PPGDID_PROXY_COUNT", default=0)

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français"), ("en", "English")]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale"]

STATIC_URL = "static/"
STATIC_ROOT = env("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
# WhiteNoise serves the collected files (`manage.py collectstatic`), compressed. Not the manifest
# (hashed names) storage: viewflow's CSS points at font files it does not ship.
# Stored files (the art. 15 exports; privacy deletes them with the case's identity).
MEDIA_ROOT = env("DJANGO_MEDIA_ROOT", default=str(BASE_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

EMAIL_BACKEND = env("DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DJANGO_DEFAULT_FROM_EMAIL", default="ne-pas-repondre@ppgdid.example")
EMAIL_FILE_PATH = env("DJANGO_EMAIL_FILE_PATH", default=str(BASE_DIR / "sent-emails"))  # file backend only

# Celery: eager (in-process) unless a broker is configured.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="memory://")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=CELERY_BROKER_URL == "memory://")
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_TIME_LIMIT = 90
# A short connect timeout: publishing after a commit must not hold the request when the broker is
# down (notifications/outbox.py publishes without retries; the sweep re-queues the rows).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_connect_timeout": 1, "socket_timeout": 5}
CELERY_TIMEZONE = TIME_ZONE
# Periodic jobs. Several beats may run (one per node, for failover): each tick is fired by one of them
# only, the one that takes its Redis lock (ops/beat.py); viewflow's start timers are not locked themselves.
CELERY_BEAT_SCHEDULER = "ops.beat:LockedScheduler"
PPGDID_BEAT_LOCK_URL = env("PPGDID_BEAT_LOCK_URL", default="")  # default: the broker's Redis
CELERY_BEAT_SCHEDULE = {
    "workflow-timers": {"task": "workflows.fire_timers", "schedule": 60.0},
    "outbox-sweep": {"task": "notifications.sweep", "schedule": 60.0},
    "deadline-reminders": {"task": "notifications.send_reminders", "schedule": 60.0},
    "deadline-scan": {"task": "workflows.scan_deadlines", "schedule": crontab(minute=5)},
    "daily-digest": {"task": "notifications.daily_digest", "schedule": crontab(hour=7, minute=30)},
    # Retention (privacy): the first of each month at 03:15, the cases past their retention are anonymised.
    "retention-monthly": {"task": "privacy.apply_retention", "schedule": crontab(day_of_month=1, hour=3, minute=15)},
}
# Notifications: seconds before the sweep re-queues a pending e-mail (doubles per attempt, max 1 h),
# how many messages the sweep tops the queue up to; the site address used in e-mail links.
NOTIFICATIONS_RETRY_SECONDS = env.int("NOTIFICATIONS_RETRY_SECONDS", default=60)
NOTIFICATIONS_SWEEP_BATCH = env.int("NOTIFICATIONS_SWEEP_BATCH", default=200)
PPGDID_BASE_URL = env("PPGDID_BASE_URL", default="http://127.0.0.1:8000")
# Bounded sweeps: a burst of due steps (a morning, a resumed clock, an imported territory whose steps
# are all late) must not become a burst of work or of e-mails. Each periodic run does at most this much
# and leaves the rest, untouched and still due, to the next runs (nothing is lost, only spread out).
# Deadline timers fired per run of `workflows.fire_timers` (every minute; one look costs ~90 ms):
PPGDID_TIMERS_BATCH = env.int("PPGDID_TIMERS_BATCH", default=200)
# Timers armed or pulled forward per run of the hourly `workflows.scan_deadlines` (~40 ms each):
PPGDID_SCAN_BATCH = env.int("PPGDID_SCAN_BATCH", default=2000)
# Deadline reminders (overdue, escalated, reply due soon, DALO offer deadline: outbox.REMINDER_TEMPLATES)
# are never one e-mail per step: `notifications.send_reminders` (every minute) sends each recipient one
# e-mail gathering up to NOTIFICATIONS_REMINDER_ITEMS of them, to at most NOTIFICATIONS_REMINDER_RECIPIENTS
# recipients per run.
NOTIFICATIONS_REMINDER_ITEMS = env.int("NOTIFICATIONS_REMINDER_ITEMS", default=50)
NOTIFICATIONS_REMINDER_RECIPIENTS = env.int("NOTIFICATIONS_REMINDER_RECIPIENTS", default=200)

# PPGDID_LOG_FORMAT=json: one JSON object per line (python-json-logger) with request_id and user_id
# (ops/logging.py), for a log collector; the default stays plain text. No query string reaches a line
# (the access log omits it; no_query strips it from Django's own lines as well).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request": {"()": "ops.logging.RequestContextFilter"},
        "no_query": {"()": "ops.logging.NoQueryStringFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(user_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": env("PPGDID_LOG_FORMAT", default="plain"),
            "filters": ["request", "no_query"],
        }
    },
    "loggers": {
        "ppgdid": {"handlers": ["console"], "level": env("PPGDID_LOG_LEVEL", default="INFO")},
        # Django's request errors and runserver's access lines: same handler, query strings stripped.
        "django.request": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

# DPO's view (privacy/dpo.py): a user reading more distinct cases than this outside their usual scope in
# one day is flagged (the usual scope is defined in privacy.dpo.usual_scope).
PPGDID_DPO_OUTSIDE_SCOPE_READS_A_DAY = env.int("PPGDID_DPO_OUTSIDE_SCOPE_READS_A_DAY", default=20)

# Username of the system actor recorded on history rows written by timers, Celery and commands.
SYSTEM_ACTOR_USERNAME = "systeme"

# Access (permissions app). Commission scope hook: dotted path to `(user, grant) -> Q` on Case; the
# committees app points it at its agenda-based scope. Break-the-glass accesses last this long.
PPGDID_COMMISSION_SCOPE = env("PPGDID_COMMISSION_SCOPE", default="permissions.policy.territory_commission_scope")
PPGDID_BREAK_GLASS_MINUTES = env.int("PPGDID_BREAK_GLASS_MINUTES", default=60)

# Partner API (api/): token per landlord organisation, JSON errors in French, OpenAPI schema served
# with Swagger UI / Redoc from drf-spectacular-sidecar (no CDN).
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.auth.ApiTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.access.IsApiClient"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.Pagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
    # Requests per API client, and failed tokens per address (counted in api.auth, before the token
    # is looked up: DRF checks throttles only after authentication). Past a rate: 429, in French.
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.ClientRateThrottle"],
    "NUM_PROXIES": PPGDID_PROXY_COUNT or None,
    "DEFAULT_THROTTLE_RATES": {
        "api_client": env("PPGDID_API_CLIENT_RATE", default="1200/minute"),
        "api_token_failure": env("PPGDID_API_TOKEN_FAILURE_RATE", default="10/hour"),
    },
}
# Throttling counts in the cache: use a shared one (Redis) when several processes serve the API.
CACHES = {"default": env.cache("DJANGO_CACHE_URL", default="locmemcache://")}
SPECTACULAR_SETTINGS = {
    "TITLE": "API partenaires – ménages prioritaires",
    "DESCRIPTION": "Pour les systèmes d'information des bailleurs : dossiers désignés, propositions, décisions "
    "CALEOL, réponses des ménages, baux. Chaque POST exige un en-tête Idempotency-Key.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_NO_READ_ONLY_REQUIRED": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Offers (cases/offers.py, cases/matching.py). The reply period (at least 10 days, R441-10 CCH) is
# set per département (DepartementSettings.offer_reply_days) and counted in cases/deadlines.py.
# Persons per typology are local practice.

# Suspensive conditions of CALEOL allocations lapse by themselves when their deadline passes
# (workflows/tasks.py; also `manage.py offers_sweep`). Silence past the reply deadline is the deadline
# scan's job (notifications).
# Steering aggregates: the cases marked dirty since the last run (steering/aggregates.py).
CELERY_BEAT_SCHEDULE["steering-refresh"] = {"task": "steering.refresh", "schedule": 5 * 60.0}
CELERY_BEAT_SCHEDULE["cases-offers-sweep"] = {"task": "workflows.tasks.offers_sweep", "schedule": 60 * 60}
# Import jobs (exchanges/tasks.py) and their reports are kept this long after they finish, then
# deleted by the monthly purge.
PPGDID_IMPORT_JOBS_KEPT_DAYS = env.int("PPGDID_IMPORT_JOBS_KEPT_DAYS", default=365)
CELERY_BEAT_SCHEDULE["exchanges-purge-jobs"] = {
    "task": "exchanges.purge_jobs",
    "schedule": crontab(day_of_month=1, hour=3, minute=45),
}

# Reception network and the household's own view (reception/). The household's one-time codes go by
# e-mail (EMAIL_BACKEND) or SMS through this provider class (reception/sms.py: console, file, or a
# territory's operator); sign-in attempts are counted in the cache (CACHES: shared in production).
PPGDID_SMS_BACKEND = env("PPGDID_SMS_BACKEND", default="reception.sms.ConsoleBackend")
PPGDID_SMS_FILE_PATH = env("PPGDID_SMS_FILE_PATH", default=str(BASE_DIR / "sent-sms"))

# Metrics (/metrics, ops/metrics.py, Prometheus text format): refused unless the scraper shows this bearer
# token or comes from one of these addresses (directly: a request forwarded by a proxy is refused).
PPGDID_METRICS_TOKEN = env("PPGDID_METRICS_TOKEN", default="")
PPGDID_METRICS_ALLOWED_IPS = env.list("PPGDID_METRICS_ALLOWED_IPS", default=[])
# Overdue steps are computed from the current data (workflows/deadlines.py): kept this long between scrapes.
PPGDID_METRICS_OVERDUE_SECONDS = env.int("PPGDID_METRICS_OVERDUE_SECONDS", default=300)
# Optional error reporting (sentry-sdk, `pip install ".[prod]"`): no personal data (ops/errors.py).
SENTRY_DSN = env("SENTRY_DSN", default="")
if SENTRY_DSN:
    from ops.errors import init_sentry

    init_sentry(SENTRY_DSN)
