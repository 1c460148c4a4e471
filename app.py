"""Image metadata service: S3 event handlers and the HTTP API. Routing only."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from chalice import (
    BadRequestError,
    Chalice,
    ConflictError,
    CORSConfig,
    ForbiddenError,
    NotFoundError,
    Response,
)
from chalice.app import CaseInsensitiveMapping, CloudWatchEvent, Request, S3Event, SQSEvent

from chalicelib import webpage
from chalicelib.catalog.records import record_etag
from chalicelib.dependencies import Dependencies
from chalicelib.downloads import fetch_download
from chalicelib.explore import LISTING_PARAMETERS, facet_page, search_page, timeline_page
from chalicelib.ingest import Outcome, parse_s3_record
from chalicelib.keys import InvalidKeyError, resolve_key
from chalicelib.logs import logged
from chalicelib.params import (
    IfNoneMatch,
    InvalidParameterError,
    check_query_parameters,
    parse_if_none_match,
    parse_json_body,
)
from chalicelib.preview_api import (
    Answer,
    duplicates_response,
    parse_etag,
    parse_size,
    preview_response,
)
from chalicelib.previews import handle_body
from chalicelib.reconcile import reconcile
from chalicelib.reconcile_jobs import InvalidJobIdError, job_status, run_work_item, start_job
from chalicelib.reconcile_payload import parse_job_payload, parse_payload
from chalicelib.redact import redact
from chalicelib.s3file import UnreadableObjectError
from chalicelib.settings import Settings
from chalicelib.uploads import InvalidUploadError, presigned_upload

app = Chalice(app_name="image-metadata")
app.log.setLevel(logging.INFO)
# API Gateway turns a base64 Lambda body back into bytes only when the
# request's Accept header matches a binary media type; curl and browsers send
# `*/*`. With `*/*` every response is base64 on the Lambda side and decoded by
# API Gateway (and by `chalice local`), so JSON and images both arrive intact.
app.api.binary_types.append("*/*")

deps = Dependencies(Settings.from_env())
RECONCILE_MARGIN_MS = 30_000
# What a client can get wrong; raised anywhere under a view, each is a 400 naming it.
USER_MISTAKES = (InvalidParameterError, InvalidKeyError, InvalidUploadError, InvalidJobIdError)
OPENAPI = json.loads((Path(__file__).parent / "chalicelib" / "openapi.json").read_text())
# Per stage (.chalice/config.json): API Gateway checks `x-api-key` on every
# route, and browsers on the configured origin may call the API.
API_KEY = deps.settings.api_key_required
if deps.settings.cors_origin:
    app.api.cors = CORSConfig(
        allow_origin=deps.settings.cors_origin,
        allow_headers=["If-None-Match", "X-Api-Key"],
        expose_headers=["ETag", "Last-Modified", "Location", "Content-Disposition"],
        max_age=600,
    )


@app.middleware("http")
def accept_anything_by_default(request: Request, get_response: Any) -> Response:
    # RFC 9110: no Accept header means any media type is acceptable. Without
    # this, Chalice refuses every response (all are binary under `*/*`).
    if "accept" not in request.headers:
        request.headers = CaseInsensitiveMapping({**request.headers, "accept": "*/*"})
    return get_response(request)


@app.middleware("http")
def never_sniffed(request: Request, get_response: Any) -> Response:
    # Every response, errors included, is taken as the type it says it is.
    response = get_response(request)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


@app.middleware("http")
def documented_parameters_only(request: Request, get_response: Any) -> Response:
    # A typo (`s3objectKey=`) must be a 400, not a silently different answer.
    operation = OPENAPI["paths"].get(request.path, {}).get(request.method.lower())
    if operation is not None:
        accepted = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
        try:
            check_query_parameters(request.query_params or {}, accepted)
        except InvalidParameterError as error:
            return Response(
                body={"Code": "BadRequestError", "Message": str(error)}, status_code=400
            )
    return get_response(request)


@app.middleware("http")
def log_request(request: Request, get_response: Any) -> Response:
    params = request.query_params or {}
    with logged(
        app.log,
        request=request.path,
        method=request.method,
        s3objectkey=params.get("s3objectkey"),
        request_id=request.context.get("requestId"),
    ) as line:
        response = get_response(request)
        line["status"] = response.status_code
        if response.status_code >= 400 and isinstance(response.body, dict):
            line["error"] = response.body.get("Message")
    return response


@app.on_s3_event(
    bucket=deps.settings.bucket, events=["s3:ObjectCreated:*"], prefix=deps.settings.prefix
)
def on_object_created(event: S3Event) -> dict[str, Any]:
    return _handle("object_created", event, deps.ingestor.object_created)


@app.on_s3_event(
    bucket=deps.settings.bucket, events=["s3:ObjectRemoved:*"], prefix=deps.settings.prefix
)
def on_object_removed(event: S3Event) -> dict[str, Any]:
    return _handle("object_removed", event, deps.ingestor.object_removed)


if deps.settings.previews:
    # The pixel stage: one message per `ok` record (chalicelib/previews.py); one
    # image per invocation, so memory is bounded by one decode.
    @app.on_sqs_message(queue=deps.settings.pixels_queue, batch_size=1, name="pixels_stage")
    def pixels_stage(event: SQSEvent) -> list[dict[str, Any]]:
        outcomes = []
        for message in event:
            with logged(app.log, handler="pixels_stage") as line:
                outcome = handle_body(deps.pixel_stage, message.body)
                line.update(outcome)
            outcomes.append(outcome)
        return outcomes


@app.lambda_function(name="reconcile")
def reconcile_function(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Backfill and repair: `chalice invoke -n reconcile`.

    Payload: `{}`, `{"start_after": KEY, "force": true}`, or the `resume` of a
    report that stopped early, passed back as `{"resume": ...}`; or
    `{"parallel": N, "force": false}` to start a job (returns its id at once).
    """
    job = parse_job_payload(event)  # `{"parallel": N}`: a job over the work queue
    if job is not None:
        return start_job(deps, parallel=job[0], force=job[1])
    position = parse_payload(event, deps.settings.counter_shards)
    report = reconcile(deps, resume=position, should_stop=_time_is_short(context))
    return {**asdict(report), "complete": report.complete}


