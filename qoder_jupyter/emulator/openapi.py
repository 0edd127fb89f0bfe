"""The OpenAPI 3.1 document of what this emulator serves, built from the same limits it enforces.

Served without auth at ``/openapi.json`` and ``/api/v1/cloud/openapi.json``. Schemas are exact
(``additionalProperties: false`` on requests, every response status documented) so a fuzzer such as
schemathesis can hold the server to them. Two rules JSON Schema cannot express are stated in
descriptions instead: ``setup_script`` counts UTF-8 bytes, the 16-key metadata limit applies to
the result of an update's patch, and allowed hosts are unique ignoring case. A pip spec is a PEP
508 requirement, which no regular expression captures: the document's pattern is a part of what the
server accepts (names, extras and version bounds), so whatever it generates is valid.
"""

from __future__ import annotations

import functools
from typing import Any

from .ids import ID_PATTERN
from .responses import ERROR_TYPES, dump_json
from .service import API_PREFIX, IDEMPOTENCY_KEY_MAX
from .validation import (
    ALLOWLIST_TYPES,
    APT_PATTERN,
    ASCII_WORD_PATTERN,
    BOOLEAN_QUERY_VALUES,
    HOST_MAX,
    HOST_PATTERN,
    LIMIT_DEFAULT,
    LIMIT_MAX,
    METADATA_KEY_MAX,
    METADATA_MAX_KEYS,
    METADATA_VALUE_MAX,
    NAME_MAX,
    NPM_PATTERN,
    PACKAGE_MANAGERS,
    SCOPES,
    SETUP_SCRIPT_MAX_BYTES,
)

Schema = dict[str, Any]


def _ref(name: str, kind: str = "schemas") -> Schema:
    return {"$ref": f"#/components/{kind}/{name}"}


#: The characters ``str.strip()`` removes (``str.isspace()``), which is how the emulator decides a
#: name or package spec is blank. JSON Schema's ``\s`` (ECMA-262) is a different set: it leaves out
#: U+001C-U+001F and adds U+FEFF, so with ``\S`` as the pattern schemathesis found names the
#: document allowed and the server refused as blank. (A test checks this list against Python.)
PYTHON_SPACES = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
# At least one character that is not one of those.
_NOT_BLANK = "[^" + "".join(f"\\u{ord(c):04x}" for c in PYTHON_SPACES) + "]"
_NULLABLE_TIME: Schema = {"type": ["string", "null"], "format": "date-time"}
_FLAGS: Schema = {
    "allow_package_managers": {"type": "boolean", "default": False},
    "allow_mcp_servers": {"type": "boolean", "default": False},
}


_PIP_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
_PIP_VERSION = r"[0-9]+(?:\.[0-9]+)*"
_PIP_BOUND = (
    rf"(?:(?:==|!=) *{_PIP_VERSION}(?:\.\*)?|(?:<=|>=|<|>) *{_PIP_VERSION}|~= *[0-9]+(?:\.[0-9]+)+)"
)
_PIP_BOUNDS = rf"{_PIP_BOUND}(?: *, *{_PIP_BOUND})*"
#: A part of PEP 508 (see the module docstring): name, extras, version bounds, inner spaces.
PIP_PATTERN = (
    rf"^{_PIP_NAME}(?: *\[ *(?:{_PIP_NAME}(?: *, *{_PIP_NAME})*)? *\])?"
    rf"(?: *(?:{_PIP_BOUNDS}|\( *{_PIP_BOUNDS} *\)))?$"
)
_SPEC_PATTERNS = {
    "apt": APT_PATTERN,
    "pip": PIP_PATTERN,
    "npm": NPM_PATTERN,
    **dict.fromkeys(("cargo", "gem", "go"), ASCII_WORD_PATTERN),
}
_SPEC_DESCRIPTIONS = {
    "apt": "Debian package names, each with an optional `:arch`, then `=version` or `/release`.",
    "pip": "PEP 508 requirements (the pattern is only a part of what is accepted: environment "
    "markers, direct references `name @ url`, pre-releases and more are too).",
    "npm": "`name` or `name@version`, the name optionally `@scope/name`, at most 214 characters.",
    **dict.fromkeys(
        ("cargo", "gem", "go"),
        "Kept but not installed by the service: one token each, printable ASCII.",
    ),
}


def _package_list(manager: str) -> Schema:
    return {
        "type": "array",
        "description": _SPEC_DESCRIPTIONS[manager],
        "items": {"type": "string", "pattern": _SPEC_PATTERNS[manager]},
    }


def _networking(kind: Schema, hosts: Schema, required: list[str]) -> Schema:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": required,
        "properties": {"type": kind, "allowed_hosts": hosts, **_FLAGS},
    }


