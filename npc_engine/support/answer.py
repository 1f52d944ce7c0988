"""A support answer from its sources: extractive first, adapted by the model only when checked.

:func:`pick_source` chooses what to answer from: among the hits of the assessed category,
an FAQ entry in the player's language, then a resolved ticket in that language, then the
best FAQ entry, then the best ticket. The answer is that source's own text (the curated
FAQ answer or the ticket's resolution): nothing is said that the source does not say.

When the source is in another language than the player's (and adaptation is enabled), the
chat model is asked to restate it in the player's language, and :func:`check_adapted`
compares the result with the source: every number, URL and e-mail address must come from
the source, nothing may be promised that the source does not promise, the length must
stay close, and (when an embedder is available) the meaning must stay close (cross-lingual
cosine similarity). An adapted answer that fails any check is discarded and the source
text is given as it is, introduced in the player's language.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from knowledge.embedders.base import Embedder
from knowledge.types import SearchHit
from npc_engine.llm.base import ChatMessage, ChatModel, ChatRequest
from npc_engine.turn.attempt import LANGUAGE_NAMES

__all__ = ["ADAPT_MIN_SIMILARITY", "Adapted", "adapt_answer", "check_adapted", "pick_source", "source_text"]

ADAPT_MIN_SIMILARITY = 0.80  # e5 cosine between the adapted answer and its source
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_LINK = re.compile(r"https?://\S+|[\w.+-]+@[\w-]+\.[\w.]+", re.IGNORECASE)
_PROMISE = re.compile(
    r"\b(guarantee|promise|refund(?:ed)? you|we will refund|compensat|garantiz|prometo|reembolsar|"
    r"rembourser|garantie|erstatt)\w*|保证|承诺|一定会退",
    re.IGNORECASE,
)
_LEAD = {
    "en": "",
    "es": "Esto es lo que dice nuestra ayuda (en {lang}):",
    "fr": "Voici ce qu'indique notre aide (en {lang}) :",
    "de": "Das steht in unserer Hilfe (auf {lang}):",
    "pt": "Isto é o que diz a nossa ajuda (em {lang}):",
    "zh": "以下是我们帮助中心的说明（{lang}）：",
    "hi": "हमारे सहायता केंद्र में यह लिखा है ({lang} में):",
}
_LANGUAGE_IN = {
    "es": {"en": "inglés", "zh": "chino"},
    "fr": {"en": "anglais", "zh": "chinois"},
    "de": {"en": "Englisch", "zh": "Chinesisch"},
    "pt": {"en": "inglês", "zh": "chinês"},
    "zh": {"en": "英文", "es": "西班牙文"},
    "hi": {"en": "अंग्रेज़ी"},
}
_ADAPT_SCHEMA = {
    "type": "object",
    "properties": {"text": {"type": "string", "maxLength": 900}},
    "required": ["text"],
}


def source_text(hit: SearchHit) -> str:
    """The answer a source gives: an FAQ entry's answer, a ticket's resolution."""
    meta = hit.metadata
    value = meta.get("answer") if hit.kind == "faq" else meta.get("resolution")
    return str(value).strip() if isinstance(value, str) and value.strip() else hit.text.strip()


def _lang(hit: SearchHit) -> str:
    return str(hit.metadata.get("locale") or "en").split("-")[0].lower()


def pick_source(hits: Sequence[SearchHit], category: str | None, locale: str) -> SearchHit | None:
    """The source to answer from: same category; the player's language first; FAQ before tickets."""
    pool = [h for h in hits if h.kind in ("faq", "ticket") and h.metadata.get("category") == category]
    if not pool:
        return None

    def rank(hit: SearchHit) -> tuple[int, int, float]:
        return (_lang(hit) != locale, hit.kind != "faq", -(hit.dense_score or 0.0))

    return min(pool, key=rank)


def introduced(text: str, *, source_locale: str, locale: str) -> str:
    """The source's own text, introduced in the player's language when it is in another one."""
    if source_locale == locale:
        return text
    lead = _LEAD.get(locale, "")
    if not lead:
        return text
    language = _LANGUAGE_IN.get(locale, {}).get(
        source_locale, LANGUAGE_NAMES.get(source_locale, source_locale)
    )
    return f"{lead.format(lang=language)} {text}"


def check_adapted(adapted: str, source: str) -> list[str]:
    """What is wrong with ``adapted`` as a restatement of ``source`` (empty: nothing found)."""
    problems: list[str] = []
    if not adapted.strip():
        return ["empty"]
    source_numbers = {n.replace(",", ".") for n in _NUMBER.findall(source)}
    if {n.replace(",", ".") for n in _NUMBER.findall(adapted)} - source_numbers:
        problems.append("number_not_in_source")
    if {m.casefold() for m in _LINK.findall(adapted)} - {m.casefold() for m in _LINK.findall(source)}:
        problems.append("link_not_in_source")
    if _PROMISE.search(adapted) and not _PROMISE.search(source):
        problems.append("promise_not_in_source")
    if len(adapted) > 2 * len(source) + 160:
        problems.append("too_long")
    return problems


@dataclass(frozen=True, slots=True)
class Adapted:
    text: str
    problems: tuple[str, ...]
    prompt_tokens: int
    completion_tokens: int

    @property
    def ok(self) -> bool:
        return not self.problems


async def adapt_answer(
    model: ChatModel,
    source: str,
    *,
    locale: str,
    agent_name: str,
    question: str,
    embedder: Embedder | None,
    timeout_s: float,
    max_tokens: int = 300,
) -> Adapted:
    """Ask ``model`` to restate ``source`` in the player's language, then check it against the source."""
    language = LANGUAGE_NAMES.get(locale, locale)
    request = ChatRequest(
        messages=[
            ChatMessage(
                "system",
                f"You are {agent_name}, a customer-support agent. Restate the ANSWER for the player "
                f"in {language}. Use only what the ANSWER says; keep every number, menu path and name "
                "exactly; add no promises, no new facts, no greeting. Reply as JSON: "
                '{"text": "..."}',
            ),
            ChatMessage("user", f"QUESTION (data): {question}\n\nANSWER (data): {source}"),
        ],
        max_tokens=max_tokens,
        temperature=0.0,
        json_schema=_ADAPT_SCHEMA,
        timeout_s=timeout_s,
    )
    result = await model.generate(request)
    try:
        parsed = json.loads(result.text)
        text = str(parsed.get("text", "")).strip() if isinstance(parsed, dict) else ""
    except json.JSONDecodeError:
        text = ""
    problems = check_adapted(text, source) if text else ["unparsable"]
    if not problems and embedder is not None:
        vectors = await embedder.embed([source, text], kind="document")
        a, b = np.asarray(vectors[0]), np.asarray(vectors[1])
        similarity = float(a @ b / ((np.linalg.norm(a) * np.linalg.norm(b)) or 1.0))
        if similarity < ADAPT_MIN_SIMILARITY:
            problems.append("meaning_drift")
    return Adapted(text, tuple(problems), result.prompt_tokens or 0, result.completion_tokens or 0)