if deps.settings.reconcile_schedule:
    # Repairs whatever slipped through (a lost event, a failed one not redriven).
    @app.schedule(deps.settings.reconcile_schedule, name="scheduled_reconcile")
    def scheduled_reconcile(event: CloudWatchEvent) -> dict[str, Any]:
        with logged(app.log, handler="scheduled_reconcile") as line:
            report = reconcile(deps, should_stop=_time_is_short(event.context))
            line.update(asdict(report), complete=report.complete)
        return {**asdict(report), "complete": report.complete}


@app.on_sqs_message(
    queue=deps.settings.reconcile_queue,
    batch_size=1,
    maximum_concurrency=deps.settings.reconcile_workers,
    name="reconcile_worker",
)
def reconcile_worker(event: SQSEvent) -> None:
    """One piece of a reconcile job per message, within the invocation's time."""
    should_stop = _time_is_short(event.context)
    for record in event:
        receives = int(record.to_dict().get("attributes", {}).get("ApproximateReceiveCount", 1))
        with logged(app.log, handler="reconcile_worker", receives=receives) as line:
            line["outcome"] = run_work_item(deps, record.body, receives, should_stop=should_stop)


@app.route("/reconcile/{job}", methods=["GET"], api_key_required=API_KEY)
def get_reconcile_job(job: str) -> dict[str, Any]:
    with _user_mistakes():
        status = job_status(deps, job)
    if status is None:
        raise NotFoundError(f"no reconcile job {job!r}")
    return status


# The web page: no API key (a browser navigating cannot send one; the page asks
# for it and sends it with its API calls). State lives in the URL's fragment.
@app.route("/", methods=["GET"], api_key_required=False)
def web_page() -> Response:
    path = app.current_request.context.get("path") or "/"
    if webpage.needs_trailing_slash(path):
        return Response(body=b"", status_code=301, headers={"Location": path + "/"})
    return _web(webpage.page())


@app.route("/web/{name}", methods=["GET"], api_key_required=False)
def web_asset(name: str) -> Response:
    return _web(webpage.asset(name))


@app.route("/web/vendor/{library}/{name}", methods=["GET"], api_key_required=False)
def web_vendor_asset(library: str, name: str) -> Response:
    return _web(webpage.asset(f"vendor/{library}/{name}"))


@app.route("/images", methods=["GET"], api_key_required=API_KEY)
def get_image() -> Response | dict[str, Any]:
    condition = _if_none_match()  # a malformed one is a 400 whatever the mode
    if "s3objectkey" not in (app.current_request.query_params or {}):
        with _user_mistakes():
            return search_page(deps.catalog, deps.settings, _params(LISTING_PARAMETERS))
    key = _requested_key()
    record = redact(deps.catalog.get(key), deps.settings.redact)
    if record is None:
        if deps.ingestor.exists(key):
            # Uploaded, not indexed yet: a polling client can tell "not yet" from "never".
            return Response(body={"s3objectkey": key, "status": "pending"}, status_code=202)
        raise NotFoundError(f"no image metadata for key {key!r}")
    etag = record_etag(record)
    if condition and condition.matches(etag):
        return Response(body="", status_code=304, headers={"ETag": etag})
    return Response(body=record, headers={"ETag": etag, "Cache-Control": "private, no-cache"})


@app.route("/images/download", methods=["GET"], api_key_required=API_KEY)
def download_image() -> Response:
    key = _requested_key()
    condition = _if_none_match()
    s = deps.settings
    try:
        download = fetch_download(
            deps.s3,
            deps.catalog,
            s.bucket,
            key,
            s.max_inline_download,
            s.presign_expires,
            condition,
        )
    except UnreadableObjectError as error:
        # Archived: restoring it would help (409). Otherwise it is refused (403).
        raise (ConflictError if error.archived else ForbiddenError)(error.reason) from None
    if download is None:
        raise NotFoundError(f"no image with key {key!r}")
    # Bytes, even when empty: a str body under a binary Content-Type breaks the response.
    body = download.body if download.body is not None else b""
    return Response(body=body, status_code=download.status, headers=download.headers(key))


