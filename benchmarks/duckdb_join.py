"""The DuckDB baseline: read the columns the hunt needs and join revocations to MFA
events of the same user within two hours.

Usage: ``python benchmarks/duckdb_join.py AUDIT.ndjson SIGNIN.ndjson``; prints the
number of (revocation, MFA event) pairs. Needs ``pip install -e '.[bench]'``.
"""

from __future__ import annotations

import sys

import duckdb

from h056hunt.detect.revocations import DEFAULT_REVOCATION_ACTIVITIES

SIGNIN_COLUMNS = {
    "id": "VARCHAR",
    "createdDateTime": "TIMESTAMPTZ",
    "userId": "VARCHAR",
    "userPrincipalName": "VARCHAR",
    "originalRequestId": "VARCHAR",
    "correlationId": "VARCHAR",
    "ipAddress": "VARCHAR",
    "userAgent": "VARCHAR",
    "location": "STRUCT(countryOrRegion VARCHAR)",
    "status": "STRUCT(errorCode BIGINT, failureReason VARCHAR, "
    "additionalDetails VARCHAR)",
    "authenticationDetails": "STRUCT(authenticationStepDateTime VARCHAR, "
    "authenticationMethod VARCHAR, succeeded BOOLEAN, "
    "authenticationStepResultDetail VARCHAR)[]",
}
AUDIT_COLUMNS = {
    "id": "VARCHAR",
    "activityDateTime": "TIMESTAMPTZ",
    "activityDisplayName": "VARCHAR",
    "result": "VARCHAR",
    "correlationId": "VARCHAR",
    "initiatedBy": "STRUCT(user STRUCT(id VARCHAR, userPrincipalName VARCHAR, "
    "ipAddress VARCHAR), app STRUCT(appId VARCHAR, displayName VARCHAR, "
    "servicePrincipalId VARCHAR))",
    "targetResources": "STRUCT(id VARCHAR, userPrincipalName VARCHAR, type VARCHAR)[]",
}

QUERY = """
WITH signins AS (
    SELECT * FROM read_json($signin, format = 'newline_delimited',
                            columns = $signin_columns)
), mfa AS (
    SELECT lower(userId) AS user_id, createdDateTime AS event_time,
           status.errorCode AS error_code, ipAddress, location.countryOrRegion
    FROM signins
    WHERE status.errorCode IN (500121, 50074, 50076)
       OR len(list_filter(authenticationDetails, lambda step:
              step.authenticationStepResultDetail ILIKE 'mfa denied%')) > 0
       OR len(list_filter(authenticationDetails, lambda step:
              step.authenticationStepResultDetail ILIKE 'mfa%completed%')) > 0
), audit AS (
    SELECT * FROM read_json($audit, format = 'newline_delimited',
                            columns = $audit_columns)
), revocations AS (
    SELECT lower(targetResources[1].id) AS user_id,
           activityDateTime AS revocation_time,
           coalesce(initiatedBy.user.id, initiatedBy.app.servicePrincipalId) AS actor
    FROM audit
    WHERE lower(activityDisplayName) IN $activities AND result = 'success'
)
SELECT revocations.*, mfa.* EXCLUDE (user_id)
FROM revocations JOIN mfa
  ON mfa.user_id = revocations.user_id
 AND mfa.event_time > revocations.revocation_time
 AND mfa.event_time <= revocations.revocation_time + INTERVAL 2 HOUR
"""


def main() -> None:
    """Run the query and print the number of pairs."""
    audit, signin = sys.argv[1:3]
    pairs = duckdb.execute(
        QUERY,
        {
            "signin": signin,
            "audit": audit,
            "signin_columns": SIGNIN_COLUMNS,
            "audit_columns": AUDIT_COLUMNS,
            "activities": [name.lower() for name in DEFAULT_REVOCATION_ACTIVITIES],
        },
    ).df()
    print(len(pairs))


if __name__ == "__main__":
    main()
