"""The caller and its workspaces, as sign-in and `auth-me` answer."""

from sqlalchemy.ext.asyncio import AsyncSession

from loadbay.auth.models import User
from loadbay.auth.schemas import Me, UserRead
from loadbay.core.actor import Principal
from loadbay.workspaces import service as workspace_service


async def me_of(session: AsyncSession, principal: Principal) -> Me:
    user = await session.get(User, principal.user_id) if principal.user_id else None
    workspaces = await workspace_service.list_for(session, principal=principal)
    return Me(
        user=UserRead.model_validate(user) if user else None,
        workspaces=[w.__dict__ for w in workspaces],
    )
