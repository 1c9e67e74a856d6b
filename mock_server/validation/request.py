"""Validate a create request: content type, JSON, the schemas, then the model's rules.

Every problem is collected before answering, so one 400 lists them all.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:  # jsonschema is imported on the first error to explain
    from jsonschema import ValidationError

from mock_server import bounds, strictjson
from mock_server.catalog import registry
from mock_server.catalog.registry import MODELS, ModelSpec
from mock_server.data import schemas
from mock_server.errors import BAD_REQUEST, INVALID_PARAMETER, ApiError, Problem, validation_error
from mock_server.strictjson import escape
from mock_server.validation import images, leniency, rules
from mock_server.validation.rules import Context, callback_url_is_http

ENVELOPE_SCHEMA = "create-request.json"
_JSON_TYPES = {
    dict: "object",
    list: "array",
    str: "string",
    bool: "boolean",
    int: "integer",
    float: "number",
    type(None): "null",
}


@dataclass(frozen=True)
class CreateRequest:
    """A create request that passed validation."""

    model: ModelSpec
    args: dict[str, Any]
    callback_url: str | None
    warnings: tuple[Problem, ...]


def parse_json_body(content_type: str | None, body: bytes) -> Any:
    """Return the JSON value of a request body, or raise the API's error."""
    mimetype = (content_type or "").split(";")[0].strip().lower()
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise ApiError(
            415,
            BAD_REQUEST,
            f"unsupported content type {mimetype or '(none)'!r}; send the body as JSON "
            "with the header Content-Type: application/json",
        )
    return strict_json_body(body)


def strict_json_body(body: bytes) -> Any:
    """Parse a body as strict JSON (`strictjson.loads`), or raise the API's 400: malformed
    text by line and column, a NaN, infinity, over-long integer or lone surrogate by its
    JSON pointer."""
    try:
        return strictjson.loads(body)
    except strictjson.StrictJSONError as exc:
        problem = Problem("json.strict", exc.pointer, exc.what)
        raise ApiError(
            400, BAD_REQUEST, f"request body is not strict JSON: {problem}", (problem,)
        ) from None
    except UnicodeDecodeError:
        raise ApiError(400, BAD_REQUEST, "request body is not UTF-8; send UTF-8 JSON") from None
    except json.JSONDecodeError as exc:
        raise ApiError(
            400,
            BAD_REQUEST,
            f"request body is not valid JSON ({exc.msg} at line {exc.lineno} "
            f"column {exc.colno}); send a JSON object",
        ) from None
    except RecursionError:
        raise ApiError(
            400, BAD_REQUEST, "request body is nested too deeply; send a JSON object as documented"
        ) from None
    except ValueError as exc:  # any other value Python will not read: never a 500
        raise ApiError(
            400, BAD_REQUEST, f"request body holds a value the mock cannot read ({exc})"[:300]
        ) from None


def validate_create(
    body: Any,
    *,
    profile: str = "default",
    uploads: images.Lookup | None = None,
    unknown_models: str = "reject",
    strict_args: bool = False,
) -> CreateRequest:
    """Return the validated request, or raise `ApiError` listing every problem.

    Images (the values the args schema marks ``x-image``) are checked by `images`;
    `uploads` finds the bytes of the mock's own upload URLs. A model the catalogue does not
    hold is ``invalid model: <id>``, or with `unknown_models` "accept" taken with only the
    envelope checked (A-unknown-models). Args are read leniently (`leniency`) unless
    `strict_args` or the strict profile.
    """
    if not isinstance(body, dict):
        raise ApiError(
            400,
            BAD_REQUEST,
            f"request body is a JSON {json_type(body)}; send a JSON object with "
            "model, args and (optionally) callback_url",
        )
    if len(body) > bounds.ENVELOPE_KEYS:  # each unknown key would be explained, one by one
        what = f"request body holds {len(body):,} keys, beyond the mock's bound ENVELOPE_KEYS"
        fix = f"{what} ({bounds.ENVELOPE_KEYS}); send model, args and callback_url"
        raise ApiError(400, INVALID_PARAMETER, fix, (Problem("body.size", "", what),))
    check_args_size(body.get("args"))
    ctx = Context(profile=profile, strict_args=reads_strictly(profile, strict_args))
    problems = list(schema_problems(ENVELOPE_SCHEMA, body))
    problems += callback_url_is_http(body, ctx)
    model_id, args = body.get("model"), body.get("args")
    spec = _spec(model_id, unknown_models, problems)
    if spec is not None and spec.known and isinstance(args, dict):
        problems += args_problems(spec, args, ctx, uploads)
    errors = [p for p in problems if p.severity == "error"]
    if len(errors) == 1 and errors[0].rule == "model.known":
        raise ApiError(400, INVALID_PARAMETER, f"invalid model: {model_id}", problems)
    if errors:
        raise validation_error(problems)
    assert spec is not None and isinstance(args, dict)  # the schema made sure
    url = body.get("callback_url")
    return CreateRequest(spec, args, url if isinstance(url, str) else None, tuple(problems))


