"""Schemathesis hooks for fuzzing synthflow-mock against the vendor's document.

Loaded by .ci/schemathesis.sh through SCHEMATHESIS_HOOKS. Three things, nothing else:

1. Accommodation (a): the vendor's document declares no 401, though the live service answers
   401 to a missing or unusable `Authorization` header. `before_load_schema` adds a `401`
   response (JSON, the same bare-object error schema the document gives its 400) to every
   operation that lacks one, in memory only; the vendored file is not touched. Nothing else in
   the document is changed.

2. Only on the run over real fixture ids (SYNTHFLOW_ST_ERRATUM=1): the one erratum the contract checks apply too (`ERRATA` in src/contract/schema.rs):
   `collected_variables` is typed `object`, yet its own description says "May be null if not
   available" and the vendor's 2026-02-04 changelog says the same; the fixture set must hold it
   null (the issue lists it among the nullable fields). It becomes `["object", "null"]`, in
   memory only. Without it, real-id 200 bodies fail ST108 on exactly this field and nothing else.

3. A stricter check, `known_call_id_is_served`: accommodation (b) lets a schema-valid id be
   refused with 400 (the document's answer for an unknown id), so an id the mock *does* have must
   not be refused. When the request carried the run's Bearer token and a fixture id (listed by
   `synthflow-mock list`, file named by SYNTHFLOW_FIXTURE_IDS_FILE), the answer must be 200.
   It only adds failures; it never hides one.
"""

from __future__ import annotations

import os
from urllib.parse import unquote, urlsplit

import schemathesis

_UNAUTHORIZED = {
    "description": "401 (undeclared by the vendor's document; added by spec/schemathesis/hooks.py)",
    "content": {
        "application/json": {
            "schema": {"$ref": "#/components/schemas/Get-phone-callRequestBadRequestError"}
        }
    },
}

_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


_CALL_ITEM = "CallsCallIdGetResponsesContentApplicationJsonSchemaResponseCallsItems"


@schemathesis.hook
def before_load_schema(context, raw_schema):
    for item in (raw_schema.get("paths") or {}).values():
        for method, operation in item.items():
            if method in _METHODS and isinstance(operation, dict):
                operation.setdefault("responses", {}).setdefault("401", _UNAUTHORIZED)
    # The erratum, only for the run on real ids (SYNTHFLOW_ST_ERRATUM=1, set by .ci/schemathesis.sh);
    # fails loudly if the document no longer has the field, like the Rust side.
    if os.environ.get("SYNTHFLOW_ST_ERRATUM", "1") == "1":
        prop = raw_schema["components"]["schemas"][_CALL_ITEM]["properties"]["collected_variables"]
        prop["type"] = ["object", "null"]


def _fixture_ids() -> frozenset[str]:
    path = os.environ.get("SYNTHFLOW_FIXTURE_IDS_FILE")
    if not path:
        return frozenset()
    with open(path, encoding="utf-8") as fd:
        return frozenset(line.strip() for line in fd if line.strip())


_IDS = _fixture_ids()
_TOKEN = os.environ.get("SYNTHFLOW_TEST_TOKEN", "test-token")


@schemathesis.check
def known_call_id_is_served(ctx, response, case):
    request = response.request
    if not _IDS or request.method != "GET":
        return None
    auth = request.headers.get("Authorization")
    if auth != f"Bearer {_TOKEN}":
        return None
    path = urlsplit(request.url).path
    prefix, _, last = path.rpartition("/")
    if not prefix.endswith("/calls"):
        return None
    call_id = unquote(last)
    if call_id in _IDS and response.status_code != 200:
        raise AssertionError(
            f"Fixture call id {call_id!r} sent with the run's Bearer token got {response.status_code}, expected 200"
        )
    return None
