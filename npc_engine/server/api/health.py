"""Health and metrics (no key needed): ``/healthz``, ``/readyz``, ``/metrics``.

* ``/healthz``: the process answers (liveness; restart the worker if it does not).
* ``/readyz``: the state store and the vector store answer within 2 s each (readiness; take
  the worker out of the load balancer while it says 503). Each check's result is named. With a
  remote model server (the ``openai`` backend) it is checked too (``GET /models`` lists the
  model), but a failure there is ``degraded`` with 200, not 503: every worker shares that
  server, and while it is down the fallback composer still answers every turn, so taking the
  workers out of rotation would only turn degraded replies into none.
* ``/metrics``: Prometheus text (:mod:`npc_engine.server.metrics`). Labels hold tenant ids
  and route templates, never player ids or text; scrape it from inside your network.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from npc_engine.server.deps import EngineDep
from npc_engine.server.metrics import CONTENT_TYPE

if TYPE_CHECKING:
    from npc_engine.engine import Engine

__all__ = ["router"]

log = structlog.get_logger("npc_engine.server")
router = APIRouter(tags=["health"])
_CHECK_S = 2.0


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str  # ready | degraded (200: the model server fails, turns fall back) | not_ready (503)
    checks: dict[str, str]  # name -> "ok" or what failed


@router.get("/healthz", operation_id="healthz", response_model=Health, summary="Liveness")
async def healthz() -> Health:
    """The process serves requests."""
    return Health(status="ok")


def _failed(exc: Exception) -> str:
    return f"{type(exc).__name__}: {str(exc)[:200]}"


async def _check(work: Awaitable[Any]) -> str:
    try:
        async with asyncio.timeout(_CHECK_S):
            await work
    except TimeoutError:
        return f"no answer within {_CHECK_S:g} s"
    except Exception as exc:
        return _failed(exc)
    return "ok"


async def _model_check(engine: Engine) -> str | None:
    """The model server's answer, or ``None`` with no server to ask: the local model runs
    in-process, and LangChain models have no standard probe."""
    try:
        heartbeat = getattr(engine.chat_model, "heartbeat", None)
    except Exception as exc:  # a model that cannot be built: its turns fall back too
        return _failed(exc)
    return await _check(heartbeat()) if callable(heartbeat) else None


@router.get(
    "/readyz",
    operation_id="readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "A backend does not answer."}},
    summary="Readiness",
)
async def readyz(engine: EngineDep) -> Response:
    """``ready`` when the state store and the vector store answer, else 503 naming what failed;
    ``degraded`` (200) when they do but the model server does not."""
    heartbeat = getattr(engine.vectors, "heartbeat", None)  # in-memory stores have none: always up
    state, vectors, model = await asyncio.gather(
        _check(engine.state.tenant_exists(engine.settings.tenant)),
        _check(heartbeat()) if callable(heartbeat) else _check(asyncio.sleep(0)),
        _model_check(engine),
    )
    checks = {"state_store": state, "vector_store": vectors}
    if model is not None:
        checks["language_model"] = model
    ready = state == "ok" and vectors == "ok"
    status = "not_ready" if not ready else "ready" if all(v == "ok" for v in checks.values()) else "degraded"
    if status != "ready":
        log.warning(f"server.{status}", **checks)
    body = Readiness(status=status, checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)


@router.get(
    "/metrics",
    operation_id="metrics",
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE: {"schema": {"type": "string"}}}, "description": "Prometheus text"}
    },
    summary="Prometheus metrics",
)
async def metrics(request: Request) -> Response:
    """Turn latency by stage, tokens by tenant, escalations, fallbacks, errors, HTTP requests."""
    return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE)
