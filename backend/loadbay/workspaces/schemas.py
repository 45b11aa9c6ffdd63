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


class MemberAdd(Schema):
    email: str = Field(min_length=3, max_length=320, description="Email of the user to add.")
    role: Role = Field(Role.viewer, description="Role in this workspace.")
    name: str = Field("", max_length=200, description="Name, when the user is created here.")
    password: str | None = Field(
        None,
        min_length=8,
        max_length=1024,
        description="Creates the user with this password when no account has this email yet.",
    )


class MemberUpdate(Schema):
    role: Role
