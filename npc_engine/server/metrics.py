"""Prometheus metrics, served at ``GET /metrics`` (``prometheus_client``: the reference client).

=====================================  ===================  ==========================================
metric                                 labels               what
=====================================  ===================  ==========================================
``npc_http_requests_total``            method, route,       requests answered (route is the template,
                                       status               ``/v1/npcs/{persona_id}/turns``)
``npc_http_request_seconds``           method, route        time to answer (streams: to the last byte)
``npc_turn_seconds``                   kind                 engine time of a turn (``npc``/``support``)
``npc_turn_stage_seconds``             kind, stage          each stage of a turn (the reply's
                                                            ``timings_ms``: retrieve, prompt, generate ...)
``npc_tokens_total``                   tenant, kind, type   prompt and completion tokens
``npc_escalations_total``              tenant, reason       support turns handed to staff
``npc_fallbacks_total``                tenant, reason       NPC replies the grounded composer wrote
``npc_errors_total``                   code                 error answers, by stable error code
=====================================  ===================  ==========================================

Each app has its own registry (two apps in one process do not collide). With several worker
processes, set ``PROMETHEUS_MULTIPROC_DIR`` to an empty directory shared by the workers before
they start: values then live in files there and ``/metrics`` on any worker sums them all
(prometheus_client's multiprocess mode).
"""

from __future__ import annotations

import os
import re
from collections.abc import MutableMapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

__all__ = ["CONTENT_TYPE", "Metrics"]

_CONVERTER = re.compile(r":[a-z]+}")
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_LATENCY = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


def _template(scope: MutableMapping[str, Any]) -> str:
    """The matched route's full path template (never the raw path: ids would explode the labels)."""
    # FastAPI >= 0.120 keeps included routers nested: the full template is in its route context
    effective = scope.get("fastapi", {}).get("effective_route_context")
    path = getattr(effective, "path", None)
    if isinstance(path, str):
        return _CONVERTER.sub("}", path)  # "{player_id:path}" -> "{player_id}", as in the spec
    route_path = getattr(scope.get("route"), "path", None)
    return route_path if isinstance(route_path, str) else "unmatched"


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "npc_http_requests_total", "HTTP requests answered", ["method", "route", "status"], registry=r
        )
        self.request_seconds = Histogram(
            "npc_http_request_seconds",
            "HTTP request duration",
            ["method", "route"],
            buckets=_LATENCY,
            registry=r,
        )
        self.turn_seconds = Histogram(
            "npc_turn_seconds", "Engine time of one turn", ["kind"], buckets=_LATENCY, registry=r
        )
        self.stage_seconds = Histogram(
            "npc_turn_stage_seconds",
            "Time of each turn stage",
            ["kind", "stage"],
            buckets=_LATENCY,
            registry=r,
        )
        self.tokens = Counter("npc_tokens_total", "Model tokens", ["tenant", "kind", "type"], registry=r)
        self.escalations = Counter(
            "npc_escalations_total", "Support turns escalated to staff", ["tenant", "reason"], registry=r
        )
        self.fallbacks = Counter(
            "npc_fallbacks_total",
            "NPC replies written by the grounded composer",
            ["tenant", "reason"],
            registry=r,
        )
        self.errors = Counter("npc_errors_total", "Error answers by code", ["code"], registry=r)

    def observe_request(self, scope: MutableMapping[str, Any], status: int, seconds: float) -> None:
        template = _template(scope)
        method = scope.get("method", "")
        self.requests.labels(method, template, str(status)).inc()
        self.request_seconds.labels(method, template).observe(seconds)

    def observe_turn(self, kind: str, tenant: str, reply: Any) -> None:
        """Record a finished turn from its reply (an ``NpcReply`` or a ``SupportReply``)."""
        timings: dict[str, float] = getattr(reply, "timings_ms", {}) or {}
        total = timings.get("total")
        if total is not None:
            self.turn_seconds.labels(kind).observe(total / 1000.0)
        for stage, ms in timings.items():
            if stage != "total":
                self.stage_seconds.labels(kind, stage).observe(ms / 1000.0)
        usage = getattr(reply, "usage", None)
        if usage is not None:
            if usage.prompt_tokens:
                self.tokens.labels(tenant, kind, "prompt").inc(usage.prompt_tokens)
            if usage.completion_tokens:
                self.tokens.labels(tenant, kind, "completion").inc(usage.completion_tokens)
        if getattr(reply, "escalated", False):
            self.escalations.labels(tenant, getattr(reply, "reason", None) or "unknown").inc()
        if getattr(reply, "fallback", False):
            self.fallbacks.labels(tenant, getattr(reply, "fallback_reason", None) or "unknown").inc()

    def error(self, code: str) -> None:
        self.errors.labels(code).inc()

    def render(self) -> bytes:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)
