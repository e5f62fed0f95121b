"""Schemathesis hooks for fuzzing synthflow-mock's agents and actions against the vendor's whole
document (spec/synthflow-openapi.json, restricted to ^/(assistants|actions)).

Loaded by .ci/schemathesis.sh (SYNTHFLOW_ST_SUITE=agents) through SCHEMATHESIS_HOOKS. The vendored
file is never edited: `before_load_schema` patches the in-memory copy, and only with the errata
listed in src/contract/agents.rs (AGENTS_ERRATA), each named there with its reason:

  E1  no 401 declared on any operation          -> a 401 (the document's own 400 error schema)
  E2  GET /assistants/ answers `assistants` typed as one object, though it is a list (and the
      single-agent GET declares it a list)       -> an array of the same item schema
  E3  the list is declared only at /assistants/ (trailing slash), while integrators call
      /assistants; the mock answers both          -> the same GET declared at /assistants too
  E5  PUT /assistants/{model_id}/phone_numbers declares no 400, though a body in neither of its
      two forms must be refused                   -> the 400 its sibling DELETE declares
  E4  an unknown model_id / action_id is any string to the document, refused with the documented
      400 (404 on the phone number operations)   -> accepted by positive_data_acceptance
                                                    (spec/schemathesis/agents.toml)

It fails loudly if the document no longer has what an erratum patches.
"""

from __future__ import annotations

import copy

import schemathesis

_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
_ERROR = "#/components/schemas/Create-assistantRequestBadRequestError"
_LIST_200 = "list-assistant_Response_200"


@schemathesis.hook
def before_load_schema(context, raw_schema):
    paths = raw_schema["paths"]
    schemas = raw_schema["components"]["schemas"]
    # E1
    unauthorized = {
        "description": "401 (undeclared by the vendor's document; erratum E1, spec/schemathesis/agents_hooks.py)",
        "content": {"application/json": {"schema": {"$ref": _ERROR}}},
    }
    for item in paths.values():
        for method, operation in item.items():
            if method in _METHODS and isinstance(operation, dict):
                operation.setdefault("responses", {}).setdefault("401", unauthorized)
    # E2
    response = schemas[_LIST_200]["properties"]["response"]
    response = schemas[response["$ref"].split("/")[-1]] if "$ref" in response else response
    item = response["properties"]["assistants"]
    response["properties"]["assistants"] = {"type": "array", "items": item}
    # E5
    phones = paths["/assistants/{model_id}/phone_numbers"]["put"]["responses"]
    sibling = paths["/assistants/{model_id}/phone_numbers/{phone_number_slug}"]["delete"]["responses"]
    phones.setdefault("400", copy.deepcopy(sibling["400"]))
    # E3
    listing = copy.deepcopy(paths["/assistants/"]["get"])
    listing["operationId"] = "list-assistant-without-slash"
    paths["/assistants"]["get"] = listing
