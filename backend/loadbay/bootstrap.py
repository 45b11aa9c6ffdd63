"""First start: a workspace and an admin account, and optionally the demo schema."""

from dataclasses import dataclass
from pathlib import Path

import yaml
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from loadbay.auth import service as auth_service
from loadbay.auth.models import User
from loadbay.core.actor import Actor, Principal, Role
from loadbay.core.security import new_token
from loadbay.schema import service as schema_service
from loadbay.schema.schemas import SchemaApplyResult, SchemaDocument
from loadbay.workspaces import service as workspace_service

DEFAULT_ADMIN_EMAIL = "admin@loadbay.local"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@dataclass
class FirstStart:
    workspace_id: int
    email: str
    password: str
    generated: bool


async def first_start(session: AsyncSession, *, email: str | None, password: str | None) -> FirstStart | None:
    """On an empty database, create the first workspace and its admin; otherwise do nothing."""
    if (await session.execute(select(func.count()).select_from(User))).scalar_one():
        return None
    generated = password is None
    password = password or new_token(12)
    user = await auth_service.create_user(session, email=email or DEFAULT_ADMIN_EMAIL, password=password,
                                          name="Administrator")
    ws = await workspace_service.create(session, name="My workspace", owner_id=user.id)
    return FirstStart(workspace_id=ws.id, email=user.email, password=password, generated=generated)


def load_schema_file(path: Path) -> SchemaDocument:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return SchemaDocument.model_validate(raw)


async def apply_schema_file(session: AsyncSession, *, workspace_id: int, path: Path,
                            dry_run: bool = False) -> SchemaApplyResult:
    actor = Actor(principal=Principal(user_id=None), workspace_id=workspace_id, role=Role.admin)
    return await schema_service.apply_schema(session, actor=actor, doc=load_schema_file(path), dry_run=dry_run)
