"""API errors and the SDDC Manager ``Error`` JSON shape.

Every non-2xx answer under ``/v1`` carries the spec's ``Error`` object.  The
simulator always fills the list/dict members (``arguments``, ``context``,
``causes``, ``nestedErrors``) so clients can rely on their type.
"""

from __future__ import annotations

from . import vocab


class ApiError(Exception):
    """Raised by an endpoint to answer with an ``Error`` body."""

    def __init__(self, status, error_code, message, remediation=None, arguments=None, headers=None, bare=False,
                 context=None):
        super().__init__(message)
        self.context = dict(context or {})
        self.status = status
        self.error_code = error_code
        self.message = message
        self.remediation = remediation
        self.arguments = list(arguments or [])
        self.headers = dict(headers or {})
        # bare: only errorCode and message, as the 401 of a missing or expired token.
        self.bare = bare

    def body(self, reference_token, release=vocab.DEFAULT_RELEASE):
        if self.bare:
            return {"errorCode": self.error_code, "message": self.message}
        error = error_object(
            self.error_code,
            self.message,
            remediation=self.remediation,
            reference_token=reference_token,
            arguments=self.arguments,
            context=self.context,
        )
        if release in vocab.NOTIFICATION_RELEASES:
            error["notifications"] = [notification(self.message, "The request was not carried out", self.remediation)]
        return error


def error_object(error_code, message, remediation=None, reference_token=None,
                 arguments=None, context=None, causes=None, nested_errors=None, error_type=None):
    """Build one spec ``Error``; optional string members are left out when unset."""
    error = {
        "errorCode": error_code,
        "message": message,
        "arguments": list(arguments or []),
        "context": dict(context or {}),
        "causes": list(causes or []),
        "nestedErrors": list(nested_errors or []),
    }
    if remediation is not None:
        error["remediationMessage"] = remediation
    if reference_token is not None:
        error["referenceToken"] = reference_token
    if error_type is not None:
        error["errorType"] = error_type
    return error


def bad_request(error_code, message, remediation=None, field=None):
    """A 400 whose ``arguments`` name the offending field, for scripted handling."""
    return ApiError(400, error_code, message, remediation, arguments=[field] if field else None)


class ScenarioError(ValueError):
    """A scenario (or a control-endpoint body) breaks the schema; the message says where."""


def notification(message, impact, remediation=None, severity="ERROR", link=None):
    """One 9.1 ``Error.notifications`` entry, with the remediation and a knowledge-base link."""
    remediations = []
    if remediation:
        remediations.append({"message": remediation, "link": link or vocab.KB_LINK})
    return {"severity": severity, "message": message, "impactMessage": impact, "remediations": remediations}