def _setup_script() -> Schema:
    return {
        "type": "string",
        "maxLength": SETUP_SCRIPT_MAX_BYTES,
        "description": f"At most {SETUP_SCRIPT_MAX_BYTES} bytes of UTF-8.",
    }


def _schemas() -> dict[str, Schema]:
    hosts = {
        "type": "array",
        "items": _ref("HostName"),
        "uniqueItems": True,
        "description": "Each host once, ignoring case (DNS names are case-insensitive).",
    }
    metadata_value = {"type": "string", "maxLength": METADATA_VALUE_MAX}
    metadata_key = {"type": "string", "minLength": 1, "maxLength": METADATA_KEY_MAX}
    return {
        "Name": {
            "type": "string",
            "minLength": 1,
            "maxLength": NAME_MAX,
            "pattern": _NOT_BLANK,
            "description": "Not empty after trimming. Unique among non-archived environments.",
        },
        "HostName": {
            "type": "string",
            "maxLength": HOST_MAX,
            "pattern": HOST_PATTERN,
            "description": "A bare host name (pypi.org, *.example.com): no scheme, path or port.",
        },
        "Networking": {
            "description": "Without `type` the mode is `limited`. `allowed_hosts` spelling of "
            "the allowlist mode is accepted and kept as written.",
            "oneOf": [
                _networking({"const": "unrestricted"}, {**hosts, "maxItems": 0}, ["type"]),
                _networking({"const": "limited"}, hosts, []),
                _networking(
                    {"enum": list(ALLOWLIST_TYPES)},
                    {**hosts, "minItems": 1},
                    ["type", "allowed_hosts"],
                ),
            ],
        },
        "Packages": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "type": {"const": "packages"},
                **{manager: _package_list(manager) for manager in PACKAGE_MANAGERS},
            },
        },
        "Config": {"oneOf": [_ref("CloudConfig"), _ref("SelfHostedConfig")]},
        "SelfHostedConfig": {
            "type": "object",
            "additionalProperties": False,
            "required": ["type"],
            "description": "Runs on the customer's own runner: networking and packages do not "
            "apply, and may only hold their defaults.",
            "properties": {
                "type": {"const": "self_hosted"},
                "networking": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "type": {"const": "limited"},
                        "allowed_hosts": {"type": "array", "maxItems": 0},
                        "allow_package_managers": {"const": False},
                        "allow_mcp_servers": {"const": False},
                    },
                },
                "packages": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "type": {"const": "packages"},
                        **{m: {"type": "array", "maxItems": 0} for m in PACKAGE_MANAGERS},
                    },
                },
                "setup_script": _setup_script(),
            },
        },
        "Scope": {"enum": list(SCOPES)},
        "CloudConfig": {
            "type": "object",
            "additionalProperties": False,
            "required": ["type"],
            "properties": {
                "type": {"const": "cloud"},
                "networking": _ref("Networking"),
                "packages": _ref("Packages"),
                "setup_script": _setup_script(),
            },
        },
        "Metadata": {
            "type": "object",
            "maxProperties": METADATA_MAX_KEYS,
            "propertyNames": metadata_key,
            "additionalProperties": metadata_value,
        },
        "MetadataPatch": {
            "type": "object",
            "description": "A string sets the key, null deletes it. The result may have at most "
            f"{METADATA_MAX_KEYS} keys.",
            "propertyNames": metadata_key,
            "additionalProperties": {"anyOf": [metadata_value, {"type": "null"}]},
        },
        "EnvironmentCreate": {
            "type": "object",
            "additionalProperties": False,
            "required": ["name", "config"],
            "properties": {
                "name": _ref("Name"),
                "description": {"type": "string", "default": ""},
                "scope": _ref("Scope"),
                "config": _ref("Config"),
                "metadata": _ref("Metadata"),
            },
        },
        "EnvironmentUpdate": {
            "type": "object",
            "additionalProperties": False,
            "description": "Omitted fields stay; a sent `config` replaces the whole config.",
            "properties": {
                "name": _ref("Name"),
                "description": {"type": "string"},
                "scope": _ref("Scope"),
                "config": _ref("Config"),
                "metadata": _ref("MetadataPatch"),
            },
        },
        "ArchiveRequest": {"type": "object", "additionalProperties": False, "maxProperties": 0},
        "Environment": {
            "type": "object",
            "required": [
                "id",
                "type",
                "name",
                "description",
                "status",
                "config",
                "metadata",
                "archived_at",
                "created_at",
                "updated_at",
            ],
            "properties": {
                "id": {"type": "string", "pattern": ID_PATTERN},
                "type": {"const": "environment"},
                "name": _ref("Name"),
                "description": {"type": "string"},
                "status": {"enum": ["ready", "archived"]},
                "scope": _ref("Scope"),
                "config": _ref("Config"),
                "metadata": _ref("Metadata"),
                "archived_at": _NULLABLE_TIME,
                "created_at": {"type": "string", "format": "date-time"},
                "updated_at": {"type": "string", "format": "date-time"},
            },
        },
        "EnvironmentList": {
            "type": "object",
            "required": ["data", "first_id", "last_id", "has_more", "next_page"],
            "properties": {
                "data": {"type": "array", "items": _ref("Environment"), "maxItems": LIMIT_MAX},
                "first_id": {"type": ["string", "null"], "pattern": ID_PATTERN},
                "last_id": {"type": ["string", "null"], "pattern": ID_PATTERN},
                "has_more": {"type": "boolean"},
                "next_page": {
                    "type": ["string", "null"],
                    "description": "Pass as `page` to get the next page; null on the last one.",
                },
            },
        },
        "EnvironmentDeleted": {
            "type": "object",
            "required": ["id", "type"],
            "properties": {
                "id": {"type": "string", "pattern": ID_PATTERN},
                "type": {"const": "environment_deleted"},
            },
        },
        "Error": {
            "type": "object",
            "required": ["type", "error", "request_id"],
            "properties": {
                "type": {"const": "error"},
                "error": {
                    "type": "object",
                    "required": ["type", "message"],
                    "properties": {
                        "type": {"enum": sorted(set(ERROR_TYPES.values()))},
                        "message": {"type": "string"},
                        "param": {
                            "type": "string",
                            "description": "The field to blame, as a dotted path.",
                        },
                    },
                },
                "request_id": {"type": "string"},
            },
        },
    }


