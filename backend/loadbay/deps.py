"""Request-scoped dependencies: the unit of work, the caller, and its role in the workspace."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Path, Request, Response
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from loadbay.auth import service as auth_service
from loadbay.config import Settings
from loadbay.core.actor import Actor, Principal, Role
from loadbay.errors import AppError, Forbidden, Unauthorized
from loadbay.worker.backend import discard_deferred, send_deferred
from loadbay.workspaces import service as workspace_service

SESSION_COOKIE = "loadbay_session"
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_db(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request, committed before the response is sent."""
    async with request.app.state.sessionmaker() as session:
        try:
            yield session
            await session.commit()
        except AppError as e:
            await (session.commit() if e.keep_changes else session.rollback())
            discard_deferred(session)
            raise
        except BaseException:
            await session.rollback()
            discard_deferred(session)
            raise
        # An app built without its lifespan (some tests) has no queue; the sweeper covers for it.
        jobs = getattr(request.app.state, "jobs", None)
        if jobs is not None:
            await send_deferred(session, jobs)


SettingsDep = Annotated[Settings, Depends(get_settings)]
DbSession = Annotated[AsyncSession, Depends(get_db, scope="function")]


def client_address(request: Request) -> str:
    """The caller's address (behind a trusted proxy, the one it forwarded; see FORWARDED_ALLOW_IPS)."""
    return request.client.host if request.client else ""


ClientAddress = Annotated[str, Depends(client_address)]


def set_session_cookie(response: Response, token: str, settings: Settings) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_ttl_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        path="/",
    )


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    host = request.headers.get("host", "")
    return origin.split("://", 1)[-1] == host


# Declared for the contract (clients learn both ways in); get_principal reads the headers itself.
_bearer = HTTPBearer(
    auto_error=False, scheme_name="apiKey", description="An API key: `Authorization: Bearer lb_…`."
)
_cookie = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    scheme_name="session",
    description="The web app's session cookie, set by `auth-login`.",
)


async def get_principal(
    request: Request,
    session: DbSession,
    _bearer_credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    _session_cookie: Annotated[str | None, Depends(_cookie)],
) -> Principal:
    auth = request.headers.get("authorization", "")
    if auth:
        scheme, _, token = auth.partition(" ")
        principal = None
        if scheme.lower() == "bearer" and token:
            principal = await auth_service.principal_from_api_key(session, token.strip())
        if principal is None:
            raise Unauthorized("Unknown or revoked API key.", code="invalid_api_key")
        return principal
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        principal = await auth_service.principal_from_session(session, cookie)
        if principal is not None:
            # Cookies ride along on cross-site requests; refuse state changes from another origin.
            if request.method in UNSAFE_METHODS and not _same_origin(request):
                raise Forbidden("Cross-origin request refused.", code="cross_origin")
            return principal
    raise Unauthorized("Sign in, or send an API key as `Authorization: Bearer <key>`.")


PrincipalDep = Annotated[Principal, Depends(get_principal)]


async def get_actor(
    session: DbSession,
    principal: PrincipalDep,
    workspace_id: Annotated[int, Path(description="Workspace id.", ge=1, le=2**31 - 1)],
) -> Actor:
    return await workspace_service.resolve_actor(session, principal=principal, workspace_id=workspace_id)


def _require(role: Role):  # type: ignore[no-untyped-def]
    async def dep(actor: Annotated[Actor, Depends(get_actor)]) -> Actor:
        if not actor.role.allows(role):
            raise Forbidden(f"This needs the {role.value} role; yours is {actor.role.value}.")
        return actor

    return dep


ViewerActor = Annotated[Actor, Depends(_require(Role.viewer))]
EditorActor = Annotated[Actor, Depends(_require(Role.editor))]
AdminActor = Annotated[Actor, Depends(_require(Role.admin))]


async def get_user_principal(principal: PrincipalDep) -> Principal:
    if principal.user_id is None:
        raise Forbidden("This needs a signed-in user, not an API key.", code="user_required")
    return principal


UserPrincipal = Annotated[Principal, Depends(get_user_principal)]


async def get_session_user_id(request: Request, session: DbSession) -> int | None:
    """The signed-in user of the session cookie, if any (for pages anyone with a link may open)."""
    cookie = request.cookies.get(SESSION_COOKIE)
    principal = await auth_service.principal_from_session(session, cookie) if cookie else None
    return principal.user_id if principal else None


SessionUserId = Annotated[int | None, Depends(get_session_user_id)]


def require_same_origin(request: Request) -> None:
    """Public writes that may ride on a cookie, or set one, come from our own pages only."""
    if not _same_origin(request):
        raise Forbidden("Cross-origin request refused.", code="cross_origin")


SameOrigin = Depends(require_same_origin)
