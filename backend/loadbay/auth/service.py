"""Sign-in, sessions, users and API keys."""

import asyncio
from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from loadbay.auth import repository, throttle
from loadbay.auth.models import ApiKey, AuthSession, User
from loadbay.config import Settings
from loadbay.core.actor import Actor, Principal, Role
from loadbay.core.security import hash_password, new_token, token_hash, verify_password
from loadbay.db import utcnow
from loadbay.errors import Conflict, NotFound, Unauthorized
from loadbay.events import log as events

API_KEY_PREFIX = "lb_"


async def verify_credentials(
    session: AsyncSession, *, email: str, password: str, client: str, settings: Settings
) -> User:
    """The active user with this email and password, throttled per client address and email."""
    email = email.strip().lower()
    now = utcnow()
    await throttle.check(session, client=client, email=email, settings=settings, now=now)
    user = await repository.user_by_email(session, email)
    # Argon2 is slow on purpose: off the event loop.
    ok = await asyncio.to_thread(verify_password, password, user.password_hash if user else None)
    if user is None or not ok or not user.is_active:
        await throttle.record_failure(session, client=client, email=email, now=now)
        raise Unauthorized("Wrong email or password.", code="invalid_credentials", keep_changes=True)
    await throttle.clear(session, client=client, email=email)
    return user


async def start_session(session: AsyncSession, *, user: User, settings: Settings) -> str:
    """A new web session for the user; returns its token (for the cookie), of which we keep the hash."""
    token = new_token()
    session.add(
        AuthSession(
            token_hash=token_hash(token),
            user_id=user.id,
            expires_at=utcnow() + timedelta(hours=settings.session_ttl_hours),
        )
    )
    await session.flush()
    return token


async def login(
    session: AsyncSession, *, email: str, password: str, client: str, settings: Settings
) -> tuple[User, str]:
    """Check the credentials; return the user and a new session token (for the cookie)."""
    user = await verify_credentials(session, email=email, password=password, client=client, settings=settings)
    return user, await start_session(session, user=user, settings=settings)


async def logout(session: AsyncSession, *, token: str) -> None:
    await session.execute(delete(AuthSession).where(AuthSession.token_hash == token_hash(token)))


async def principal_from_session(session: AsyncSession, token: str) -> Principal | None:
    user = await repository.user_by_session_token(session, token_hash(token), utcnow())
    return Principal(user_id=user.id) if user else None


async def principal_from_api_key(session: AsyncSession, token: str) -> Principal | None:
    # Token shape: lb_<prefix>_<secret>; the prefix finds the row, the hash proves the secret.
    if not token.startswith(API_KEY_PREFIX):
        return None
    prefix = token[len(API_KEY_PREFIX) :].split("_", 1)[0]
    key = await repository.api_key_by_prefix(session, prefix)
    if key is None or key.revoked_at is not None or key.token_hash != token_hash(token):
        return None
    role = Role(key.role)
    if key.created_by_id is not None:
        # A key never does more than its creator can do now; a removed or deactivated creator's key
        # does nothing. Keys without a creator were made on the command line: the operator's.
        current = await repository.creator_role(session, key.created_by_id, key.workspace_id)
        if current is None:
            return None
        role = min(role, Role(current), key=lambda r: r.rank)
    key.last_used_at = utcnow()
    return Principal(
        user_id=None,
        api_key_id=key.id,
        api_key_workspace_id=key.workspace_id,
        api_key_role=role,
        api_key_creator_id=key.created_by_id,
    )


async def create_user(
    session: AsyncSession, *, email: str, password: str, name: str = "", instance_admin: bool = False
) -> User:
    email = email.strip().lower()
    if await repository.user_by_email(session, email):
        raise Conflict(f"A user with email {email} already exists.", code="user_exists")
    user = User(
        email=email, name=name, password_hash=hash_password(password), is_instance_admin=instance_admin
    )
    session.add(user)
    await session.flush()
    return user


async def set_password(session: AsyncSession, *, email: str, password: str) -> User:
    user = await repository.user_by_email(session, email)
    if user is None:
        raise NotFound(f"No user with email {email}.")
    user.password_hash = hash_password(password)
    await session.execute(delete(AuthSession).where(AuthSession.user_id == user.id))
    return user


async def set_instance_admin(session: AsyncSession, *, email: str, instance_admin: bool) -> User:
    user = await repository.user_by_email(session, email.strip())
    if user is None:
        raise NotFound(f"No user with email {email.strip().lower()}.")
    user.is_instance_admin = instance_admin
    await session.flush()
    return user


async def create_api_key(session: AsyncSession, *, actor: Actor, name: str, role: Role) -> tuple[ApiKey, str]:
    if not actor.role.allows(role):
        raise Conflict("An API key cannot have a higher role than its creator.", code="role_too_high")
    prefix = new_token(6).replace("_", "x").replace("-", "y")[:8]
    token = f"{API_KEY_PREFIX}{prefix}_{new_token(32)}"
    key = ApiKey(
        workspace_id=actor.workspace_id,
        name=name,
        role=role.value,
        prefix=prefix,
        token_hash=token_hash(token),
        # A key made with a key answers to the same person as the key that made it.
        created_by_id=actor.user_id if actor.user_id is not None else actor.principal.api_key_creator_id,
    )
    session.add(key)
    await session.flush()
    events.append(
        session,
        workspace_id=actor.workspace_id,
        who=actor,
        action="api_key.created",
        subject_type="api_key",
        subject_id=key.id,
        payload={"name": name, "role": role.value},
    )
    return key, token


async def list_api_keys(session: AsyncSession, *, actor: Actor) -> list[ApiKey]:
    return await repository.api_keys_of(session, actor.workspace_id)


async def revoke_api_key(session: AsyncSession, *, actor: Actor, key_id: int) -> None:
    key = await session.get(ApiKey, key_id)
    if key is None or key.workspace_id != actor.workspace_id:
        raise NotFound(f"API key {key_id} not found.")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        events.append(
            session,
            workspace_id=actor.workspace_id,
            who=actor,
            action="api_key.revoked",
            subject_type="api_key",
            subject_id=key.id,
            payload={"name": key.name, "role": key.role},
        )
    await session.flush()
