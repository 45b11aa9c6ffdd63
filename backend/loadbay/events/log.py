"""The one writer of the event log. Call it in the transaction of the change it describes.

Actions are ``<subject>.<verb>``: ``record.created|updated|deleted``, ``records.deleted_all``,
``import.committed``, ``entity.created|deleted``, ``field.created|updated|deleted``,
``member.invited|joined|role_changed|removed``, ``invitation.revoked``, ``api_key.created|revoked``.
"""

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from loadbay.core.actor import Actor
from loadbay.core.request_id import current_request_id
from loadbay.events.models import Event


@dataclass(frozen=True)
class Who:
    """The author of a change: a user, an API key, or nobody (the command line, the system)."""

    user_id: int | None = None
    api_key_id: int | None = None

    @classmethod
    def of(cls, actor: Actor | None) -> "Who":
        if actor is None:
            return cls()
        return cls(user_id=actor.principal.user_id, api_key_id=actor.principal.api_key_id)


def append(
    session: AsyncSession,
    *,
    workspace_id: int,
    who: Who | Actor | None,
    action: str,
    subject_type: str,
    subject_id: int | None = None,
    entity_id: int | None = None,
    import_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> Event:
    """Add one event to the session; it is written with the change, or not at all."""
    author = who if isinstance(who, Who) else Who.of(who)
    event = Event(
        workspace_id=workspace_id,
        user_id=author.user_id,
        api_key_id=author.api_key_id,
        request_id=current_request_id(),
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        entity_id=entity_id,
        import_id=import_id,
        payload=payload or {},
    )
    session.add(event)
    return event
