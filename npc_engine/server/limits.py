"""Per-tenant rate limits and a short cache of verified API keys.

:class:`RateLimiter` is a token bucket per tenant: ``rate`` requests a second on average,
``burst`` at once. It lives in the worker, so with N workers behind a load balancer a
tenant gets up to N times the rate; set ``NPC_RATE_LIMIT_PER_S`` to the cluster's rate
divided by N (the balancer spreads a tenant's requests over the workers). Keeping it in
the worker costs no round trip to a shared store on every request; a gateway in front of
the workers is the place for exact cluster-wide quotas.

:class:`KeyCache` remembers a verified key for ``ttl_s`` seconds (5 by default), so a busy
game server's requests do not each cost a key lookup; a revoked key stops working within
that time. Only the SHA-256 of a secret is used as the cache key.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from npc_engine.auth import Principal, hash_secret
from npc_engine.errors import RateLimitedError

__all__ = ["KeyCache", "RateLimiter"]


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_tenants: int = 10_000,
    ) -> None:
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self.max_tenants = max_tenants
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def check(self, tenant: str) -> None:
        """Take one token from ``tenant``'s bucket, or raise :class:`RateLimitedError` with ``retry_after``."""
        if self.rate <= 0:
            return
        now = self.clock()
        bucket = self._buckets.get(tenant)
        if bucket is None:
            bucket = self._buckets[tenant] = _Bucket(float(self.burst), now)
            while len(self._buckets) > self.max_tenants:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(tenant)
            bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.at) * self.rate)
            bucket.at = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return
        retry_after = (1.0 - bucket.tokens) / self.rate
        raise RateLimitedError(
            f"tenant {tenant!r} is over its rate of {self.rate:g} requests/s (burst {self.burst}); "
            f"retry after {retry_after:.2f} s",
            retry_after=retry_after,
        )


class KeyCache:
    def __init__(
        self, ttl_s: float, *, clock: Callable[[], float] = time.monotonic, size: int = 4096
    ) -> None:
        self.ttl_s = ttl_s
        self.clock = clock
        self.size = size
        self._known: OrderedDict[str, tuple[Principal, float]] = OrderedDict()

    def get(self, secret: str) -> Principal | None:
        if self.ttl_s <= 0:
            return None
        digest = hash_secret(secret)
        hit = self._known.get(digest)
        if hit is None:
            return None
        principal, until = hit
        if self.clock() >= until:
            del self._known[digest]
            return None
        return principal

    def put(self, secret: str, principal: Principal) -> None:
        if self.ttl_s <= 0:
            return
        self._known[hash_secret(secret)] = (principal, self.clock() + self.ttl_s)
        while len(self._known) > self.size:
            self._known.popitem(last=False)