@app.route("/images/preview", methods=["GET"], api_key_required=API_KEY)
def get_preview() -> Response:
    key, condition = _requested_key(), _if_none_match()
    with _user_mistakes():
        size, source = parse_size(_param("size")), parse_etag(_param("etag"))
    s, exists = deps.settings, deps.ingestor.exists
    answer = preview_response(deps.s3, deps.catalog, s, key, size, source, condition, exists)
    return _answer(answer)


@app.route("/images/duplicates", methods=["GET"], api_key_required=API_KEY)
def get_duplicates() -> Response:
    key = _requested_key()
    return _answer(duplicates_response(deps.catalog, deps.settings, key, deps.ingestor.exists))


# Any Content-Type reaches the view, which answers 400 (not Chalice's 415) for non-JSON.
@app.route("/uploads", methods=["POST"], api_key_required=API_KEY, content_types=["*/*"])
def create_upload() -> Response:
    s = deps.settings
    request = app.current_request
    with _user_mistakes():
        body = parse_json_body(request.headers.get("content-type"), request.raw_body)
        upload = presigned_upload(
            deps.s3, s.bucket, s.prefix, body, s.max_upload_bytes, s.upload_expires
        )
    return Response(body=upload)


@app.route("/summary", methods=["GET"], api_key_required=API_KEY)
def get_summary() -> dict[str, Any]:
    summary = deps.catalog.summary()
    for extreme in ("biggest", "smallest"):
        summary[extreme] = redact(summary[extreme], deps.settings.redact)
    return summary


@app.route("/summary/cameras", methods=["GET"], api_key_required=API_KEY)
def get_cameras() -> dict[str, Any]:
    return _facet("camera")


@app.route("/summary/lenses", methods=["GET"], api_key_required=API_KEY)
def get_lenses() -> dict[str, Any]:
    return _facet("lens")


@app.route("/summary/keywords", methods=["GET"], api_key_required=API_KEY)
def get_keywords() -> dict[str, Any]:
    return _facet("keyword")


@app.route("/summary/timeline", methods=["GET"], api_key_required=API_KEY)
def get_timeline() -> dict[str, Any]:
    with _user_mistakes():
        return timeline_page(deps.catalog, _params(("by", "limit", "next_token")))


@app.route("/openapi.json", methods=["GET"], api_key_required=API_KEY)
def get_openapi() -> dict[str, Any]:
    return OPENAPI


def _web(item: webpage.Asset | None) -> Response:
    if item is None:
        raise NotFoundError("not a file of the web page")
    csp = webpage.content_security_policy(webpage.upload_url(deps.s3, deps.settings.bucket))
    return Response(body=item.body, headers=webpage.headers(item, csp))


def _facet(facet: str) -> dict[str, Any]:
    with _user_mistakes():
        return facet_page(deps.catalog, facet, _params(("limit", "next_token")))


def _answer(answer: Answer) -> Response:
    body = answer.body if answer.body is not None else b""
    return Response(body=body, status_code=answer.status, headers=answer.headers)


def _params(names: tuple[str, ...]) -> dict[str, str]:
    """The route's query parameters that were given, each at most once (unknown ones
    were refused before the view, against the OpenAPI document)."""
    return {name: value for name in names if (value := _param(name)) is not None}


def _requested_key() -> str:
    raw = _param("s3objectkey")
    if raw is None:
        raise BadRequestError("missing query parameter 's3objectkey'")
    with _user_mistakes():
        return resolve_key(raw, deps.settings.prefix)


def _if_none_match() -> IfNoneMatch | None:
    with _user_mistakes():
        return parse_if_none_match(app.current_request.headers.get("if-none-match"))


@contextmanager
def _user_mistakes() -> Iterator[None]:
    try:
        yield
    except USER_MISTAKES as error:
        raise BadRequestError(str(error)) from None


def _param(name: str) -> str | None:
    """A query parameter given at most once (a repeated one is ambiguous: 400)."""
    params = app.current_request.query_params or {}
    values = params.getlist(name) if name in params else []
    if len(values) > 1:
        raise BadRequestError(f"query parameter {name!r} given more than once")
    return values[0] if values else None


def _time_is_short(context: Any) -> Callable[[], bool]:
    """Whether a long run must stop now: with time to spare for one more key and the
    report (a quarter of the invocation's time, at most RECONCILE_MARGIN_MS)."""
    margin = min(RECONCILE_MARGIN_MS, context.get_remaining_time_in_millis() / 4)
    return lambda: context.get_remaining_time_in_millis() < margin


def _handle(handler: str, event: S3Event, action: Callable[[Any], Outcome]) -> dict[str, Any]:
    """Apply one event; the outcome is logged and returned (`make redrive` reports it)."""
    record = event.to_dict()["Records"][0]
    request_id = getattr(event.context, "aws_request_id", None)
    with logged(app.log, handler=handler, key=event.key, request_id=request_id) as line:
        outcome = asdict(action(parse_s3_record(record)))
        line.update(outcome)
    return outcome
