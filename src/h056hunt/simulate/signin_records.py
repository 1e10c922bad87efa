"""Rendering of ``SignInSpec`` values as Microsoft Graph beta ``signIn`` objects."""

from __future__ import annotations

import random
from typing import Any

from h056hunt.simulate.apps import INTERACTIVE_APPS, NON_INTERACTIVE_APPS
from h056hunt.simulate.clock import TICKS_PER_SECOND, format_seconds
from h056hunt.simulate.identities import (
    ATTACKER_DEVICE,
    ATTACKER_NETWORK,
    NON_INTERACTIVE_USER_AGENT,
    OFFICE_NETWORK,
    Directory,
    attacker_location,
    new_guid,
)
from h056hunt.simulate.policies import build_policy_lists
from h056hunt.simulate.signins import (
    BAD_PASSWORD,
    CLAIM_FIRST_FACTOR,
    CLAIM_MFA,
    CORRECT_PASSWORD,
    DENIED_DECLINED,
    EXPLICIT_STEPS,
    EXPLICIT_STEPS_PROFILES,
    KMSI_INTERRUPT,
    MFA_SUCCEEDED_STEP,
    PASSWORD,
    PASSWORD_DETAIL,
    PREVIOUSLY_SATISFIED,
    PRIMARY,
    PROFILES,
    PUSH,
    PUSH_APPROVED,
    PUSH_DENIED,
    REFRESH,
    REVOKED_REFRESH,
    SECOND_FACTOR,
    SINGLE_SIGN_ON,
    WRONG_PASSWORD,
    SignInSpec,
)


def _step(time: int, method: str, ok: bool, detail: str, need: str) -> dict[str, Any]:
    return {
        "authenticationStepDateTime": format_seconds(time),
        "authenticationMethod": method,
        "authenticationMethodDetail": PASSWORD_DETAIL if method == PASSWORD else None,
        "succeeded": ok,
        "authenticationStepResultDetail": detail,
        "authenticationStepRequirement": need,
    }


def _steps_for(spec: SignInSpec, rng: random.Random) -> list[dict[str, Any]]:
    kind = spec.kind
    start = spec.time
    if kind == EXPLICIT_STEPS:
        return [
            _step(
                step.time,
                step.method,
                step.succeeded,
                step.result_detail,
                step.requirement,
            )
            for step in spec.steps
        ]
    if kind in (REFRESH, REVOKED_REFRESH):
        return []
    if kind == SINGLE_SIGN_ON:
        return [
            _step(start, PREVIOUSLY_SATISFIED, True, CLAIM_FIRST_FACTOR, PRIMARY),
            _step(start, PREVIOUSLY_SATISFIED, True, CLAIM_MFA, SECOND_FACTOR),
        ]
    if kind == BAD_PASSWORD:
        return [_step(start, PASSWORD, False, WRONG_PASSWORD, PRIMARY)]

    steps = [_step(start, PASSWORD, True, CORRECT_PASSWORD, PRIMARY)]
    # Some tenants label the push step "Primary authentication", so both forms appear.
    push_requirement = PRIMARY if rng.random() < 0.2 else SECOND_FACTOR
    push_time = start + rng.randint(1, 8) * TICKS_PER_SECOND
    if kind == PUSH_APPROVED:
        steps.append(_step(push_time, PUSH, True, MFA_SUCCEEDED_STEP, push_requirement))
    elif kind == PUSH_DENIED:
        reason = spec.denial_reason or DENIED_DECLINED
        steps.append(_step(push_time, PUSH, False, reason, push_requirement))
    elif kind == KMSI_INTERRUPT:
        steps.append(_step(start, PREVIOUSLY_SATISFIED, True, CLAIM_MFA, SECOND_FACTOR))
    return steps


