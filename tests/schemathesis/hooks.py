"""Schemathesis hooks for buzon's API run (tests/schemathesis/run.sh).

BUZON_ROLE names the role of the token the run uses; under `viewer`, any request that is not a
read and is not refused is a failure: a viewer must be able to change nothing.
"""

import os

import schemathesis

ROLE = os.environ.get("BUZON_ROLE", "")


@schemathesis.check
def viewer_changes_nothing(ctx, response, case):
    if ROLE == "viewer" and case.method.upper() != "GET" and response.status_code < 400:
        raise AssertionError(
            f"a viewer's {case.method} {case.path} answered {response.status_code}: "
            "a viewer must not change anything"
        )
