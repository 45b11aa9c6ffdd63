"""Every domain's models, imported once so Alembic and the app see the whole metadata."""

from loadbay.auth.models import ApiKey, AuthSession, LoginFailure, User
from loadbay.db import Base
from loadbay.events.models import Event
from loadbay.imports.models import ImportChunk, ImportSession, SavedMapping, StagedRow
from loadbay.invitations.models import Invitation
from loadbay.records.models import Record
from loadbay.schema.models import Entity, FieldDef
from loadbay.workspaces.models import Membership, Workspace

__all__ = [
    "ApiKey",
    "AuthSession",
    "Base",
    "Entity",
    "Event",
    "FieldDef",
    "ImportChunk",
    "ImportSession",
    "Invitation",
    "LoginFailure",
    "Membership",
    "Record",
    "SavedMapping",
    "StagedRow",
    "User",
    "Workspace",
]
