from datetime import datetime

from pydantic import EmailStr, Field

from loadbay.core.actor import Role
from loadbay.core.schemas import Schema


class LoginRequest(Schema):
    email: str = Field(max_length=320, description="The account's email address.")
    password: str = Field(max_length=1024, description="The account's password.")


class UserRead(Schema):
    id: int
    email: str
    name: str


class WorkspaceRead(Schema):
    id: int
    name: str = Field(description="Display name of the workspace.")
    role: Role = Field(description="The caller's role in this workspace.")
    created_at: datetime


class Me(Schema):
    user: UserRead | None = Field(description="The signed-in user; null for an API key.")
    workspaces: list[WorkspaceRead] = Field(description="Workspaces the caller can use, with its role.")


class ApiKeyCreate(Schema):
    name: str = Field(min_length=1, max_length=120, description="What the key is for.")
    role: Role = Field(Role.editor, description="Role the key acts with in this workspace.")


class ApiKeyRead(Schema):
    id: int
    name: str
    role: Role
    prefix: str = Field(description="First characters of the token, to recognise it.")
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyRead):
    token: str = Field(description="The secret, shown only once: `Authorization: Bearer <token>`.")


class UserCreate(Schema):
    email: EmailStr
    name: str = ""
    password: str = Field(min_length=8, max_length=1024)