_ERROR_RESPONSES = {
    "400": ("BadRequest", "Invalid field, query, JSON or body size (invalid_request_error)."),
    "401": ("Unauthorized", "Missing, malformed or unknown token (authentication_error)."),
    "403": ("Forbidden", "The token is read-only (permission_error)."),
    "404": ("NotFound", "No such environment (not_found_error)."),
    "409": ("Conflict", "Name taken, idempotency key reused, or still in use (conflict_error)."),
    "429": ("RateLimited", "Throttled; retry after `Retry-After` seconds."),
    "500": ("ServerError", "Server fault (api_error)."),
    "503": ("Unavailable", "A gateway in front of the service is overloaded; empty body."),
}


def _headers(**extra: Schema) -> Schema:
    return {"x-request-id": _ref("RequestId", "headers"), **extra}


def _responses() -> dict[str, Schema]:
    responses: dict[str, Schema] = {}
    for name, description in _ERROR_RESPONSES.values():
        responses[name] = {
            "description": description,
            "headers": _headers(),
            "content": {"application/json": {"schema": _ref("Error")}},
        }
    responses["Unauthorized"]["headers"] = _headers(
        **{"WWW-Authenticate": {"schema": {"const": "Bearer"}}}
    )
    responses["RateLimited"]["headers"] = _headers(
        **{"Retry-After": {"required": True, "schema": {"type": "string", "pattern": "^[0-9]+$"}}}
    )
    responses["Unavailable"] = {"description": _ERROR_RESPONSES["503"][1], "headers": _headers()}
    return responses


def _operation(
    operation_id: str,
    summary: str,
    status: str,
    schema: str,
    errors: str,
    *,
    parameters: list[Schema] | None = None,
    body: tuple[str, bool] | None = None,
    idempotent: bool = False,
) -> Schema:
    success_headers = _headers()
    if idempotent:
        success_headers["Idempotent-Replayed"] = {
            "description": "Present when this answer replays the first one for the key.",
            "schema": {"const": "true"},
        }
    responses: dict[str, Schema] = {
        status: {
            "description": summary,
            "headers": success_headers,
            "content": {"application/json": {"schema": _ref(schema)}},
        }
    }
    for code in errors.split():
        responses[code] = _ref(_ERROR_RESPONSES[code][0], "responses")
    operation: Schema = {"operationId": operation_id, "summary": summary}
    params = list(parameters or [])
    if idempotent:
        params.append(_ref("IdempotencyKey", "parameters"))
    if params:
        operation["parameters"] = params
    if body is not None:
        name, required = body
        operation["requestBody"] = {
            "required": required,
            "content": {"application/json": {"schema": _ref(name)}},
        }
    operation["responses"] = responses
    return operation


def _query(name: str, schema: Schema, description: str) -> Schema:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


