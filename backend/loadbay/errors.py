"""One error model: every 4xx/5xx body is ``{"error": code, "detail": text, "fields": [...]}``."""

from typing import Any

from pydantic import BaseModel, Field


class FieldError(BaseModel):
    field: str = Field(description="Dotted path of the offending input, e.g. `data.price`.")
    code: str = Field(description="Machine-readable rule that was broken, e.g. `max_length`.")
    message: str = Field(description="What was expected, in words.")


class ErrorBody(BaseModel):
    error: str = Field(description="Machine-readable error code, e.g. `not_found`.")
    detail: str = Field(description="Human-readable explanation.")
    fields: list[FieldError] = Field(default_factory=list, description="Per-field problems, if any.")


class AppError(Exception):
    status_code = 400
    code = "bad_request"
    # The request's work so far is committed despite the error (e.g. recording a failed sign-in).
    keep_changes = False

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        fields: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
        keep_changes: bool = False,
    ) -> None:
        super().__init__(detail)
        self.keep_changes = keep_changes
        self.detail = detail
        if code:
            self.code = code
        self.fields = fields or []
        self.headers = headers

    def body(self) -> dict[str, Any]:
        return ErrorBody(error=self.code, detail=self.detail, fields=self.fields).model_dump()


class Unauthorized(AppError):
    status_code = 401
    code = "unauthorized"


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"


class NotFound(AppError):
    status_code = 404
    code = "not_found"


class Conflict(AppError):
    status_code = 409
    code = "conflict"


class Gone(AppError):
    status_code = 410
    code = "gone"


class PreconditionFailed(AppError):
    status_code = 412
    code = "precondition_failed"


class TooLarge(AppError):
    status_code = 413
    code = "too_large"


class UploadCut(AppError):
    status_code = 400
    code = "upload_incomplete"


class StorageFull(AppError):
    status_code = 507
    code = "storage_full"


class Invalid(AppError):
    status_code = 422
    code = "invalid"


class TooManyRequests(AppError):
    status_code = 429
    code = "too_many_requests"


Responses = dict[int | str, dict[str, Any]]


def _resp(status: int, description: str) -> Responses:
    return {status: {"model": ErrorBody, "description": description}}


ERR_400 = _resp(400, "Malformed request")
ERR_401 = _resp(401, "Not signed in, or the API key is unknown or revoked")
ERR_403 = _resp(403, "The caller's role does not allow this")
ERR_404 = _resp(404, "Not found in this workspace")
ERR_409 = _resp(409, "Conflicts with the current state")
ERR_410 = _resp(410, "No longer usable: expired, revoked or already used")
ERR_412 = _resp(412, "The record changed since the given version (If-Match)")
ERR_422 = _resp(422, "Validation failed; `fields` names each problem")
ERR_413 = _resp(413, "The file is larger than the upload limit")
ERR_429: Responses = {
    429: {
        **_resp(429, "Too many attempts; see Retry-After")[429],
        "headers": {
            "Retry-After": {
                "description": "Seconds to wait before trying again.",
                "required": True,
                "schema": {"type": "integer"},
            }
        },
    }
}
ERR_507 = _resp(507, "The server's disk is full")

# Declared on every operation of an authenticated router.
COMMON_ERRORS: Responses = {**ERR_400, **ERR_401, **ERR_403, **ERR_404, **ERR_422}
