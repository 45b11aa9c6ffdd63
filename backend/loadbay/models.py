"""Every domain's models, imported once so Alembic and the app see the whole metadata."""

from loadbay.auth.models import ApiKey, AuthSession, LoginFailure, User
from loadbay.db import Base
from loadbay.records.models import Record
from loadbay.schema.models import Entity, FieldDef
from loadbay.workspaces.models import Membership, Workspace

__all__ = [
    "ApiKey",
    "AuthSession",
    "Base",
    "Entity",
    "FieldDef",
    "LoginFailure",
    "Membership",
    "Record",
    "User",
    "Workspace",
]
