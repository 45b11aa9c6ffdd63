from datetime import datetime

from pydantic import Field

from loadbay.core.actor import Role
from loadbay.core.schemas import Schema


class WorkspaceCreate(Schema):
    name: str = Field(min_length=1, max_length=120, description="Display name.")


class WorkspaceUpdate(Schema):
    name: str = Field(min_length=1, max_length=120, description="Display name.")


class MemberRead(Schema):
    user_id: int
    email: str
    name: str
    role: Role
    created_at: datetime = Field(description="When the user joined this workspace.")


class MemberUpdate(Schema):
    role: Role
