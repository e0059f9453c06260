"""Errors of the intake application: the whole tree, and the HTTP status each one answers with.

    IntakeError                    root; ``str(err)`` is a message a person can act on
    ├── InvalidInput               422  the request names something wrong that its sender can fix
    │   ├── ApplicationInvalid     422  application fields (``errors``: each field and what is wrong)
    │   ├── LimitExceeded          422  too many files in a request or on an application (real counts)
    │   └── IdempotencyKeyReused   422  the Idempotency-Key already answered a different request
    ├── FileTooLarge               413  an uploaded file over the size limit
    ├── Unauthorized               401  no API key, an unknown or revoked one, or not a Bearer token
    ├── Forbidden                  403  a key of another role
    ├── NotFound                   404  an application, case, document or callback that is not there
    │                                   (or belongs to another app: apps see only their own)
    ├── Conflict                   409  the request does not fit the application's state, or a key
    │                                   of an earlier submission round is reused for a new one
    ├── ServiceUnavailable         503  a service we depend on is down (``what``: redis, database)
    └── ConfigurationError         —    a deployment file or setting is wrong: the process stops at
        ├── PolicyError                 start with a message naming the setting to fix
        └── RegistryInvalid

Errors about one uploaded file (unsupported type, corrupt, encrypted, too many pages or pixels)
are ``ocr.errors.OcrError``: at upload they answer 415 (type) or 422; inside a worker the pipeline
records them on the document (``error``, in plain Chinese) instead of raising, so one bad file
never breaks an application. ``api.errors`` maps this tree to responses, once.
"""

from __future__ import annotations

from dataclasses import dataclass


class IntakeError(Exception):
    """Root of the intake errors; ``str(err)`` is a message a person can act on."""

    status_code: int = 400


class InvalidInput(IntakeError):
    status_code = 422


@dataclass(frozen=True)
class FieldError:
    """One field of a request and what is wrong with it."""

    field: str
    message: str


class ApplicationInvalid(InvalidInput):
    def __init__(self, message: str, *, path: str | None = None, errors: list[FieldError] | None = None) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.errors = errors or []

    @classmethod
    def of(cls, errors: list[FieldError]) -> ApplicationInvalid:
        return cls("; ".join(f"{e.field}: {e.message}" for e in errors), errors=errors)


class LimitExceeded(InvalidInput):
    pass


class IdempotencyKeyReused(InvalidInput):
    pass


class FileTooLarge(IntakeError):
    status_code = 413

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(
            f"文件过大（{size / 1048576:.1f} MB），单个文件不能超过 {limit / 1048576:.0f} MB，请压缩或拆分后上传。"
        )
        self.size, self.limit = size, limit


class Unauthorized(IntakeError):
    status_code = 401


class Forbidden(IntakeError):
    status_code = 403


class NotFound(IntakeError):
    status_code = 404


class Conflict(IntakeError):
    status_code = 409


class ServiceUnavailable(IntakeError):
    status_code = 503

    def __init__(self, message: str, *, what: str) -> None:
        super().__init__(message)
        self.what = what


class ConfigurationError(IntakeError):
    status_code = 500


class PolicyError(ConfigurationError):
    pass


class RegistryInvalid(ConfigurationError):
    pass
