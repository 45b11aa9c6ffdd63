from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status

from loadbay.auth import service
from loadbay.auth.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyRead, LoginRequest, Me, UserRead
from loadbay.deps import SESSION_COOKIE, AdminActor, DbSession, PrincipalDep, SettingsDep
from loadbay.errors import COMMON_ERRORS, ERR_400, ERR_401, ERR_422, ERR_429
from loadbay.workspaces import service as workspace_service

router = APIRouter(prefix="/auth", tags=["auth"])
keys_router = APIRouter(
    prefix="/workspaces/{workspace_id}/api-keys", tags=["api-keys"], responses=COMMON_ERRORS
)


async def _me(session: DbSession, principal: PrincipalDep) -> Me:
    from loadbay.auth.models import User

    user = await session.get(User, principal.user_id) if principal.user_id else None
    workspaces = await workspace_service.list_for(session, principal=principal)
    return Me(
        user=UserRead.model_validate(user) if user else None,
        workspaces=[w.__dict__ for w in workspaces],
    )


KeyId = Annotated[int, Path(description="API key id.", ge=1, le=2**31 - 1)]


@router.post("/login", operation_id="auth-login", responses={**ERR_400, **ERR_401, **ERR_422, **ERR_429})
async def login(body: LoginRequest, response: Response, session: DbSession, settings: SettingsDep) -> Me:
    """Sign in with email and password; sets the session cookie."""
    user, token = await service.login(session, email=body.email, password=body.password, settings=settings)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_ttl_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        path="/",
    )
    from loadbay.core.actor import Principal

    return await _me(session, Principal(user_id=user.id))


@router.post("/logout", operation_id="auth-logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(request: Request, response: Response, session: DbSession) -> None:
    """Sign out: the session ends on the server and the cookie is cleared."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await service.logout(session, token=token)
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.get("/me", operation_id="auth-me", responses=ERR_401)
async def me(session: DbSession, principal: PrincipalDep) -> Me:
    """The caller and the workspaces it can use."""
    return await _me(session, principal)


@keys_router.get("", operation_id="api-keys-list")
async def list_keys(session: DbSession, actor: AdminActor) -> list[ApiKeyRead]:
    """API keys of the workspace (never their secrets)."""
    return [ApiKeyRead.model_validate(k) for k in await service.list_api_keys(session, actor=actor)]


@keys_router.post("", operation_id="api-keys-create", status_code=status.HTTP_201_CREATED)
async def create_key(body: ApiKeyCreate, session: DbSession, actor: AdminActor) -> ApiKeyCreated:
    """Create an API key; its token is in this response and never again."""
    key, token = await service.create_api_key(session, actor=actor, name=body.name, role=body.role)
    return ApiKeyCreated.model_validate({**ApiKeyRead.model_validate(key).model_dump(), "token": token})


@keys_router.delete("/{key_id}", operation_id="api-keys-revoke", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_key(key_id: KeyId, session: DbSession, actor: AdminActor) -> None:
    """Revoke an API key; calls with it are refused from now on."""
    await service.revoke_api_key(session, actor=actor, key_id=key_id)
