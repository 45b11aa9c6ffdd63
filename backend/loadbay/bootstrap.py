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
from loadbay.errors import NotFound
from loadbay.schema import service as schema_service
from loadbay.schema.schemas import SchemaApplyResult, SchemaDocument
from loadbay.workspaces import service as workspace_service
from loadbay.workspaces.models import Workspace

DEFAULT_ADMIN_EMAIL = "admin@loadbay.local"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@dataclass
class FirstStart:
    workspace_id: int
    email: str
    password: str
    generated: bool


async def first_start(session: AsyncSession, *, email: str | None, password: str | None) -> FirstStart | None:
    """With no workspace yet, create the first one and its admin; otherwise do nothing."""
    if (await session.execute(select(func.count()).select_from(Workspace))).scalar_one():
        return None
    email = (email or DEFAULT_ADMIN_EMAIL).strip().lower()
    password = password or None  # an empty LOADBAY_ADMIN_PASSWORD counts as unset
    user = (await session.execute(select(User).where(User.email == email))).scalar_one_or_none()
    generated = user is None and password is None
    if user is None:
        password = password or new_token(12)
        user = await auth_service.create_user(session, email=email, password=password, name="Administrator")
    # The first admin administers the instance: creates workspaces, when only instance admins may.
    user.is_instance_admin = True
    ws = await workspace_service.create(session, name="My workspace", owner_id=user.id)
    # An account made earlier with `loadbay users create` keeps its own password.
    return FirstStart(workspace_id=ws.id, email=user.email, password=password or "", generated=generated)


def load_schema_file(path: Path) -> SchemaDocument:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return SchemaDocument.model_validate(raw)


async def system_actor(session: AsyncSession, workspace_id: int) -> Actor:
    """An admin of the workspace for command-line tasks; a clear error when the workspace does not exist."""
    system = Principal(user_id=None, api_key_workspace_id=workspace_id, api_key_role=Role.admin)
    try:
        return await workspace_service.resolve_actor(session, principal=system, workspace_id=workspace_id)
    except NotFound:
        raise NotFound(
            f"Workspace {workspace_id} does not exist; `loadbay serve` creates the first workspace "
            "on its first start (see --workspace)."
        ) from None


async def apply_schema_file(
    session: AsyncSession, *, workspace_id: int, path: Path, dry_run: bool = False
) -> SchemaApplyResult:
    actor = await system_actor(session, workspace_id)
    return await schema_service.apply_schema(
        session, actor=actor, doc=load_schema_file(path), dry_run=dry_run
    )
