"""DuckDB baseline that reads the fields the hunt normalises and does its join.

Usage: ``python benchmarks/duckdb_join.py AUDIT.ndjson SIGNIN.ndjson``. The script
prints the number of (revocation, MFA prompt) pairs. Needs
``pip install -e '.[bench]'``.

Both files must be Graph-shape NDJSON. The query reads every Graph field that
``h056hunt.loaders.entra`` maps into the canonical audit, sign-in and step columns.
An explicit ``columns`` schema names each one, so DuckDB neither samples the files
nor reads fields the hunt skips. The query then does the hunt's join in SQL:

* prompts: one per ``authenticationDetails`` step whose result text is an MFA
  denial that did not succeed or an MFA approval that did not fail. A sign-in with
  no such step gives one prompt from ``status``: 500121 is a denial, 50074, 50076
  and 70044 an interrupt, and 0 with an approval text an approval. Service
  principal and managed identity sign-ins are left out, and duplicates of a
  request's prompt are dropped as the hunt drops them.
* revocations: successful audit records of a listed activity, or an ``Update
  user`` record that updated only ``StsRefreshTokensValidFrom``, one per
  correlation id and target user. Self-revocations are left out.
* pairs: each revocation with every prompt of the same user in the follow-up
  window (``DetectionParams.max_lag``), with the denials in the burst window
  (``DetectionParams.burst_window``) after each prompt and their peak per
  revocation.

Not reproduced: the hunt's UPN index for records without an object id, its
finer denial reasons, its duplicate-record check across files, and the end of a
burst after its first denial. None of them changes which fields are read.
"""

from __future__ import annotations

import sys

import duckdb

from h056hunt.detect.chains import DetectionParams
from h056hunt.detect.revocations import normalise_activity

# Every Graph sign-in field that ``entra.signin_row`` and
# ``entra.authentication_steps`` read. Its fallbacks for other shapes
# (``resultType``, ``resultDescription``, ``locationDetails``) do not occur in
# Graph records.
SIGNIN_COLUMNS = {
    "id": "VARCHAR",
    "originalRequestId": "VARCHAR",
    "correlationId": "VARCHAR",
    "createdDateTime": "TIMESTAMPTZ",
    "userId": "VARCHAR",
    "userPrincipalName": "VARCHAR",
    "userDisplayName": "VARCHAR",
    "userType": "VARCHAR",
    "signInEventTypes": "VARCHAR[]",
    "isInteractive": "BOOLEAN",
    "appId": "VARCHAR",
    "appDisplayName": "VARCHAR",
    "resourceDisplayName": "VARCHAR",
    "ipAddress": "VARCHAR",
    "location": "STRUCT(city VARCHAR, countryOrRegion VARCHAR)",
    "userAgent": "VARCHAR",
    "clientAppUsed": "VARCHAR",
    "deviceDetail": "STRUCT(displayName VARCHAR, operatingSystem VARCHAR, "
    "browser VARCHAR)",
    "status": "STRUCT(errorCode BIGINT, failureReason VARCHAR, "
    "additionalDetails VARCHAR)",
    "conditionalAccessStatus": "VARCHAR",
    "authenticationRequirement": "VARCHAR",
    "mfaDetail": "STRUCT(authMethod VARCHAR, authDetail VARCHAR)",
    "riskLevelDuringSignIn": "VARCHAR",
    "riskLevelAggregated": "VARCHAR",
    "riskState": "VARCHAR",
    "authenticationDetails": "STRUCT(authenticationStepDateTime TIMESTAMPTZ, "
    "authenticationMethod VARCHAR, authenticationMethodDetail VARCHAR, "
    "succeeded BOOLEAN, authenticationStepResultDetail VARCHAR, "
    "authenticationStepRequirement VARCHAR)[]",
}
# Every Graph audit field that ``entra.audit_row`` reads. Its fallback
# ``operationName`` and the ``name`` key of modified properties do not occur in
# Graph records.
AUDIT_COLUMNS = {
    "id": "VARCHAR",
    "activityDateTime": "TIMESTAMPTZ",
    "activityDisplayName": "VARCHAR",
    "category": "VARCHAR",
    "result": "VARCHAR",
    "correlationId": "VARCHAR",
    "loggedByService": "VARCHAR",
    "userAgent": "VARCHAR",
    "initiatedBy": "STRUCT(user STRUCT(id VARCHAR, displayName VARCHAR, "
    "userPrincipalName VARCHAR, ipAddress VARCHAR), app STRUCT(appId VARCHAR, "
    "displayName VARCHAR, servicePrincipalId VARCHAR, "
    "servicePrincipalName VARCHAR))",
    "targetResources": "STRUCT(id VARCHAR, displayName VARCHAR, type VARCHAR, "
    "userPrincipalName VARCHAR, modifiedProperties STRUCT(displayName VARCHAR, "
    "oldValue VARCHAR, newValue VARCHAR)[])[]",
}

