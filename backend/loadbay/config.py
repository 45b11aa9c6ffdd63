"""Settings, read from the environment (prefix ``LOADBAY_``) or a ``.env`` file."""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LOADBAY_", env_file=".env", extra="ignore")

    data_dir: Path = Field(Path(".loadbay"), description="Where the SQLite file and uploads live.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default: a SQLite file under the data directory."
    )
    redis_url: str | None = Field(None, description="Redis for arq workers; unset: jobs run in-process.")
    queue_name: str = Field(
        "loadbay:queue", description="arq queue (Redis key) shared by the API and its workers."
    )
    host: str = "127.0.0.1"
    port: int = 8000
    secure_cookies: bool = Field(False, description="Mark the session cookie Secure (behind HTTPS).")
    session_ttl_hours: int = 24 * 14
    login_max_failures: int = Field(
        10, description="Failed sign-ins per client address and email within the window before 429."
    )
    login_client_max_failures: int = Field(
        50, description="Failed sign-ins per client address (any emails) within the window before 429."
    )
    login_window_seconds: int = 900
    invitation_ttl_hours: int = Field(24 * 7, description="How long an invitation link can be accepted.")
    workspace_creators: Literal["instance_admins", "anyone"] = Field(
        "instance_admins", description="Who may create workspaces: instance administrators, or any user."
    )
    metrics_token: str | None = Field(
        None, description="Bearer token that /metrics asks for; unset: only loopback clients may scrape."
    )
    metrics_public: bool = Field(False, description="Serve /metrics to anyone (an operator's choice).")
    max_upload_bytes: int = 2 * 1024**3
    max_json_bytes: int = Field(
        4 * 1024**2, description="Largest JSON request body (uploads have their own)."
    )
    profile_seconds: float = Field(
        60.0, gt=0, description="Time a new file's detection and profile may take."
    )
    page_max: int = 1000
    count_cap: int = 10_000
    db_pool_size: int = 10
    import_chunk_rows: int = Field(50_000, description="Rows per commit chunk (one transaction each).")
    import_lease_seconds: int = Field(
        90, description="A staging or chunk silent this long is taken to be lost and is sent again."
    )
    sweep_seconds: int = Field(30, description="How often the sweeper looks for lost import work.")
    staging_processes: int = Field(
        0,
        description="Processes that stage one large CSV side by side (PostgreSQL); 0: one per CPU, "
        "at most 4; 1: one pass.",
    )
    staging_split_bytes: int = Field(
        32 << 20, description="A CSV is cut into parts for staging only if each part gets this many bytes."
    )
    static_dir: Path | None = Field(None, description="Built web app; default: frontend/dist if present.")
    log_level: str = "INFO"
    log_format: str = Field("auto", description="`json`, `console`, or `auto` (JSON unless on a terminal).")
    admin_email: str | None = Field(None, description="First admin's email on first start.")
    admin_password: str | None = Field(None, description="First admin's password on first start.")

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'loadbay.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