def reads_strictly(profile: str, strict_args: bool) -> bool:
    """Return whether args are read as the pages say (undocumented args and left-out
    defaulted fields errors): under ``--strict-args`` or the strict profile."""
    return strict_args or profile == "strict"


def check_args_size(args: Any) -> None:
    """Raise the API's 400 when `args` holds more than `bounds.ARGS_VALUES` values (members
    and items, nested) or nests deeper than `bounds.ARGS_DEPTH`: no model takes as many, and
    every one would be checked, echoed and stored."""
    count, stack = 0, [(args, 1)]
    while stack:
        value, depth = stack.pop()
        if not isinstance(value, (dict, list)):
            continue
        if depth > bounds.ARGS_DEPTH:
            _too_large("depth", f"nest deeper than {bounds.ARGS_DEPTH} levels", "ARGS_DEPTH")
        count += len(value)
        if count > bounds.ARGS_VALUES:
            what = f"hold more than {bounds.ARGS_VALUES:,} values (members and items, nested)"
            _too_large("size", what, "ARGS_VALUES")
        children = value.values() if isinstance(value, dict) else value
        stack.extend((child, depth + 1) for child in children)


def _too_large(rule: str, what: str, bound: str) -> NoReturn:
    text = f"args {what}, beyond the mock's bound {bound}; send the model's documented args"
    raise ApiError(400, INVALID_PARAMETER, text, (Problem(f"args.{rule}", "/args", what),))


def _spec(model_id: Any, unknown_models: str, problems: list[Problem]) -> ModelSpec | None:
    """Return the model's spec (None when there is no usable id), noting what to say of it."""
    if not isinstance(model_id, str) or not model_id:
        return None
    spec = MODELS.get(model_id)
    if spec is not None:
        return spec
    if unknown_models == "accept":
        spec = registry.unknown_spec(model_id)
        problems.append(
            Problem(
                "model.unknown_accepted",
                "/model",
                f"the mock does not know {model_id}: accepted (--unknown-models accept) with "
                f"only the envelope checked, no price, and {spec.output} as its result; the "
                "live API answers invalid model for an id it does not serve",
                severity="warning",
            )
        )
        return spec
    close = difflib.get_close_matches(model_id, list(MODELS), n=3, cutoff=0.6)
    hint = f"did you mean {' or '.join(close)}? " if close else ""
    problems.append(
        Problem(
            "model.known",
            "/model",
            f"invalid model: {model_id}; {hint}the mock knows {len(MODELS)} models "
            "(shortapi-mock models list, GET /openapi.json); serve with --unknown-models "
            "accept to take any id",
        )
    )
    return None


def args_problems(
    spec: ModelSpec, args: dict[str, Any], ctx: Context, uploads: images.Lookup | None = None
) -> list[Problem]:
    """Return the problems of a known model's args: schema, rules, images, what leniency let
    through (`leniency`: required-with-default fields filled before the checks run)."""
    strict = ctx.strict_args
    checked, problems = (args, []) if strict else leniency.with_defaults(spec, args)
    schema = schemas.args_variant(spec.args_schema, strict=strict)
    problems += schema_problems(schema, checked, "/args")
    # Rules run on schema-invalid args too (they guard their own types), so one answer
    # lists everything; a rule is quiet where the schema already flagged the spot.
    flagged = {p.pointer for p in problems if p.severity == "error"}
    for rule in rules.for_model(spec.rules):
        problems += [
            p for p in (_under("/args", q) for q in rule(checked, ctx)) if p.pointer not in flagged
        ]
    problems += images.check_args(
        schemas.load(spec.args_schema), checked, ctx, lookup=uploads, skip=flagged, prefix="/args"
    )
    if not spec.complete:
        problems.append(partial_model_warning(spec))
    problems += leniency.unknown_keys(spec, args, strict=strict)
    return problems


