from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from loadbay.auth.me import me_of
from loadbay.auth.schemas import Me
from loadbay.core.actor import Principal
from loadbay.core.links import invitation_links
from loadbay.deps import (
    AdminActor,
    ClientAddress,
    DbSession,
    SameOrigin,
    SessionUserId,
    SettingsDep,
    set_session_cookie,
)
from loadbay.errors import COMMON_ERRORS, ERR_401, ERR_403, ERR_404, ERR_409, ERR_410, ERR_422, ERR_429
from loadbay.invitations import service
from loadbay.invitations.schemas import (
    InvitationAccept,
    InvitationCreate,
    InvitationCreated,
    InvitationPreview,
    InvitationRead,
    InvitationRegister,
)

router = APIRouter(
    prefix="/workspaces/{workspace_id}/invitations", tags=["invitations"], responses=COMMON_ERRORS
)
# Opened by whoever holds the link: no sign-in needed, the token is the key.
public_router = APIRouter(prefix="/invitations", tags=["invitations"])

InvitationId = Annotated[int, Path(description="Invitation id.", ge=1, le=2**31 - 1)]
Token = Annotated[
    str,
    Path(
        description="The secret of the invitation link.",
        min_length=16,
        max_length=128,
        pattern=r"^[A-Za-z0-9_-]+$",
    ),
]
PUBLIC_ERRORS = {**ERR_404, **ERR_410, **ERR_422}


@router.get("", operation_id="invitations-list")
async def list_invitations(session: DbSession, actor: AdminActor) -> list[InvitationRead]:
    """Pending invitations of the workspace (not accepted, revoked or expired), newest first."""
    return [InvitationRead.model_validate(i) for i in await service.list_pending(session, actor=actor)]


@router.post(
    "",
    operation_id="invitations-create",
    status_code=status.HTTP_201_CREATED,
    responses={**ERR_409, **invitation_links()},
)
async def create_invitation(
    body: InvitationCreate, session: DbSession, actor: AdminActor, settings: SettingsDep
) -> InvitationCreated:
    """Invite an email with a role; the link's token is in this answer only (same answer for any email)."""
    view, token = await service.invite(
        session, actor=actor, email=body.email, role=body.role, settings=settings
    )
    return InvitationCreated.model_validate(
        {**view.__dict__, "token": token, "path": service.link_path(token)}
    )


@router.delete(
    "/{invitation_id}",
    operation_id="invitations-revoke",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=ERR_409,
)
async def revoke_invitation(invitation_id: InvitationId, session: DbSession, actor: AdminActor) -> None:
    """Revoke a pending invitation; its link stops working."""
    await service.revoke(session, actor=actor, invitation_id=invitation_id)


@public_router.get("/{token}", operation_id="invitations-preview", responses=PUBLIC_ERRORS)
async def preview_invitation(token: Token, session: DbSession, user_id: SessionUserId) -> InvitationPreview:
    """What an invitation link is for: workspace, email and role (no sign-in needed)."""
    return InvitationPreview.model_validate(
        await service.preview(session, token=token, session_user_id=user_id)
    )


@public_router.post(
    "/{token}/register",
    operation_id="invitations-register",
    dependencies=[SameOrigin],
    responses={**PUBLIC_ERRORS, **ERR_403, **ERR_409},
)
async def register_with_invitation(
    token: Token, body: InvitationRegister, response: Response, session: DbSession, settings: SettingsDep
) -> Me:
    """Accept by creating the invited email's account with your own name and password; signs you in."""
    user, session_token = await service.register(
        session, token=token, name=body.name, password=body.password, settings=settings
    )
    set_session_cookie(response, session_token, settings)
    return await me_of(session, Principal(user_id=user.id))


@public_router.post(
    "/{token}/accept",
    operation_id="invitations-accept",
    dependencies=[SameOrigin],
    responses={**PUBLIC_ERRORS, **ERR_401, **ERR_403, **ERR_409, **ERR_429},
)
async def accept_invitation(
    token: Token,
    body: InvitationAccept,
    response: Response,
    session: DbSession,
    settings: SettingsDep,
    user_id: SessionUserId,
    client: ClientAddress,
) -> Me:
    """Accept with your existing account: its password, or this browser's session of that account."""
    user, session_token = await service.accept(
        session,
        token=token,
        password=body.password,
        session_user_id=user_id,
        client=client,
        settings=settings,
    )
    if session_token is not None:
        set_session_cookie(response, session_token, settings)
    return await me_of(session, Principal(user_id=user.id))
