from pydantic import BaseModel, ConfigDict


class Schema(BaseModel):
    """Base for API schemas: built from ORM objects, unknown input keys refused."""

    model_config = ConfigDict(from_attributes=True, extra="forbid")
