from typing import Annotated

from fastapi import APIRouter, Path, status

from loadbay.auth.schemas import WorkspaceRead
from loadbay.deps import AdminActor, DbSession, PrincipalDep, SettingsDep, UserPrincipal, ViewerActor
from loadbay.errors import COMMON_ERRORS, ERR_409
from loadbay.workspaces import service
from loadbay.workspaces.schemas import MemberRead, MemberUpdate, WorkspaceCreate, WorkspaceUpdate

router = APIRouter(prefix="/workspaces", tags=["workspaces"], responses=COMMON_ERRORS)


UserId = Annotated[int, Path(description="User id.", ge=1, le=2**31 - 1)]


@router.get("", operation_id="workspaces-list")
async def list_workspaces(session: DbSession, principal: PrincipalDep) -> list[WorkspaceRead]:
    """Workspaces the caller can use, with its role in each."""
    return [WorkspaceRead.model_validate(w) for w in await service.list_for(session, principal=principal)]


@router.post("", operation_id="workspaces-create", status_code=status.HTTP_201_CREATED)
async def create_workspace(
    body: WorkspaceCreate, session: DbSession, principal: UserPrincipal, settings: SettingsDep
) -> WorkspaceRead:
    """Create a workspace; the caller becomes its admin (instance administrators only, by default)."""
    assert principal.user_id is not None
    view = await service.create_by_user(
        session, user_id=principal.user_id, name=body.name, creators=settings.workspace_creators
    )
    return WorkspaceRead.model_validate(view)


@router.get("/{workspace_id}", operation_id="workspaces-get")
async def get_workspace(session: DbSession, actor: ViewerActor) -> WorkspaceRead:
    """One workspace, with the caller's role."""
    return WorkspaceRead.model_validate(await service.get(session, actor=actor))


@router.patch("/{workspace_id}", operation_id="workspaces-update")
async def update_workspace(body: WorkspaceUpdate, session: DbSession, actor: AdminActor) -> WorkspaceRead:
    """Rename a workspace."""
    return WorkspaceRead.model_validate(await service.rename(session, actor=actor, name=body.name))


@router.get("/{workspace_id}/members", operation_id="members-list")
async def list_members(session: DbSession, actor: ViewerActor) -> list[MemberRead]:
    """Members of the workspace and their roles."""
    return [MemberRead.model_validate(m) for m in await service.list_members(session, actor=actor)]


@router.patch("/{workspace_id}/members/{user_id}", operation_id="members-update", responses=ERR_409)
async def update_member(
    user_id: UserId, body: MemberUpdate, session: DbSession, actor: AdminActor
) -> MemberRead:
    """Change a member's role (a workspace keeps at least one admin)."""
    return MemberRead.model_validate(
        await service.update_member(session, actor=actor, user_id=user_id, role=body.role)
    )


@router.delete(
    "/{workspace_id}/members/{user_id}",
    operation_id="members-remove",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=ERR_409,
)
async def remove_member(user_id: UserId, session: DbSession, actor: AdminActor) -> None:
    """Remove a member from the workspace."""
    await service.remove_member(session, actor=actor, user_id=user_id)