def _parameters() -> dict[str, Schema]:
    env_id = {"type": "string", "pattern": ID_PATTERN}
    return {
        "EnvironmentId": {
            "name": "environment_id",
            "in": "path",
            "required": True,
            "schema": env_id,
        },
        "IdempotencyKey": {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "description": "Same key and same body within 24 h replays the first successful "
            "answer without acting again; another body is a 409. Keys are per token.",
            "schema": {"type": "string", "minLength": 1, "maxLength": IDEMPOTENCY_KEY_MAX},
        },
        "Limit": _query(
            "limit",
            {"type": "integer", "minimum": 1, "maximum": LIMIT_MAX, "default": LIMIT_DEFAULT},
            "Page size.",
        ),
        "AfterId": _query("after_id", env_id, "Items older than this id. One cursor at most."),
        "BeforeId": _query("before_id", env_id, "Items newer than this id. One cursor at most."),
        "Page": _query(
            "page",
            {"type": "string", "pattern": "^pg_[A-Za-z0-9_-]+$"},
            "A `next_page` value from a previous answer. One cursor at most.",
        ),
        "IncludeArchived": _query(
            "include_archived",
            {"type": "string", "enum": list(BOOLEAN_QUERY_VALUES), "default": "false"},
            "Include archived environments.",
        ),
        "CreatedGte": _query(
            "created_at[gte]",
            {"type": "string", "format": "date-time"},
            "Only items created at or after this RFC 3339 time.",
        ),
        "CreatedLte": _query(
            "created_at[lte]",
            {"type": "string", "format": "date-time"},
            "Only items created at or before this RFC 3339 time.",
        ),
    }


def _paths() -> dict[str, Schema]:
    env_id = [_ref("EnvironmentId", "parameters")]
    list_params = [
        _ref(name, "parameters")
        for name in (
            "Limit",
            "AfterId",
            "BeforeId",
            "Page",
            "IncludeArchived",
            "CreatedGte",
            "CreatedLte",
        )
    ]
    write = "400 401 403 404 409 429 500 503"
    update = functools.partial(
        _operation,
        summary="Update an environment (partial)",
        status="200",
        schema="Environment",
        errors=write,
        parameters=env_id,
        body=("EnvironmentUpdate", True),
    )
    return {
        "/environments": {
            "get": _operation(
                "listEnvironments",
                "List environments, newest first",
                "200",
                "EnvironmentList",
                "400 401 429 500 503",
                parameters=list_params,
            ),
            "post": _operation(
                "createEnvironment",
                "Create an environment",
                "201",
                "Environment",
                "400 401 403 409 429 500 503",
                body=("EnvironmentCreate", True),
                idempotent=True,
            ),
        },
        "/environments/{environment_id}": {
            "get": _operation(
                "retrieveEnvironment",
                "Retrieve an environment (archived ones too)",
                "200",
                "Environment",
                "400 401 404 429 500 503",
                parameters=env_id,
            ),
            "post": update("updateEnvironment", idempotent=True),
            "put": update("updateEnvironmentPut"),
            "delete": _operation(
                "deleteEnvironment",
                "Delete an environment",
                "200",
                "EnvironmentDeleted",
                write,
                parameters=env_id,
            ),
        },
        "/environments/{environment_id}/archive": {
            "post": _operation(
                "archiveEnvironment",
                "Archive an environment (idempotent)",
                "200",
                "Environment",
                write,
                parameters=env_id,
                body=("ArchiveRequest", False),
                idempotent=True,
            ),
        },
        "/openapi.json": {
            "get": {
                "operationId": "getOpenAPI",
                "summary": "This document",
                "security": [],
                "responses": {
                    "200": {
                        "description": "The OpenAPI document",
                        "headers": _headers(),
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            }
        },
    }


def document() -> Schema:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Qoder Cloud Environments API (qoder_jupyter emulator)",
            "version": "1.0.0",
            "description": "A local emulator of the Environments API. Errors share one shape: "
            '{"type": "error", "error": {"type", "message", "param"?}, "request_id"}. Every '
            "answer carries `x-request-id` (the request's own, echoed, when it sent one).",
        },
        "servers": [{"url": API_PREFIX}],
        "security": [{"bearerAuth": []}],
        "paths": _paths(),
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A personal access token (pt-...).",
                }
            },
            "schemas": _schemas(),
            "parameters": _parameters(),
            "responses": _responses(),
            "headers": {
                "RequestId": {
                    "description": "The request's x-request-id, or one made up for it.",
                    "schema": {"type": "string"},
                }
            },
        },
    }


@functools.cache
def document_bytes() -> bytes:
    return dump_json(document())
