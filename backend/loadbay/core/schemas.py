from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt

# Integers that reach a 64-bit column: bounded here, so that a larger one is a 422 naming the
# field rather than an overflow in the database driver.
Id64 = Annotated[StrictInt, Field(ge=1, le=2**63 - 1)]
RowNumber = Annotated[StrictInt, Field(ge=1, le=2**62)]


class Schema(BaseModel):
    """Base for API schemas: built from ORM objects, unknown input keys refused."""

    model_config = ConfigDict(from_attributes=True, extra="forbid")
