from enum import StrEnum

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import text

from loadbay import __version__
from loadbay.deps import DbSession

router = APIRouter(tags=["meta"])


class DatabaseKind(StrEnum):
    postgresql = "postgresql"
    sqlite = "sqlite"


class Health(BaseModel):
    status: str = Field(description="`ok` when the API can reach its database.")
    database: DatabaseKind
    version: str


@router.get("/health", operation_id="meta-health")
async def health(session: DbSession) -> Health:
    """Liveness and database reachability (no sign-in needed)."""
    await session.execute(text("SELECT 1"))
    return Health(status="ok", database=DatabaseKind(session.get_bind().dialect.name), version=__version__)
