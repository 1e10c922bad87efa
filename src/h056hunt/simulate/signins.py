"""Planned sign-ins: their kinds, the Entra strings they carry, and ``SignInSpec``.

Scenarios and background noise describe each sign-in as a small ``SignInSpec``.
``signin_records.SignInRenderer`` turns it into the full record only when it is
written, so a large run keeps at most one hour of records in memory.
"""

from __future__ import annotations

from typing import NamedTuple

from h056hunt.simulate.apps import App
from h056hunt.simulate.policies import GRANTED, MFA_FAILED, NOT_EVALUATED

# Sign-in kinds.
REFRESH = "refresh"
SINGLE_SIGN_ON = "single_sign_on"
PUSH_APPROVED = "push_approved"
PUSH_DENIED = "push_denied"
BAD_PASSWORD = "bad_password"
KMSI_INTERRUPT = "kmsi_interrupt"
MFA_REQUIRED_50074 = "mfa_required_50074"
MFA_REQUIRED_50076 = "mfa_required_50076"
REVOKED_REFRESH = "revoked_refresh"
EXPLICIT_STEPS = "explicit_steps"

# Push denial reasons as ``status.additionalDetails`` and the failing step carry them.
DENIED_DECLINED = "MFA denied; user declined the authentication"
DENIED_NO_RESPONSE = "MFA denied; user did not respond to mobile app notification"
DENIED_FRAUD = "MFA denied; Phone App Reported Fraud"
DENIED_WRONG_NUMBER = "MFA denied; user did not select the correct number"

MFA_COMPLETED = "MFA completed in Azure AD"
MFA_SUCCEEDED_STEP = "MFA successfully completed"
CLAIM_MFA = "MFA requirement satisfied by claim in the token"
CLAIM_FIRST_FACTOR = "First factor requirement satisfied by claim in the token"
STRONG_AUTH_FAILED = "Authentication failed during strong authentication request."

PASSWORD = "Password"
PUSH = "Mobile app notification"
PREVIOUSLY_SATISFIED = "Previously satisfied"
PRIMARY = "Primary authentication"
SECOND_FACTOR = "Multi-factor authentication"

PASSWORD_DETAIL = "Password in the cloud"
CORRECT_PASSWORD = "Correct password"
WRONG_PASSWORD = (
    "Invalid username or password or Invalid on-premise username or password."
)
_KMSI_REASON = (
    "This error occurred due to 'Keep me signed in' interrupt when the user was "
    "signing in."
)


class Profile(NamedTuple):
    """The fixed part of a sign-in kind: status, requirement and CA outcome."""

    error_code: int
    failure_reason: str
    additional_details: str | None
    is_interactive: bool
    multi_factor: bool
    policy_outcome: str
    conditional_access_status: str


# One row per kind. A push denial takes its ``additionalDetails`` from the spec's
# denial reason.
PROFILES: dict[str, Profile] = {
    REFRESH: Profile(0, "Other.", None, False, False, GRANTED, "success"),
    SINGLE_SIGN_ON: Profile(0, "Other.", CLAIM_MFA, True, True, GRANTED, "success"),
    PUSH_APPROVED: Profile(0, "Other.", MFA_COMPLETED, True, True, GRANTED, "success"),
    PUSH_DENIED: Profile(
        500121, STRONG_AUTH_FAILED, None, True, True, MFA_FAILED, "failure"
    ),
    BAD_PASSWORD: Profile(
        50126,
        "Error validating credentials due to invalid username or password.",
        None,
        True,
        False,
        NOT_EVALUATED,
        "notApplied",
    ),
    KMSI_INTERRUPT: Profile(50140, _KMSI_REASON, None, True, True, GRANTED, "success"),
    MFA_REQUIRED_50074: Profile(
        50074,
        "Strong Authentication is required.",
        "MFA required in Azure AD",
        True,
        True,
        MFA_FAILED,
        "failure",
    ),
    MFA_REQUIRED_50076: Profile(
        50076,
        "Due to a configuration change made by your administrator, or because you "
        "moved to a new location, you must use multi-factor authentication to "
        "access the resource.",
        "MFA required in Azure AD",
        True,
        True,
        MFA_FAILED,
        "failure",
    ),
    REVOKED_REFRESH: Profile(
        50173,
        "The provided grant has expired because it was revoked; a fresh auth token "
        "is needed.",
        None,
        False,
        False,
        NOT_EVALUATED,
        "notApplied",
    ),
}

# An explicit-steps record borrows the profile of its error code, which is either a
# completed sign-in or a "Keep me signed in" interrupt.
EXPLICIT_STEPS_PROFILES: dict[int, Profile] = {
    0: PROFILES[PUSH_APPROVED],
    50140: PROFILES[KMSI_INTERRUPT],
}


class StepSpec(NamedTuple):
    """One ``authenticationDetails`` entry with its own time in ticks."""

    time: int
    method: str
    succeeded: bool
    result_detail: str
    requirement: str = SECOND_FACTOR


class SignInSpec(NamedTuple):
    """A planned sign-in. Sorting by (time, sequence) gives the output order.

    Attributes:
        time: ``createdDateTime`` in ticks.
        sequence: tie-breaker, unique within a run.
        kind: one of the kind constants of this module.
        user: index of the user in ``Directory.users``.
        ip_address: source address; the user's usual address when None.
        denial_reason: ``MFA denied; ...`` text of a push denial.
        steps: ``authenticationDetails`` of an ``EXPLICIT_STEPS`` record.
        error_code: ``status.errorCode`` of an ``EXPLICIT_STEPS`` record.
        app: client app; drawn at render time when None.
    """

    time: int
    sequence: int
    kind: str
    user: int
    ip_address: str | None = None
    denial_reason: str | None = None
    steps: tuple[StepSpec, ...] = ()
    error_code: int = 0
    app: App | None = None