class SignInRenderer:
    """Turn ``SignInSpec`` values into Graph beta ``signIn`` dictionaries."""

    def __init__(self, directory: Directory, seed: int) -> None:
        self.directory = directory
        self.policy_lists = build_policy_lists(seed)

    def render(self, spec: SignInSpec, rng: random.Random) -> dict[str, Any]:
        """Build the record for ``spec``, drawing ids and small details from ``rng``."""
        user = self.directory.users[spec.user]
        if spec.kind == EXPLICIT_STEPS:
            profile = EXPLICIT_STEPS_PROFILES[spec.error_code]
        else:
            profile = PROFILES[spec.kind]
        ip_address = spec.ip_address or user.ip_address

        from_attacker = ip_address.startswith(ATTACKER_NETWORK)
        if from_attacker:
            location = attacker_location(ip_address)
            device = ATTACKER_DEVICE
        else:
            location = user.location
            device = user.device

        interactive = profile.is_interactive
        app = spec.app
        if app is None:
            app = rng.choice(INTERACTIVE_APPS if interactive else NON_INTERACTIVE_APPS)
        user_agent = device.user_agent if interactive else NON_INTERACTIVE_USER_AGENT

        additional_details = profile.additional_details
        if spec.kind == PUSH_DENIED:
            additional_details = spec.denial_reason or DENIED_DECLINED

        steps = _steps_for(spec, rng)
        pushed = any(step["authenticationMethod"] == PUSH for step in steps)
        mfa_detail: dict[str, Any] | None = None
        if pushed:
            mfa_detail = {"authMethod": PUSH, "authDetail": user.phone_detail}
        elif interactive:
            mfa_detail = {"authMethod": None, "authDetail": None}

        request_id = new_guid(rng)
        return {
            "id": request_id,
            "createdDateTime": format_seconds(spec.time),
            "userDisplayName": user.display_name,
            "userPrincipalName": user.user_principal_name,
            "userId": user.object_id,
            "appId": app.app_id,
            "appDisplayName": app.display_name,
            "ipAddress": ip_address,
            "ipAddressFromResourceProvider": None,
            "clientAppUsed": app.client_app_used,
            "userAgent": user_agent,
            "correlationId": new_guid(rng),
            "conditionalAccessStatus": profile.conditional_access_status,
            "originalRequestId": request_id,
            "isInteractive": interactive,
            "tokenIssuerName": "",
            "tokenIssuerType": "AzureAD",
            "clientCredentialType": "none",
            "processingTimeInMilliseconds": rng.randint(35, 420),
            "riskDetail": "none",
            "riskLevelAggregated": "none",
            "riskLevelDuringSignIn": "medium" if from_attacker else "none",
            "riskState": "atRisk" if from_attacker else "none",
            "riskEventTypes_v2": ["unfamiliarFeatures"] if from_attacker else [],
            "resourceDisplayName": app.resource_display_name,
            "resourceId": app.resource_id,
            "resourceTenantId": self.directory.tenant_id,
            "homeTenantId": self.directory.tenant_id,
            "homeTenantName": "",
            "authenticationMethodsUsed": [PASSWORD, PUSH] if pushed else [],
            "authenticationRequirement": (
                "multiFactorAuthentication"
                if profile.multi_factor
                else "singleFactorAuthentication"
            ),
            "signInIdentifier": user.user_principal_name if interactive else "",
            "signInIdentifierType": None,
            "servicePrincipalName": None,
            "signInEventTypes": [
                "interactiveUser" if interactive else "nonInteractiveUser"
            ],
            "servicePrincipalId": "",
            "federatedCredentialId": None,
            "userType": "member",
            "flaggedForReview": False,
            "isTenantRestricted": False,
            "autonomousSystemNumber": _autonomous_system(ip_address),
            "crossTenantAccessType": "none",
            "servicePrincipalCredentialKeyId": None,
            "servicePrincipalCredentialThumbprint": "",
            "uniqueTokenIdentifier": f"{rng.getrandbits(128):032x}"[:22],
            "incomingTokenType": "none" if interactive else "refreshToken",
            "authenticationProtocol": "none",
            "resourceServicePrincipalId": "",
            "signInTokenProtectionStatus": "none",
            "originalTransferMethod": "none",
            "isThroughGlobalSecureAccess": False,
            "globalSecureAccessIpAddress": "",
            "sessionId": new_guid(rng),
            "mfaDetail": mfa_detail,
            "authenticationAppDeviceDetails": None,
            "status": {
                "errorCode": profile.error_code,
                "failureReason": profile.failure_reason,
                "additionalDetails": additional_details,
            },
            "deviceDetail": {
                "deviceId": device.device_id,
                "displayName": device.display_name,
                "operatingSystem": device.operating_system,
                "browser": device.browser if interactive else "",
                "isCompliant": device.is_compliant,
                "isManaged": device.is_managed,
                "trustType": device.trust_type,
            },
            "location": {
                "city": location.city,
                "state": location.state,
                "countryOrRegion": location.country,
                "geoCoordinates": {
                    "altitude": None,
                    "latitude": location.latitude,
                    "longitude": location.longitude,
                },
            },
            "appliedConditionalAccessPolicies": self.policy_lists[
                profile.policy_outcome
            ],
            "authenticationContextClassReferences": [],
            "authenticationProcessingDetails": _PROCESSING_DETAILS,
            "networkLocationDetails": (
                _OFFICE_NETWORK_DETAILS if ip_address.startswith(OFFICE_NETWORK) else []
            ),
            "authenticationDetails": steps,
            "authenticationRequirementPolicies": (
                _MFA_REQUIREMENT_POLICIES if profile.multi_factor else []
            ),
            "sessionLifetimePolicies": [],
            "privateLinkDetails": _PRIVATE_LINK_DETAILS,
            "appliedEventListeners": [],
            "authenticationAppPolicyEvaluationDetails": [],
            "managedServiceIdentity": _MANAGED_IDENTITY,
            "conditionalAccessAudiences": [],
        }


# Shared, never-mutated parts that are the same in every record.
_PROCESSING_DETAILS = [{"key": "Is CAE Token", "value": "False"}]
_OFFICE_NETWORK_DETAILS = [
    {"networkType": "namedNetwork", "networkNames": ["Contoso offices"]}
]
_MFA_REQUIREMENT_POLICIES = [
    {"requirementProvider": "multiConditionalAccess", "detail": "Conditional Access"}
]
_PRIVATE_LINK_DETAILS = {
    "policyId": "",
    "policyName": "",
    "resourceId": "",
    "policyTenantId": "",
}
_MANAGED_IDENTITY = {
    "msiType": "none",
    "associatedResourceId": None,
    "federatedTokenId": None,
    "federatedTokenIssuer": None,
}


def _autonomous_system(ip_address: str) -> int:
    # Numbers from the documentation range 64496-64511 that RFC 5398 reserves.
    if ip_address.startswith(ATTACKER_NETWORK):
        return 64510
    if ip_address.startswith(OFFICE_NETWORK):
        return 64496
    return 64500