# The outcome group of an MFA result text, from the prefixes that
# ``prompts.classify_detail`` reads. Every "MFA denied" reason is one denial group
# here, and runs of whitespace inside the text are not folded.
OUTCOME_MACRO = """
CREATE MACRO mfa_outcome(detail) AS CASE
    WHEN detail ILIKE 'mfa denied%'
      OR detail ILIKE 'azure multi-factor authentication denied%'
        THEN 'denial'
    WHEN detail ILIKE 'mfa successfully completed%'
      OR detail ILIKE 'mfa completed%'
        THEN 'approved'
END
"""

QUERY = """
WITH signins AS (
    SELECT * FROM read_json($signin, format = 'newline_delimited',
                            columns = $signin_columns)
), user_signins AS (
    SELECT
        id AS record_id,
        coalesce(nullif(trim(originalRequestId), ''), id) AS request_id,
        correlationId AS correlation_id,
        createdDateTime AS event_time,
        coalesce(nullif(lower(trim(userId)), ''),
                 'upn:' || nullif(lower(trim(userPrincipalName)), ''))
            AS user_key,
        userPrincipalName AS user_upn,
        userDisplayName AS user_display_name,
        userType AS user_type,
        signInEventTypes[1] AS signin_event_type,
        isInteractive AS is_interactive,
        appId AS app_id,
        appDisplayName AS app_display_name,
        resourceDisplayName AS resource_display_name,
        ipAddress AS ip_address,
        location.countryOrRegion AS country,
        location.city AS city,
        userAgent AS user_agent,
        clientAppUsed AS client_app,
        deviceDetail.displayName AS device_name,
        deviceDetail.operatingSystem AS operating_system,
        deviceDetail.browser AS browser,
        status.errorCode AS error_code,
        status.failureReason AS failure_reason,
        status.additionalDetails AS additional_details,
        conditionalAccessStatus AS conditional_access_status,
        authenticationRequirement AS authentication_requirement,
        mfaDetail.authMethod AS mfa_auth_method,
        mfaDetail.authDetail AS mfa_auth_detail,
        riskLevelDuringSignIn AS risk_level_during_signin,
        riskLevelAggregated AS risk_level_aggregated,
        riskState AS risk_state,
        list_filter(
            list_transform(authenticationDetails, lambda step: {
                'step_time': step.authenticationStepDateTime,
                'method': step.authenticationMethod,
                'method_detail': step.authenticationMethodDetail,
                'succeeded': step.succeeded,
                'result_detail': step.authenticationStepResultDetail,
                'requirement': step.authenticationStepRequirement,
                'outcome': mfa_outcome(step.authenticationStepResultDetail)
            }),
            lambda step:
                step.outcome = 'denial' AND NOT coalesce(step.succeeded, false)
                OR step.outcome = 'approved' AND coalesce(step.succeeded, true)
        ) AS prompt_steps
    FROM signins
    WHERE lower(coalesce(signInEventTypes[1], ''))
          NOT IN ('serviceprincipal', 'managedidentity')
      -- A sign-in gives a prompt only if one of these holds. Testing them on the
      -- raw fields first spares the step lists of the other sign-ins.
      AND (status.errorCode IN (500121, 50074, 50076, 70044)
           OR status.errorCode = 0
              AND mfa_outcome(status.additionalDetails) = 'approved'
           OR list_bool_or(list_transform(authenticationDetails, lambda step:
                  mfa_outcome(step.authenticationStepResultDetail) IS NOT NULL)))
), status_outcomes AS (
    SELECT *,
        CASE
            WHEN len(prompt_steps) > 0 THEN NULL
            WHEN error_code = 500121 THEN 'denial'
            WHEN error_code IN (50074, 50076, 70044) THEN 'interrupt'
            WHEN error_code = 0 AND mfa_outcome(additional_details) = 'approved'
                THEN 'approved'
        END AS status_outcome,
        coalesce(request_id, coalesce(correlation_id, '') || '@' || event_time)
            AS request_key
    FROM user_signins
    WHERE user_key IS NOT NULL
), prompt_lists AS (
    SELECT * EXCLUDE (prompt_steps, status_outcome),
        CASE WHEN status_outcome IS NULL
            THEN list_transform(prompt_steps, lambda step: {
                'prompt_time': coalesce(step.step_time, event_time),
                'outcome': step.outcome,
                'detail': step.result_detail,
                'method': step.method,
                'from_step': true,
                'dedupe_key': concat_ws('|', request_key, step.step_time,
                                        step.method, step.result_detail)
            })
            ELSE [{
                'prompt_time': event_time,
                'outcome': status_outcome,
                'detail': coalesce(additional_details, failure_reason),
                'method': NULL,
                'from_step': false,
                'dedupe_key': concat_ws('|', request_key, status_outcome)
            }]
        END AS prompts
    FROM status_outcomes
), prompts AS (
    SELECT * EXCLUDE (prompts, prompt), unnest(prompt)
    FROM (SELECT *, unnest(prompts) AS prompt FROM prompt_lists)
    QUALIFY row_number() OVER (PARTITION BY user_key, prompt.dedupe_key
                               ORDER BY prompt.prompt_time, record_id) = 1
), counted_prompts AS (
    SELECT *,
        count(*) FILTER (WHERE outcome = 'denial') OVER (
            PARTITION BY user_key ORDER BY prompt_time
            RANGE BETWEEN CURRENT ROW AND $burst_window FOLLOWING
        ) AS window_denials
    FROM prompts
), listed_activities AS (
    SELECT unnest($activities) AS activity_key
), audit AS (
    SELECT * FROM read_json($audit, format = 'newline_delimited',
                            columns = $audit_columns)
), audit_rows AS (
    SELECT
        id AS record_id,
        activityDateTime AS event_time,
        activityDisplayName AS activity,
        array_to_string(list_filter(
            regexp_extract_all(lower(activityDisplayName), '[0-9a-z]+'),
            lambda word: word NOT IN ('a', 'an', 'the')), ' ') AS activity_key,
        category,
        result,
        correlationId AS correlation_id,
        loggedByService AS logged_by_service,
        userAgent AS user_agent,
        initiatedBy.user AS actor_user,
        initiatedBy.app AS actor_app,
        coalesce(
            list_filter(targetResources,
                        lambda target: lower(target.type) = 'user')[1],
            targetResources[1]
        ) AS target
    FROM audit
), audit_canonical AS (
    SELECT
        record_id, event_time, activity, activity_key, category, result,
        correlation_id, logged_by_service, user_agent,
        CASE
            WHEN coalesce(nullif(trim(actor_user.id), ''),
                          nullif(trim(actor_user.userPrincipalName), ''))
                 IS NOT NULL THEN 'user'
            WHEN coalesce(nullif(trim(actor_app.servicePrincipalId), ''),
                          nullif(trim(actor_app.displayName), ''),
                          nullif(trim(actor_app.servicePrincipalName), ''),
                          nullif(trim(actor_app.appId), ''))
                 IS NOT NULL THEN 'app'
            ELSE 'none'
        END AS actor_type,
        actor_user, actor_app,
        target.type AS target_type,
        target.id AS target_id,
        target.userPrincipalName AS target_upn,
        target.displayName AS target_display_name,
        to_json(target.modifiedProperties) AS modified_properties,
        list_filter(target.modifiedProperties, lambda property:
            lower(property.displayName) = 'included updated properties'
        )[1].newValue AS included_updated_properties,
        coalesce(nullif(lower(trim(target.id)), ''),
                 'upn:' || nullif(lower(trim(target.userPrincipalName)), ''))
            AS user_key
    FROM audit_rows
), revocation_rows AS (
    SELECT * EXCLUDE (actor_user, actor_app),
        CASE WHEN actor_type = 'user' THEN actor_user.id
             ELSE coalesce(actor_app.servicePrincipalId, actor_app.appId)
        END AS actor_id,
        CASE WHEN actor_type = 'user' THEN actor_user.userPrincipalName END
            AS actor_upn,
        CASE WHEN actor_type = 'user' THEN actor_user.displayName
             ELSE coalesce(actor_app.displayName, actor_app.servicePrincipalName)
        END AS actor_display_name,
        CASE WHEN actor_type = 'user' THEN actor_user.ipAddress END AS actor_ip,
        CASE WHEN actor_type = 'app' THEN actor_app.appId END AS actor_app_id,
        CASE WHEN actor_type = 'app' THEN actor_app.servicePrincipalId END
            AS actor_service_principal_id,
        listed.activity_key IS NOT NULL AS is_listed
    FROM audit_canonical LEFT JOIN listed_activities AS listed USING (activity_key)
    WHERE (listed.activity_key IS NOT NULL
           OR activity_key = 'update user'
              AND regexp_replace(lower(included_updated_properties),
                                 '[^0-9a-z_]', '', 'g') = $sts_property)
      AND lower(coalesce(result, 'success'))
          IN ('success', 'succeeded', '0', 'true')
      AND user_key IS NOT NULL
), merged_revocations AS (
    -- One revocation per click: the rows of one correlation id and target user
    -- merge, and the listed activity's row describes them.
    SELECT * EXCLUDE (is_listed, record_id, event_time),
           record_id AS revocation_id, event_time AS revocation_time
    FROM revocation_rows
    QUALIFY row_number() OVER (
        PARTITION BY coalesce(correlation_id, record_id), user_key
        ORDER BY is_listed DESC, event_time, record_id) = 1
), revocations AS (
    SELECT * FROM merged_revocations
    WHERE NOT (actor_type = 'user'
               AND coalesce(lower(actor_id) = lower(target_id)
                            OR lower(actor_upn) = lower(target_upn), false))
)
SELECT revocations.*,
       counted_prompts.* EXCLUDE (user_key),
       max(CASE WHEN outcome = 'denial' THEN window_denials END)
           OVER (PARTITION BY revocation_id) AS peak_denials
FROM revocations JOIN counted_prompts
  ON counted_prompts.user_key = revocations.user_key
 AND counted_prompts.prompt_time > revocations.revocation_time
 AND counted_prompts.prompt_time <= revocations.revocation_time + $max_lag
"""


def main() -> None:
    """Run the query and print the number of pairs."""
    audit, signin = sys.argv[1:3]
    params = DetectionParams()
    # The json and icu extensions are statically linked into the DuckDB 2.0.1
    # Python wheel, so the query needs no extension that could be downloaded.
    connection = duckdb.connect(
        config={
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
        }
    )
    connection.execute(OUTCOME_MACRO)
    pairs = connection.execute(
        QUERY,
        {
            "signin": signin,
            "audit": audit,
            "signin_columns": SIGNIN_COLUMNS,
            "audit_columns": AUDIT_COLUMNS,
            "activities": sorted(
                {normalise_activity(name) for name in params.revocation_activities}
            ),
            "sts_property": "stsrefreshtokensvalidfrom",
            "max_lag": params.max_lag.to_pytimedelta(),
            "burst_window": params.burst_window.to_pytimedelta(),
        },
    ).df()
    print(len(pairs))


if __name__ == "__main__":
    main()
