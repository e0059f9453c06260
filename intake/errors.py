"""Errors of the intake application.

    IntakeError                  root; every error a person can act on carries a plain message
    ├── ApplicationInvalid       application.json missing, unreadable or with bad/missing keys
    ├── PolicyError              a region policy file is malformed or names an unknown region
    ├── RegistryInvalid          the hospital registry CSV cannot be loaded
    └── NotFound                 an application, case or document that does not exist

Errors about one uploaded file (unsupported type, corrupt, too large …) are ``ocr.errors.OcrError``;
the pipeline records them on the document (``error``) instead of raising, so one bad file never
breaks an application.
"""

from __future__ import annotations


class IntakeError(Exception):
    """Root of the intake errors; ``str(err)`` is a message a person can act on."""


class ApplicationInvalid(IntakeError):
    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path


class PolicyError(IntakeError):
    pass


class RegistryInvalid(IntakeError):
    pass


class NotFound(IntakeError):
    pass
