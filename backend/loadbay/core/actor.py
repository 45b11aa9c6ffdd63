"""Who is calling, in which workspace, with which role."""

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    viewer = "viewer"
    editor = "editor"
    admin = "admin"

    @property
    def rank(self) -> int:
        return {"viewer": 0, "editor": 1, "admin": 2}[self.value]

    def allows(self, needed: "Role") -> bool:
        return self.rank >= needed.rank


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: a signed-in user, or an API key (bound to one workspace)."""

    user_id: int | None
    api_key_id: int | None = None
    api_key_workspace_id: int | None = None
    api_key_role: Role | None = None
    # The user an API key answers to (None: the operator's key, made on the command line).
    api_key_creator_id: int | None = None


@dataclass(frozen=True)
class Actor:
    principal: Principal
    workspace_id: int
    role: Role

    @property
    def user_id(self) -> int | None:
        return self.principal.user_id
