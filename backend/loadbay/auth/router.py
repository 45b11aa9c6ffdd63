from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status

from loadbay.auth import service
from loadbay.auth.me import me_of
from loadbay.auth.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyRead, LoginRequest, Me
from loadbay.core.actor import Principal
from loadbay.deps import (
    SESSION_COOKIE,
    AdminActor,
    ClientAddress,
    DbSession,
    PrincipalDep,
    SettingsDep,
    set_session_cookie,
)
from loadbay.errors import COMMON_ERRORS, ERR_400, ERR_401, ERR_422, ERR_429

router = APIRouter(prefix="/auth", tags=["auth"])
keys_router = APIRouter(
    prefix="/workspaces/{workspace_id}/api-keys", tags=["api-keys"], responses=COMMON_ERRORS
)


KeyId = Annotated[int, Path(description="API key id.", ge=1, le=2**31 - 1)]


@router.post("/login", operation_id="auth-login", responses={**ERR_400, **ERR_401, **ERR_422, **ERR_429})
async def login(
    body: LoginRequest, response: Response, session: DbSession, settings: SettingsDep, client: ClientAddress
) -> Me:
    """Sign in with email and password; sets the session cookie (throttled per address and email)."""
    user, token = await service.login(
        session, email=body.email, password=body.password, client=client, settings=settings
    )
    set_session_cookie(response, token, settings)
    return await me_of(session, Principal(user_id=user.id))


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
    return await me_of(session, principal)


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