def partial_model_warning(spec: ModelSpec) -> Problem:
    """Say that the model's page was only partly seen (A-partial-models): the args it does not
    show are warned of (`leniency.unknown_keys`), as the live API may well accept them."""
    cut = f" ({spec.cut_note})" if spec.cut_note else ""
    return Problem(
        "model.partial",
        "/model",
        f"{spec.id} is only partly documented: its page was cut{cut}, so the mock enforces "
        "the fields it shows and lets others through with a warning",
        severity="warning",
    )


def _under(prefix: str, problem: Problem) -> Problem:
    return Problem(problem.rule, prefix + problem.pointer, problem.message, problem.severity)


def json_type(value: Any) -> str:
    """Return the JSON type name of a parsed JSON value ("object", "integer", ...)."""
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _pointer(path: Any) -> str:
    return "".join("/" + escape(str(p)) for p in path)


def schema_problems(schema: str, instance: Any, prefix: str = "") -> Iterator[Problem]:
    """Yield one problem per schema error, each with a pointer and a fix-it message."""
    if schemas.fast_check(schema)(instance):
        return
    seen: set[str] = set()  # one problem per spot: the first is enough to fix it
    for error in schemas.validator(schema).iter_errors(instance):
        for problem in _explain(error, prefix):
            if problem.pointer not in seen:
                seen.add(problem.pointer)
                yield problem


def _fix(schema: Mapping[str, Any]) -> str:
    fix = schema.get("x-fix")
    return f"; {fix}" if fix else ""


def _explain(error: ValidationError, prefix: str) -> Iterator[Problem]:
    pointer = prefix + _pointer(error.absolute_path)
    keyword = str(error.validator)
    schema: Mapping[str, Any] = error.schema if isinstance(error.schema, Mapping) else {}
    instance = error.instance
    value: Any = error.validator_value
    rule = f"schema.{keyword}"
    if keyword == "required" and isinstance(instance, dict):
        properties = schema.get("properties", {})
        for key in value:
            if key not in instance:
                field = properties.get(key, {})
                hint = _fix(field) or _choices(field)
                if "default" in field:  # only the strict reading asks for it
                    default = json.dumps(field["default"])
                    hint += f" (without --strict-args its default {default} applies)"
                yield Problem(rule, f"{pointer}/{escape(key)}", f"{key} is required; add it{hint}")
    elif keyword == "additionalProperties" and isinstance(instance, dict):
        allowed = list(schema.get("properties", {}))
        for key in instance:
            if key not in allowed:
                close = difflib.get_close_matches(str(key), allowed, n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                yield Problem(
                    rule,
                    f"{pointer}/{escape(key)}",
                    f"unknown key {key!r}; {hint}remove it (allowed: {', '.join(allowed)})"
                    + (
                        " (taken with a warning without --strict-args)"
                        if pointer == "/args"
                        else ""
                    ),
                )
    elif keyword == "enum":
        yield Problem(
            rule,
            pointer,
            f"{_short(instance)} is not allowed; use one of "
            f"{', '.join(json.dumps(v) for v in value)}{_fix(schema)}",
        )
    elif keyword == "not":  # a page's "X cannot be combined with Y" (the model file's allOf)
        yield Problem(rule, pointer, f"{_short(instance)} is not allowed here{_fix(schema)}")
    elif keyword == "type":
        yield Problem(
            rule,
            pointer,
            f"must be of type {error.validator_value}, not {json_type(instance)}{_fix(schema)}",
        )
    elif keyword in ("pattern", "format"):
        yield Problem(
            rule,
            pointer,
            f"{_short(instance)} is not in the accepted form"
            f"{_fix(schema) or '; ' + str(schema.get('description', ''))}",
        )
    else:
        yield Problem(rule, pointer, f"{_short_message(error)}{_fix(schema)}")


def _choices(schema: Mapping[str, Any]) -> str:
    if "enum" in schema:
        return "; one of " + ", ".join(json.dumps(v) for v in schema["enum"])
    return ""


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."


def _short_message(error: ValidationError) -> str:
    if error.validator in ("minLength", "maxLength", "minItems", "maxItems"):
        size = len(error.instance) if hasattr(error.instance, "__len__") else "?"
        limit = error.validator_value
        what = "characters" if "Length" in str(error.validator) else "items"
        bound = "at least" if str(error.validator).startswith("min") else "at most"
        return f"has {size} {what}, must have {bound} {limit}"
    message = error.message
    return message if len(message) <= 120 else message[:117] + "..."
