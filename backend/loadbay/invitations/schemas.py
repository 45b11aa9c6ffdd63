import re
from datetime import datetime

from pydantic import Field, field_validator

from loadbay.core.actor import Role
from loadbay.core.schemas import Schema

# One @ with a dot after it; reserved names (`.test`, `.local`) are fine on a self-hosted server.
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class InvitationCreate(Schema):
    email: str = Field(
        min_length=3, max_length=320, description="Email of the person to invite, e.g. `ada@example.com`."
    )
    role: Role = Field(Role.viewer, description="Role they get in this workspace on accepting.")

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        value = value.strip().lower()
        if not EMAIL.fullmatch(value):
            raise ValueError("an email address such as ada@example.com")
        return value


class InvitationRead(Schema):
    id: int
    email: str = Field(description="The invited email (lower case).")
    role: Role
    invited_by: str | None = Field(description="Email of the member who invited, if known.")
    created_at: datetime
    expires_at: datetime = Field(description="After this the link no longer works.")


class InvitationCreated(InvitationRead):
    token: str = Field(description="The secret of the link, shown only once; we keep only its hash.")
    path: str = Field(description="Where the invitee accepts it in the web app: `/invite/<token>`.")


class InvitationPreview(Schema):
    workspace_id: int = Field(description="The workspace the invitee joins.")
    workspace_name: str
    email: str = Field(description="The invited email: the account that joins.")
    role: Role
    invited_by: str | None = Field(description="Name (or email) of the member who invited, if known.")
    expires_at: datetime
    signed_in_as: str | None = Field(
        description="Email of the account this browser is signed in to, if any: accepting with it "
        "needs no password when it is the invited one."
    )


class InvitationAccept(Schema):
    password: str | None = Field(
        None,
        max_length=1024,
        description="The existing account's password; may be left out when signed in to that account.",
    )


class InvitationRegister(Schema):
    name: str = Field(min_length=1, max_length=200, description="Your name, as others will see it.")
    password: str = Field(min_length=8, max_length=1024, description="The new account's password.")
