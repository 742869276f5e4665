"""Django settings for Weishang.

Configuration comes from the environment:

- ``WEISHANG_ENV``: ``development`` (default) or ``production``. Production refuses to start
  with ``DEBUG`` on or with the default ``SECRET_KEY``.
- ``DATABASE_URL``: any URL dj-database-url understands. Default: SQLite at ``var/weishang.sqlite3``.
- ``WEISHANG_VAR``: directory for the SQLite database and media (default ``./var``).
- ``SECRET_KEY``, ``DEBUG``, ``ALLOWED_HOSTS`` (comma-separated).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("WEISHANG_VAR", Path.cwd() / "var")).resolve()

ENV = os.environ.get("WEISHANG_ENV", "development")
if ENV not in {"development", "production"}:
    raise ImproperlyConfigured(f"WEISHANG_ENV must be 'development' or 'production', not {ENV!r}")

DEFAULT_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"
SECRET_KEY = os.environ.get("SECRET_KEY", DEFAULT_SECRET_KEY)
DEBUG = os.environ.get("DEBUG", "0" if ENV == "production" else "1").lower() in {"1", "true", "yes", "on"}
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]

if ENV == "production":
    if DEBUG:
        raise ImproperlyConfigured("WEISHANG_ENV=production refuses to start with DEBUG on.")
    if SECRET_KEY == DEFAULT_SECRET_KEY or len(SECRET_KEY) < 32:
        raise ImproperlyConfigured(
            "WEISHANG_ENV=production refuses to start without a SECRET_KEY of its own (32+ characters)."
        )
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

INSTALLED_APPS = [
    "unfold",
    "unfold.contrib.filters",
    "unfold.contrib.import_export",
    "unfold.contrib.simple_history",
    # Admin modules are discovered by weishang.console when every app is ready (console/apps.py).
    "django.contrib.admin.apps.SimpleAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "simple_history",
    "ninja",
    "import_export",
    "weishang.jobs.apps.TaskQueueConfig",  # django-tasks-db, titled in the console's words
    "weishang.core",
    "weishang.regions",
    "weishang.channel",
    "weishang.catalog",
    "weishang.trade",
    "weishang.ledger",
    "weishang.rewards",
    "weishang.web",
    "weishang.api",
    "weishang.webhooks",
    "weishang.toolkit",
    "weishang.faq",
    "weishang.codes",
    "weishang.certificates",
    "weishang.leads",
    "weishang.campaigns",
    "weishang.notifications",
    "weishang.wechat",
    "weishang.promotions",
    "weishang.stores",
    "weishang.service",
    "weishang.meetings",
    "weishang.monitor",
    "weishang.growth",
    "weishang.academy",
    "weishang.inventory",
    "weishang.purchasing",
    "weishang.selection",
    "weishang.sales",
    "weishang.b2b",
    "weishang.autofinance",
    "weishang.jobs",
    "weishang.demo",
    "weishang.console",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files from the app itself (M13: no separate web server needed); in development
    # straight from the apps' static folders, in production the collected, compressed, hashed ones.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "weishang.core.requestid.RequestIdMiddleware",
    "weishang.core.middleware.ContentSecurityPolicyByArea",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "weishang.core.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.middleware.http.ConditionalGetMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # A full disk, a read-only or unreachable database: a 503 page, not a server error (M13).
    "weishang.core.unavailable.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "weishang.urls"
WSGI_APPLICATION = "weishang.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # Templates of the libraries we change (before theirs): see the files' headers.
        "DIRS": [BASE_DIR / "console" / "templates_override"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# SQLite: WAL, synchronous=NORMAL and IMMEDIATE transactions, so that a writing transaction
# takes the write lock when it starts (no lock upgrade deadlocks, no lost updates).
# weishang.core.sqlite is Django's SQLite backend that creates the file's directory when it first
# opens it: importing these settings creates nothing (not even var/).
SQLITE_ENGINE = "weishang.core.sqlite"
SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    # Writers wait their turn in the application, woken as the lock is released, instead of
    # polling in SQLite's busy handler (weishang.core.sqlite.base; docs/benchmarks.md).
    "write_queue": os.environ.get("WEISHANG_SQLITE_WRITE_QUEUE", "1").lower() not in {"0", "false", "no", "off"},
    "timeout": 20,
    "init_command": (
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
        "PRAGMA busy_timeout=20000; PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;"
    ),
}
# PostgreSQL: parameters bound by the server, and a statement a connection has run
# ``WEISHANG_PG_PREPARE_THRESHOLD`` times (default 5) prepared, so PostgreSQL parses and plans it
# once per connection instead of on every run (docs/decisions.md, "PostgreSQL prepares the hot
# statements"). ``off``: Django's default (client-side binding, nothing prepared), for a pooler in
# transaction mode that cannot keep prepared statements (PgBouncer before 1.21).
_pg_prepare = os.environ.get("WEISHANG_PG_PREPARE_THRESHOLD", "5").strip().lower()
POSTGRES_OPTIONS: dict[str, object] = {}
if _pg_prepare not in {"off", "none", "no", "false"}:
    if not (_pg_prepare.isascii() and _pg_prepare.isdigit()) or len(_pg_prepare) > 6:
        raise ImproperlyConfigured(
            f"WEISHANG_PG_PREPARE_THRESHOLD must be a whole number of runs (0 or more) or off, not {_pg_prepare!r}"
        )
    POSTGRES_OPTIONS = {"server_side_binding": True, "prepare_threshold": int(_pg_prepare)}
_db_url = os.environ.get("DATABASE_URL")
if _db_url:
    DATABASES = {"default": dj_database_url.parse(_db_url, conn_max_age=60)}
    # One test database per test process, so that parallel runs never share one.
    DATABASES["default"]["TEST"] = {"NAME": f"test_weishang_{os.getpid()}"}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        DATABASES["default"]["ENGINE"] = SQLITE_ENGINE
        DATABASES["default"]["OPTIONS"] = dict(SQLITE_OPTIONS)
        # Persistent like PostgreSQL's: opening a SQLite file (the PRAGMAs, reading the schema) cost
        # about 2.5 ms of CPU per request (docs/benchmarks.md, M13 load). Restore stops the server.
        DATABASES["default"]["CONN_MAX_AGE"] = 60
        DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
    elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"]["OPTIONS"] = {**POSTGRES_OPTIONS, **DATABASES["default"].get("OPTIONS", {})}
else:
    DATABASES = {
        "default": {
            "ENGINE": SQLITE_ENGINE,
            "NAME": VAR_DIR / "weishang.sqlite3",
            "OPTIONS": dict(SQLITE_OPTIONS),
            # Tests use a file too, so that threads see WAL and IMMEDIATE locking as in production
            # (an in-memory shared-cache database locks differently); one file per test process.
            "TEST": {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Read replicas (M13, docs/operations.md "Scaling out"): comma-separated database URLs. Reports and
# exports read from them inside ``core.replicas.replica_reads()``; everything else, and every write,
# uses the primary. Tests mirror them onto the test database.
for _i, _url in enumerate(u for u in os.environ.get("WEISHANG_REPLICA_URLS", "").split(",") if u.strip()):
    _replica = dj_database_url.parse(_url.strip(), conn_max_age=60)
    if _replica["ENGINE"] == "django.db.backends.sqlite3":
        _replica["ENGINE"] = SQLITE_ENGINE
        _replica["OPTIONS"] = dict(SQLITE_OPTIONS)
    elif _replica["ENGINE"] == "django.db.backends.postgresql":
        _replica["OPTIONS"] = {**POSTGRES_OPTIONS, **_replica.get("OPTIONS", {})}
    _replica["TEST"] = {"MIRROR": "default"}
    DATABASES[f"replica{_i + 1}"] = _replica
DATABASE_ROUTERS = ["weishang.core.replicas.ReplicaRouter"]

# --- Cache ----------------------------------------------------------------------------------
# Two caches. "shared" holds what every process of a deployment must agree on: WeChat's access
# token and JS-SDK ticket (a second token fetched by another process cuts the first one short),
# sign-in and code rate limits, texted codes' counts. "default" holds what a process may keep to
# itself: the API's per-caller request counts (a check on every API request), drawn posters.
# ``WEISHANG_CACHE_URL``: ``db`` — "shared" in the database's table ``weishang_cache`` (made by
# core's migrations; production's default, no service to run); ``redis://host:6379/0`` — both in
# Redis (several machines: the API's counts are then shared too); ``locmem`` — both in the
# process's memory (development's default: one process).
CACHE_URL = os.environ.get("WEISHANG_CACHE_URL", "db" if ENV == "production" else "locmem")
_LOCMEM = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
if CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    _REDIS = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    CACHES = {"default": _REDIS, "shared": {**_REDIS, "KEY_PREFIX": "shared"}}
elif CACHE_URL == "db":
    CACHES = {
        "default": _LOCMEM,
        "shared": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "weishang_cache"},
    }
elif CACHE_URL == "locmem":
    CACHES = {"default": _LOCMEM, "shared": {**_LOCMEM, "LOCATION": "shared"}}
else:
    raise ImproperlyConfigured(f"WEISHANG_CACHE_URL must be db, locmem or a redis:// URL, not {CACHE_URL!r}")

# --- Accounts -------------------------------------------------------------------------------
AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = ["weishang.core.auth.PhoneOrUsernameBackend"]
AUTH_PASSWORD_VALIDATORS = [
    # Django's validators with our own words (weishang.core.password_validators).
    {"NAME": "weishang.core.password_validators.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "weishang.core.password_validators.CommonPasswordValidator"},
    {"NAME": "weishang.core.password_validators.NumericPasswordValidator"},
]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"

# --- Language and time ----------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Shanghai"
USE_TZ = True

# --- Files ----------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# WhiteNoise serves the apps' static folders as they are in development and tests, and what
# ``collectstatic`` gathered, compressed and named by content, in production (``serve --prod``).
WHITENOISE_USE_FINDERS = ENV != "production"
WHITENOISE_AUTOREFRESH = DEBUG
_STATICFILES_BACKEND = (
    "whitenoise.storage.CompressedManifestStaticFilesStorage"
    if ENV == "production"
    else "django.contrib.staticfiles.storage.StaticFilesStorage"
)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": _STATICFILES_BACKEND},
}
MEDIA_URL = "media/"
MEDIA_ROOT = VAR_DIR / "media"
# Uploaded files (product pictures, materials, qualifications, certificates) go through Django's
# storage API: local files under MEDIA_ROOT, or an S3-compatible bucket (django-storages) when
# WEISHANG_S3_BUCKET is set. The rest of S3's settings are boto3's usual environment variables
# (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) plus the endpoint for non-AWS services.
if os.environ.get("WEISHANG_S3_BUCKET"):
    STORAGES = {
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": os.environ["WEISHANG_S3_BUCKET"],
                "endpoint_url": os.environ.get("WEISHANG_S3_ENDPOINT") or None,
                "region_name": os.environ.get("WEISHANG_S3_REGION") or None,
                "default_acl": None,
                "querystring_auth": True,
                "file_overwrite": False,
            },
        },
        "staticfiles": {"BACKEND": _STATICFILES_BACKEND},
    }

# --- Console (django-unfold) ----------------------------------------------------------------
UNFOLD = {
    # The brand's own name in the sidebar and the titles (weishang.console.branding).
    "SITE_TITLE": "weishang.console.branding.site_title",
    "SITE_HEADER": "weishang.console.branding.site_header",
    "SITE_URL": "/m/",
    "SHOW_LANGUAGES": True,
    # The console's front page: the brand's figures (weishang.console.dashboard).
    "DASHBOARD_CALLBACK": "weishang.console.dashboard.dashboard_callback",
    # /console/audit/: every change to prices, levels, SKUs, plans, withdrawals and brand settings, with who made it.
    "SITE_VIEWS": [("audit/", "audit_history", "weishang.console.audit.AuditHistoryView")],
    # The sidebar: its entries and the permission each needs (weishang.console.sidebar).
    "SIDEBAR": {
        "show_search": True,
        "show_all_applications": True,
        "navigation": "weishang.console.sidebar.navigation",
    },
}

# Logs go to standard error; in production (or with WEISHANG_LOG_FORMAT=json) as one JSON object a
# line, each with the request id it belongs to (weishang.core.requestid), for a log collector.
LOG_FORMAT = os.environ.get("WEISHANG_LOG_FORMAT", "json" if ENV == "production" else "text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "weishang.core.requestid.RequestIdFilter"}},
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": "json" if LOG_FORMAT == "json" else "text",
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("WEISHANG_LOG_LEVEL", "WARNING")},
}

# --- Production hardening (M13) ---------------------------------------------------------------
# HTTPS: behind a proxy that ends TLS, WEISHANG_PROXY_SSL_HEADER=1 trusts its X-Forwarded-Proto.
if os.environ.get("WEISHANG_PROXY_SSL_HEADER") == "1":
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = ENV == "production" and os.environ.get("WEISHANG_SSL_REDIRECT", "1") == "1"
SECURE_HSTS_SECONDS = int(os.environ.get("WEISHANG_HSTS_SECONDS", "31536000" if ENV == "production" else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0 and os.environ.get("WEISHANG_HSTS_SUBDOMAINS", "1") == "1"
# Preloading is a brand's own commitment (hstspreload.org, hard to undo), not a default: its
# reminder (security.W021) is silenced; WEISHANG_HSTS_PRELOAD=1 sends the directive.
SECURE_HSTS_PRELOAD = os.environ.get("WEISHANG_HSTS_PRELOAD") == "1"
SILENCED_SYSTEM_CHECKS = ["security.W021"]
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = ENV == "production"
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]  # a load balancer asks over plain HTTP

# Content Security Policy (Django's, weishang.core.middleware.ContentSecurityPolicyByArea), enforced
# everywhere, so that the browser tests meet what production serves. Phone and public pages: our
# own scripts only, and WeChat's JS-SDK; pictures may come from the S3 bucket.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, "https://res.wx.qq.com", CSP.NONCE],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:", "blob:", "https:"],
    "media-src": [CSP.SELF, "blob:", "https:"],
    "font-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
}
# The console and the API's documentation: their framework evaluates expressions in the page.
WEISHANG_CSP_CONSOLE = {
    **SECURE_CSP,
    "script-src": [CSP.SELF, CSP.UNSAFE_INLINE, CSP.UNSAFE_EVAL],
    "frame-ancestors": [CSP.SELF],
}

# --- Payment providers (see weishang.trade.providers.base.get_provider) ----------------------
# The fake provider signs notifications with SECRET_KEY: development and tests only. WeChat Pay
# is configured from the environment when a merchant id is given.
WEISHANG_PAYMENT_PROVIDERS: dict = {}
if ENV != "production":
    WEISHANG_PAYMENT_PROVIDERS["fake"] = {"CLASS": "weishang.trade.providers.fake.FakeProvider"}
if os.environ.get("WECHATPAY_MCHID"):

    def _read(path_var: str) -> str:
        return Path(os.environ[path_var]).read_text()

    WEISHANG_PAYMENT_PROVIDERS["wechatpay"] = {
        "CLASS": "weishang.trade.providers.wechatpay.WeChatPayProvider",
        "OPTIONS": {
            "mchid": os.environ["WECHATPAY_MCHID"],
            "appid": os.environ["WECHATPAY_APPID"],
            "private_key_pem": _read("WECHATPAY_PRIVATE_KEY_FILE"),
            "cert_serial_no": os.environ["WECHATPAY_CERT_SERIAL_NO"],
            "apiv3_key": os.environ["WECHATPAY_APIV3_KEY"],
            "notify_url": os.environ["WECHATPAY_NOTIFY_URL"],
            "platform_public_key_pem": _read("WECHATPAY_PUBLIC_KEY_FILE"),
            "platform_public_key_id": os.environ["WECHATPAY_PUBLIC_KEY_ID"],
        },
    }

# --- WeChat (weishang.wechat, M11) -----------------------------------------------------------
# The 公众号 (official account) whose web OAuth signs agents in on the phone pages, and the
# mini-program's app for code2Session. Outside production WeChat is on against the fake server this
# project serves at /_fake/wechat/ (docs/operations.md says what a brand fills in).
_FAKE_WECHAT = ENV != "production" and os.environ.get("WEISHANG_WECHAT_FAKE", "1") == "1"
_WECHAT_FAKE_BASE = os.environ.get("WEISHANG_WECHAT_FAKE_BASE", "http://127.0.0.1:8000/_fake/wechat")
WEISHANG_WECHAT = {
    "ENABLED": os.environ.get("WEISHANG_WECHAT_ENABLED", "1" if _FAKE_WECHAT else "0") == "1",
    "FAKE": _FAKE_WECHAT,
    "APP_ID": os.environ.get("WEISHANG_WECHAT_APP_ID", "wxfake0000demo" if _FAKE_WECHAT else ""),
    "APP_SECRET": os.environ.get("WEISHANG_WECHAT_APP_SECRET", "fake-secret" if _FAKE_WECHAT else ""),
    "MINI_APP_ID": os.environ.get("WEISHANG_WECHAT_MINI_APP_ID", ""),
    "MINI_APP_SECRET": os.environ.get("WEISHANG_WECHAT_MINI_APP_SECRET", ""),
    "API_BASE": os.environ.get(
        "WEISHANG_WECHAT_API_BASE", _WECHAT_FAKE_BASE if _FAKE_WECHAT else "https://api.weixin.qq.com"
    ),
    "OPEN_BASE": os.environ.get(
        "WEISHANG_WECHAT_OPEN_BASE", _WECHAT_FAKE_BASE if _FAKE_WECHAT else "https://open.weixin.qq.com"
    ),
    # The template message (模板消息) the notifications go out as: its id, and its two fields for the
    # text and the time (a 待办事项提醒-like template with a thing and a time field).
    "TEMPLATE_ID": os.environ.get("WEISHANG_WECHAT_TEMPLATE_ID", "fake-todo-template" if _FAKE_WECHAT else ""),
    "TEMPLATE_TEXT_FIELD": os.environ.get("WEISHANG_WECHAT_TEMPLATE_TEXT_FIELD", "thing1"),
    "TEMPLATE_TIME_FIELD": os.environ.get("WEISHANG_WECHAT_TEMPLATE_TIME_FIELD", "time2"),
}
if (
    ENV == "production"
    and WEISHANG_WECHAT["ENABLED"]
    and not (WEISHANG_WECHAT["APP_ID"] and WEISHANG_WECHAT["APP_SECRET"])
):
    raise ImproperlyConfigured(
        "WEISHANG_ENV=production with WeChat on needs WEISHANG_WECHAT_APP_ID and WEISHANG_WECHAT_APP_SECRET "
        "(or WEISHANG_WECHAT_ENABLED=0)."
    )

# The site's address, for links in messages sent outside the site (WeChat template messages).
WEISHANG_SITE_URL = os.environ.get("WEISHANG_SITE_URL", "" if ENV == "production" else "http://127.0.0.1:8000")

# --- Outbox consumers (weishang.core.outbox) --------------------------------------------------
# On: the reward engine handles a transaction's events right after it commits, in the same
# process. Off (WEISHANG_OUTBOX_INLINE=0): only `weishang rewards process` (cron, a worker) does.
WEISHANG_OUTBOX_INLINE = os.environ.get("WEISHANG_OUTBOX_INLINE", "1") != "0"

# Background jobs (M13): Django's Tasks stored in the database, run by `weishang worker`
# (weishang.jobs): the schedule in jobs/schedule.py, leases, retries.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
WEISHANG_JOBS_MAX_ATTEMPTS = int(os.environ.get("WEISHANG_JOBS_MAX_ATTEMPTS", "5"))

# --- Sign-in safety (M7): client address, login lockout, device tokens, text messages ---------
# How many proxies stand in front of Weishang and append to X-Forwarded-For. 0: the header is
# ignored and the connection's address is the client's. Every rate limit and the login lockout
# read the address through weishang.core.http.client_ip.
WEISHANG_TRUSTED_PROXIES = int(os.environ.get("WEISHANG_TRUSTED_PROXIES", "0"))

# Login lockout (django-axes, weishang.core.lockout): 5 wrong passwords for one account, or 20 from
# one address, refuse further logins for 15 minutes; a successful login clears that account's
# failures from that address, a password reset by text message clears all of the account's.
INSTALLED_APPS += ["weishang.core.apps.AxesConfig"]  # django-axes, titled in the console's words
AUTHENTICATION_BACKENDS = ["weishang.core.lockout.LockoutBackend", *AUTHENTICATION_BACKENDS]
MIDDLEWARE += ["axes.middleware.AxesMiddleware"]  # last, as axes asks
AXES_FAILURE_LIMIT = 5
WEISHANG_LOGIN_IP_FAILURE_LIMIT = 20
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = False  # weishang.core.lockout clears (account, address) only
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_CLIENT_IP_CALLABLE = "weishang.core.http.client_ip"
AXES_USERNAME_CALLABLE = "weishang.core.lockout.login_name"
AXES_LOCKOUT_CALLABLE = "weishang.core.lockout.lockout_response"
AXES_HANDLER = "weishang.core.lockout.LockoutHandler"
AXES_HTTP_RESPONSE_CODE = 429
AXES_DISABLE_ACCESS_LOG = True  # failures are kept; a row per successful login is not
AXES_VERBOSE = False
AXES_ENABLE_ADMIN = False  # weishang.core.admin shows the attempts in the console's own style, to the owner

# A device token unused for this many days stops working (401 token_expired).
WEISHANG_TOKEN_IDLE_DAYS = int(os.environ.get("WEISHANG_TOKEN_IDLE_DAYS", "30"))

# Text messages (weishang.core.sms). The console backend writes reset codes to the log: production
# refuses it here, and the system check weishang.E001 refuses it whenever DEBUG is off.
WEISHANG_SMS_BACKEND = os.environ.get("WEISHANG_SMS_BACKEND", "weishang.core.sms.ConsoleBackend")
if ENV == "production" and WEISHANG_SMS_BACKEND == "weishang.core.sms.ConsoleBackend":
    raise ImproperlyConfigured(
        "WEISHANG_ENV=production refuses the console SMS backend (password reset codes would go to the log): "
        "set WEISHANG_SMS_BACKEND to your SMS provider's backend class."
    )
# Tencent Cloud SMS (weishang.core.sms_tencent.TencentSmsBackend): docs/operations.md says where in
# Tencent's console each value is. The check weishang.E002 refuses serving with one missing.
WEISHANG_SMS_TENCENT = {
    "SECRET_ID": os.environ.get("WEISHANG_TENCENT_SECRET_ID", ""),
    "SECRET_KEY": os.environ.get("WEISHANG_TENCENT_SECRET_KEY", ""),
    "SDK_APP_ID": os.environ.get("WEISHANG_TENCENT_SMS_APP_ID", ""),
    "SIGN_NAME": os.environ.get("WEISHANG_TENCENT_SMS_SIGN", ""),
    "REGION": os.environ.get("WEISHANG_TENCENT_SMS_REGION", "ap-guangzhou"),
    "ENDPOINT": os.environ.get("WEISHANG_TENCENT_SMS_ENDPOINT", "sms.tencentcloudapi.com"),
    "SCHEME": "https" if ENV == "production" else os.environ.get("WEISHANG_TENCENT_SMS_SCHEME", "https"),
    "TEMPLATES": {
        "password_reset": os.environ.get("WEISHANG_SMS_TEMPLATE_PASSWORD_RESET", ""),
        "wechat_bind": os.environ.get("WEISHANG_SMS_TEMPLATE_WECHAT_BIND", ""),
        "notice": os.environ.get("WEISHANG_SMS_TEMPLATE_NOTICE", ""),
    },
}

# --- Hardening (M7): webhook targets and upload limits ------------------------------------------
# Webhooks go to public addresses only (weishang.webhooks.safety). Loopback (127.0.0.1, ::1) is
# allowed in development only — DEBUG on, or WEISHANG_WEBHOOK_ALLOW_LOOPBACK=1 — for a receiver on
# the developer's machine; never in production, whatever the environment says.
WEISHANG_WEBHOOK_ALLOW_LOOPBACK = ENV != "production" and os.environ.get(
    "WEISHANG_WEBHOOK_ALLOW_LOOPBACK", "1" if DEBUG else "0"
).lower() in {"1", "true", "yes", "on"}
# A request body over this is refused from its Content-Length, before it is read (413); one
# picture is further limited to 5 MB and 40 million pixels (core.files.check_screenshot).
WEISHANG_UPLOAD_MAX_BYTES = int(os.environ.get("WEISHANG_UPLOAD_MAX_BYTES", 10 * 1024 * 1024))
MIDDLEWARE.insert(
    MIDDLEWARE.index("weishang.core.middleware.ChineseFirstLocaleMiddleware") + 1,
    "weishang.core.request_limits.RequestLimitsMiddleware",
)
# Under /api/: HEAD, OPTIONS, a wrong method and an unknown path answered in the API's envelope, in
# the caller's language (so after the locale middleware), around everything else.
MIDDLEWARE.insert(
    MIDDLEWARE.index("weishang.core.middleware.ChineseFirstLocaleMiddleware") + 1,
    "weishang.api.transport.ApiTransportMiddleware",
)

# --- Mail (M10): channel health alerts to the owner users --------------------------------------
# Printed on the console in development; in production the backend named by WEISHANG_EMAIL_BACKEND
# (SMTP by default, with Django's EMAIL_HOST … settings from the environment). Tests use locmem.
MAILERS = {
    "default": {
        "BACKEND": os.environ.get(
            "WEISHANG_EMAIL_BACKEND",
            "django.core.mail.backends.console.EmailBackend"
            if ENV != "production"
            else "django.core.mail.backends.smtp.EmailBackend",
        )
    }
}
