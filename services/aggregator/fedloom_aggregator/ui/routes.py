"""The /ui router: admin sign-in with the admin token, overview, one page per federation, static files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Cookie, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, RedirectResponse, Response
from starlette.templating import Jinja2Templates

from fedloom.wire.routes import UI
from fedloom_aggregator.audit import token_ref
from fedloom_aggregator.deps import AuditDep, CoordinatorDep, RegistryDep, SettingsDep
from fedloom_aggregator.errors import NotFound, PayloadTooLarge, UnsupportedMediaType
from fedloom_aggregator.rate_limit import TooManyRequests
from fedloom_aggregator.ui.sessions import COOKIE, SESSION_SECONDS, UiSessions
from fedloom_aggregator.ui.views import federation_page, overview

HERE = Path(__file__).parent
TEMPLATES = Jinja2Templates(directory=HERE / "templates")
STATIC = {"dashboard.js": "text/javascript", "dashboard.css": "text/css"}
FORM = "application/x-www-form-urlencoded"
FORM_BYTES = 4096
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
}

router = APIRouter(prefix=UI, tags=["dashboard"], include_in_schema=False)


def get_sessions(request: Request, settings: SettingsDep) -> UiSessions:
    return UiSessions(request.app.state.store, settings.admin_token)


SessionsDep = Annotated[UiSessions, Depends(get_sessions)]
SessionCookie = Annotated[str | None, Cookie(alias=COOKIE)]


def page(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> Response:
    settings = request.app.state.settings
    full = {"ui": UI, "refresh_seconds": settings.ui_refresh_seconds, **context}
    response = TEMPLATES.TemplateResponse(request, template, full, status_code=status_code)
    response.headers.update(SECURITY_HEADERS)
    return response


def to_login() -> Response:
    return RedirectResponse(f"{UI}/login", status_code=303)


def signed_in(sessions: SessionsDep, session: SessionCookie = None) -> bool:
    return sessions.valid(session)


SignedIn = Annotated[bool, Depends(signed_in)]


@router.get("")
def dashboard(request: Request, signed: SignedIn, coordinator: CoordinatorDep, registry: RegistryDep) -> Response:
    if not signed:
        return to_login()
    return page(request, "overview.html", overview(coordinator, registry))


@router.get("/federations/{federation_id}")
def federation(
    federation_id: str, request: Request, signed: SignedIn, coordinator: CoordinatorDep, registry: RegistryDep
) -> Response:
    if not signed:
        return to_login()
    try:
        context = federation_page(federation_id, coordinator, registry)
    except NotFound as exc:
        return page(request, "missing.html", {"message": str(exc)}, status_code=404)
    return page(request, "federation.html", context)


@router.get("/login")
def login_form(request: Request) -> Response:
    return page(request, "login.html", {"error": None})


async def form_token(request: Request) -> str:
    """The `token` field of the sign-in form; the body is refused past FORM_BYTES without reading it all."""
    if request.headers.get("content-type", "").split(";")[0].strip() != FORM:
        raise UnsupportedMediaType(f"send the sign-in form as {FORM}")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > FORM_BYTES:
            raise PayloadTooLarge(f"the sign-in form is larger than {FORM_BYTES} bytes")
    return parse_qs(body.decode(errors="replace")).get("token", [""])[0].strip()


@router.post("/login")
async def login(request: Request, sessions: SessionsDep, audit: AuditDep) -> Response:
    """Sign in with the admin token: a few tries a minute per remote address (429 past them), each one audited
    (the token only as its digest's prefix)."""
    address = request.client.host if request.client else "unknown"
    try:
        request.app.state.login_limiter.take(address, who="address")
    except TooManyRequests:
        audit.record("ui-login", "-", "refused", address=address, reason="too many attempts")
        raise
    token = await form_token(request)
    session = await run_in_threadpool(sessions.sign_in, token)
    audit.record("ui-login", token_ref(token) if token else "-", "failed" if session is None else "ok", address=address)
    if session is None:
        return page(request, "login.html", {"error": "That is not the admin token."}, status_code=401)
    response = RedirectResponse(UI, status_code=303)
    response.set_cookie(
        COOKIE,
        session,
        max_age=SESSION_SECONDS,
        path=UI,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/logout")
def logout(sessions: SessionsDep, session: SessionCookie = None) -> Response:
    sessions.sign_out(session)
    response = to_login()
    response.delete_cookie(COOKIE, path=UI)
    return response


@router.get("/static/{name}")
def static(name: str) -> Response:
    if name not in STATIC:
        raise NotFound(f"no static file {name!r}")
    return FileResponse(HERE / "static" / name, media_type=STATIC[name], headers={"Cache-Control": "max-age=300"})
