"""When a support turn hands the player to a person, why, how urgently, and what the player is told.

:func:`check_triggers` reads one player message against a
:class:`~personas.schema.SupportPersona` and returns the first of these that fires, in
this order (:data:`REASON_ORDER`), as a :class:`TriggerHit`:

1. ``human_requested``: the player asks for a person (:func:`detect_human_request`).
2. ``sensitive_topic``: a keyword of one of the persona's ``sensitive_topics``.
3. ``negative_sentiment``: :func:`~npc_engine.support.sentiment.negative_sentiment` at or
   above ``NEGATIVE_SENTIMENT_THRESHOLD`` (0.5), when ``escalate_on_negative_sentiment``.
4. ``repeated_failure``: ``failures``
   (:func:`~npc_engine.support.sentiment.count_failed_answers`) has reached
   ``max_failed_answers`` (0 turns this off).

``low_confidence`` and ``no_knowledge`` are decided after retrieval, and ``policy`` by the
content-policy guard; :data:`REASON_ORDER` places them (``policy`` first, the retrieval
reasons last) for a caller that has several. :func:`priority_for` turns a reason, a
topic and a sentiment score into a :class:`Priority`; :func:`what_happens_next` is the
honest message for the player (a person will reply; nothing is promised).

Human requests: built-in phrases in en, es, pt, fr, de, it, ru, hi (Devanagari and
romanised), zh, ja and ko, in every message whatever its language, plus the persona's
``human_request_phrases``. A request is a verb and a person ("talk to a human", "quiero
hablar con un agente", "mit einem Mitarbeiter sprechen", "转人工", "상담원"), or a clause
that is only "human" / "agent" / "operator" (+ "please"). Not requests: a negated one
("I don't need a human", "不用转人工"), an identity question ("are you human?", "is
this a real person?": the agent answers those itself) and lore ("the human race").
Matching is :mod:`npc_engine.support.sentiment`'s: normalised text, whole words,
substrings for CJK, Hangul and Devanagari; topic keywords also match simple plural and
tense forms ("refunds", "refunded") and are never negated (a mention is enough).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Literal

from npc_engine.errors import InvalidInputError
from npc_engine.locale import normalise_locale
from npc_engine.support.sentiment import (
    SEVERE_SENTIMENT,
    assess_sentiment,
    clause_context,
    compile_terms,
    normalise_text,
    require_text,
    unnegated_matches,
)
from personas.schema import SensitiveTopic, SupportPersona

__all__ = [
    "NEXT_STEPS",
    "REASON_ORDER",
    "TOPIC_PRIORITY",
    "EscalationReason",
    "HumanRequest",
    "Priority",
    "TriggerHit",
    "check_triggers",
    "detect_human_request",
    "find_human_request",
    "match_sensitive_topic",
    "match_sensitive_topics",
    "priority_for",
    "what_happens_next",
]


class EscalationReason(StrEnum):
    """Why a conversation went to a person: the fixed taxonomy recorded on the ticket.

    Members are in :data:`REASON_ORDER`, the order that decides when several apply.
    """

    POLICY = "policy"  # the message is content the game's policy blocks
    HUMAN_REQUESTED = "human_requested"  # the player asked for a person
    SENSITIVE_TOPIC = "sensitive_topic"  # payments, refunds, bans, account security, minors, ...
    NEGATIVE_SENTIMENT = "negative_sentiment"  # the player is angry or frustrated
    REPEATED_FAILURE = "repeated_failure"  # answers in a row did not help
    NO_KNOWLEDGE = "no_knowledge"  # nothing in the knowledge base supports an answer
    LOW_CONFIDENCE = "low_confidence"  # sources found, but not agreeing or scoring enough to answer


class Priority(StrEnum):
    """How soon staff should look at a ticket, lowest first."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


_R = EscalationReason
REASON_ORDER = tuple(EscalationReason)
"""Which reason is recorded when several apply: the earliest here (the enum's order)."""

_RANK = {priority: rank for rank, priority in enumerate(Priority)}
_REASON_PRIORITY = {_R.POLICY: Priority.HIGH, _R.NO_KNOWLEDGE: Priority.LOW, _R.LOW_CONFIDENCE: Priority.LOW}
TOPIC_PRIORITY: dict[str, Priority] = {
    "account_security": Priority.URGENT,  # someone else may be in the account right now
    "minors": Priority.URGENT,  # a child's safety, spending or data
    "payments": Priority.HIGH,  # money taken wrongly
    "refunds": Priority.NORMAL,
    "bans": Priority.NORMAL,
}
"""Priority of a sensitive topic by name; a topic not listed is ``normal``."""


def priority_for(
    reason: EscalationReason | str, topic: str | None = None, sentiment: float = 0.0
) -> Priority:
    """The highest of: the reason's priority, the topic's, and ``high`` for severe sentiment.

    Reasons: ``policy`` high; ``low_confidence`` and ``no_knowledge`` low; the rest normal.
    Topics: :data:`TOPIC_PRIORITY` (a topic counts whatever the reason, so "I want a human,
    my account was hacked" is urgent). Sentiment at or above ``SEVERE_SENTIMENT`` (0.8): high.
    """
    candidates = [_REASON_PRIORITY.get(_reason(reason), Priority.NORMAL)]
    if topic:
        key = re.sub(r"[\s-]+", "_", topic.strip().casefold())
        candidates.append(TOPIC_PRIORITY.get(key, Priority.NORMAL))
    if sentiment >= SEVERE_SENTIMENT:
        candidates.append(Priority.HIGH)
    return max(candidates, key=_RANK.__getitem__)


def _reason(reason: EscalationReason | str) -> EscalationReason:
    try:
        return EscalationReason(reason)
    except ValueError:
        known = ", ".join(r.value for r in EscalationReason)
        raise InvalidInputError(f"unknown escalation reason {reason!r}; expected one of: {known}") from None


# --- requests for a person ---------------------------------------------------------------------


def _request(to: str, direct: str, dets: str, nouns: str, people: str) -> str:
    """A verb that takes a person ("talk to", "want") and up to three determiners, then the person."""
    fill = f"(?:(?:{dets}) ){{0,3}}"
    return rf"(?<!\w)(?:(?:{to}) {fill}(?:{people}|{nouns})|(?:{direct}) {fill}(?:{people}))(?!\w)"


_BUILTIN_REQUESTS: dict[str, str] = {
    "en": _request(
        r"(?:talk|talking|speak|speaking|chat|chatting|get through|be connected|connect me|transfer me|"
        r"put me through|pass me|hand me over|forward me|escalate this|escalate it|escalate me|escalate) "
        r"(?:to|with)|contact|reach",
        r"get me|give me|want|need|request|prefer|can i get|can i have|could i get|could i have|i d like",
        r"a|an|the|one of your|one of the|your|some|any|real|actual|live|living|proper|genuine|human",
        r"customer (?:service|support|care)|support(?: staff| team)?|staff(?: member)?|employees?|"
        r"moderators?|gms?|game masters?|managers?|supervisors?|devs?|developers?|"
        r"(?:someone|somebody|person)(?= \||$| please| now| from| at| in support| on your| who works)",
        r"humans?|human beings?|real (?:person|people)|actual person|live person|"
        r"(?:live |human |support )?agents?|representatives?|operators?",
    )
    + r"|(?<!\w)(?:human|live|real person) (?:support|help|assistance|chat)(?!\w)"
    + r"|(?<!\w)(?:contact|reach|email) (?:the )?support(?!\w)"
    + r"|(?<!\w)escalate(?: this| it| me| my (?:ticket|case|issue))?(?= \||$| please| now)",
    "es": _request(
        r"(?:hablar|hablo|habla|comunicarme|contactar|pasame|paseme|pasarme|pasenme|comunicame|"
        r"comuniqueme|transfiereme|transferirme|conectame|conecteme|conectarme|ponme|pongame)(?: con| a| al)?",
        r"quiero|necesito|pido|solicito|exijo|quisiera",
        r"un|una|el|la|los|las|algun|alguna|real|verdadero|verdadera|humano|humana",
        r"personas?|empleados?|soporte(?: tecnico)?|atencion al cliente|servicio al cliente|alguien(?= \||$)",
        r"personas? reales?|persona de verdad|humanos?|humanas?|ser humano|agentes?|operador(?:es|a|as)?|"
        r"asesor(?:es|a|as)?|representantes?|alguien (?:real|de verdad|de soporte)",
    ),
    "pt": _request(
        r"(?:falar|falo|fala|conversar|contatar|contactar|me passa|me passe|me transfere|me transfira|"
        r"me coloca|me coloque|me conecta|me conecte|chamar|chame)(?: com| a| ao| para| o)?",
        r"quero|preciso de|preciso|gostaria de|exijo",
        r"um|uma|o|a|os|as|algum|alguma|real|humano|humana",
        r"pessoas?|suporte|atendimento|funcionarios?|alguem(?= \||$)",
        r"atendentes?(?: humanos?)?|pessoas? reais?|pessoa de verdade|humanos?|ser humano|agentes?|"
        r"operador(?:es|a|as)?|representantes?|atendimento humano|alguem (?:real|de verdade|do suporte)",
    ),
    "fr": _request(
        r"(?:parler|parle|discuter|echanger|passez moi|passe moi|mettez moi en relation|mettre en relation|"
        r"transferez moi|transfere moi|joindre|contacter)(?: a| avec| au| aux)?",
        r"veux|voudrais|souhaite|souhaiterais|besoin d|besoin de|exige",
        r"un|une|le|la|l|les|des|vrai|vraie|veritable|reel|reelle|du|d",
        r"personnes?|quelqu un(?: de reel| du support)?|service client|support|responsable|moderateurs?|"
        r"employes?",
        r"humains?|humaines?|etres? humains?|vrai humain|vraie personne|personne reelle|conseill(?:er|ere)s?|"
        r"agents?|operat(?:eur|rice)s?",
    ),
    "de": _request(
        r"(?:sprechen|reden|verbinden sie mich|verbinde mich|verbindet mich|stellen sie mich durch|chatten) mit",
        r"will|mochte|brauche|hatte gern|hatte gerne|verlange",
        r"einem|einer|einen|ein|eine|dem|der|den|echten|echter|echte|richtigen|menschlichen|realen|vom|ihrem",
        r"person|kundendienst(?:es)?|kundenservice|support|jemandem(?: vom support)?",
        r"mensch(?:en)?|mitarbeiter(?:in|innen|n)?|ansprechpartner(?:in)?|berater(?:in)?|"
        r"sachbearbeiter(?:in)?|agent(?:en|in)?",
    )
    + r"|(?<!\w)mit (?:(?:einem|einer|dem|der|echten|richtigen|menschlichen|realen) ){0,3}"
    r"(?:mensch(?:en)?|mitarbeiter(?:in|innen|n)?|ansprechpartner(?:in)?|berater(?:in)?|person|"
    r"kundendienst|kundenservice|support|jemandem)(?: \w+){0,2} (?:sprechen|reden|verbunden|chatten|"
    r"schreiben|telefonieren)(?!\w)"
    + r"|(?<!\w)(?:echte[nrm]? mensch(?:en)?|menschliche[nrm]? (?:mitarbeiter|support|ansprechpartner))(?!\w)",
    "it": _request(
        r"(?:parlare|parlo|parla|contattare|passami|mi passi|mettermi in contatto|mi metta in contatto|"
        r"collegarmi|collegami)(?: con| a| al| alla| col)?",
        r"voglio|vorrei|ho bisogno di|chiedo",
        r"un|una|uno|l|il|lo|la|gli|le|vero|vera|reale|dell|del|della",
        r"persone?|qualcuno(?: dell assistenza| del supporto)?|assistenza(?: clienti)?|servizio clienti|"
        r"supporto|dipendenti?",
        r"operator[ei]|operatrice|umani?|essere umano|persona reale|persona vera|agenti?",
    ),
    "ru": _request(
        r"(?:поговорить|говорить|связаться|соедините|соединить|соедини|переключите|переключить|переведите|"
        r"перевести|свяжите|свяжи)(?: меня)?(?: с| со| на)?",
        r"позовите|позови|позвать|хочу|нужен|нужна|дайте|дай|требую",
        r"живым|живой|живого|живому|настоящим|настоящий|настоящего|реальным|реальный|кем нибудь из",
        r"поддержк\w*|техподдержк\w*",
        r"человек\w*|оператор\w*|сотрудник\w*|специалист\w*|консультант\w*|менеджер\w*|агент\w*",
    )
    + r"|(?<!\w)жив\w* (?:человек|оператор)\w*",
    "hi": r"(?<!\w)(?:kisi )?(?:insaan|insan|insano|agent|vyakti|aadmi|asli insaan|customer care|"
    r"customer support|support team) se baat(?!\w)",
}
_BUILTIN_NEEDLES: dict[str, str] = {
    "hi": "इंसान से बात, इन्सान से बात, व्यक्ति से बात, एजेंट से बात, कर्मचारी से बात, असली इंसान, ग्राहक सेवा से बात, "
    "कस्टमर केयर से बात, सपोर्ट टीम से बात, इंसान से संपर्क",
    "zh": "转人工, 轉人工, 人工客服, 人工服务, 人工服務, 人工坐席, 真人客服, 找真人, 要真人, 和真人, 跟真人, 找人工, "
    "要人工, 接人工, 客服人员, 客服人員, 联系客服, 聯繫客服, 找客服, 真人聊, 真人对话, 真人對話",
    "ja": "オペレーター, 担当者, 有人対応, 人間と話, 人間に代わ, 人と話したい, スタッフと話, 人間のスタッフ, サポート担当",
    "ko": "상담원, 상담사, 상담 직원, 사람이랑 얘기, 사람이랑 대화, 사람이랑 통화, 사람과 얘기, 사람과 대화, 사람과 통화, "
    "사람하고 얘기, 사람하고 통화, 실제 사람, 진짜 사람, 직원 연결, 직원이랑, 직원과 통화, 담당자",
}
_ALONE = (
    r"(?:^|(?<=\| ))(?:a |an )?(?:human|agent|operator|representative|real person|live agent|human agent|"
    r"live person|real human|humano|agente|atendente|humain|operatore|оператор)(?: please| pls| plz| now)*(?= \||$)"
)
_LORE = re.compile(
    r" (?:race|kingdom|faction|character|npc|player|form|skin|city|lore|empire|king|queen|warrior|class|"
    r"mage|village|army|soldier|raza|reino|personaje|royaume|personnage|rasse|reich)s?(?!\w)"
)
_IDENTITY = re.compile(
    r"(?:^|\s)(?:are you|are u|r u|am i|is this|is it|is that|eres|es usted|voce e|es tu|etes vous|tu es|"
    r"bist du|sind sie)(?:\s|$)|你是|是不是|あなたは"
)


_Named = tuple[tuple[str, re.Pattern[str]], ...]  # (label, pattern)


@lru_cache(maxsize=1)
def _builtin_patterns() -> _Named:
    patterns = [("any", re.compile(_ALONE))]
    for lang in ("en", "es", "pt", "fr", "de", "it", "ru", "hi", "zh", "ja", "ko"):
        parts = [_BUILTIN_REQUESTS[lang]] if lang in _BUILTIN_REQUESTS else []
        needles = compile_terms(_BUILTIN_NEEDLES.get(lang, "").split(","))
        parts += [needles.pattern] if needles is not None else []
        patterns.append((lang, re.compile("|".join(parts))))
    return tuple(patterns)


@lru_cache(maxsize=64)
def _phrase_patterns(phrases: tuple[str, ...]) -> _Named:
    compiled = ((phrase, compile_terms([phrase])) for phrase in phrases)
    return tuple((phrase, pattern) for phrase, pattern in compiled if pattern is not None)


@dataclass(frozen=True, slots=True)
class HumanRequest:
    """A request for a person: from a ``builtin`` phrase (``language`` tells which) or a ``persona`` one."""

    source: Literal["builtin", "persona"]
    language: str | None = None  # built-in phrases: "en", "zh", ...; "any" for a bare "human please"
    phrase: str | None = None  # persona phrases: the phrase as configured (never the player's words)

    @property
    def evidence(self) -> str:
        return f"persona phrase {self.phrase!r}" if self.source == "persona" else f"builtin:{self.language}"


def _is_request(text: str, match: re.Match[str]) -> bool:
    before, _ = clause_context(text, match.start(), match.end())
    if _IDENTITY.search(" ".join(before.split()[-3:])) or _IDENTITY.search(before.replace(" ", "")[-4:]):
        return False  # "are you human?", "is this a real person?"
    return _LORE.match(text, match.end()) is None  # "talk to the human race"


def find_human_request(text: str, *, extra_phrases: Sequence[str] = ()) -> HumanRequest | None:
    """The first kind of request for a person in ``text`` (persona phrases first), or ``None``."""
    return _human_request(normalise_text(require_text(text)), tuple(extra_phrases))


def _human_request(normalised: str, extra_phrases: tuple[str, ...]) -> HumanRequest | None:
    sources = [("persona", phrase, pattern) for phrase, pattern in _phrase_patterns(extra_phrases)]
    sources += [("builtin", lang, pattern) for lang, pattern in _builtin_patterns()]
    for source, label, pattern in sources:
        if any(_is_request(normalised, m) for m in unnegated_matches(pattern, normalised)):
            if source == "persona":
                return HumanRequest("persona", phrase=label)
            return HumanRequest("builtin", language=label)
    return None


def detect_human_request(text: str, *, extra_phrases: Sequence[str] = ()) -> bool:
    """Whether the player asks for a person (see the module docstring for what counts)."""
    return find_human_request(text, extra_phrases=extra_phrases) is not None


# --- sensitive topics --------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _topic_patterns(topics: tuple[tuple[str, tuple[str, ...]], ...]) -> _Named:
    compiled = ((name, compile_terms(keywords, inflect=True)) for name, keywords in topics)
    return tuple((name, pattern) for name, pattern in compiled if pattern is not None)


def match_sensitive_topics(text: str, topics: Sequence[SensitiveTopic]) -> tuple[str, ...]:
    """Names of the topics whose keywords ``text`` mentions, by first mention (ties: persona order)."""
    return _topics(normalise_text(require_text(text)), topics)


def _topics(normalised: str, topics: Sequence[SensitiveTopic]) -> tuple[str, ...]:
    key = tuple((topic.name, tuple(topic.keywords)) for topic in topics)
    found = []
    for index, (name, pattern) in enumerate(_topic_patterns(key)):
        match = pattern.search(normalised)
        if match is not None:
            found.append((match.start(), index, name))
    return tuple(name for _, _, name in sorted(found))


def match_sensitive_topic(text: str, topics: Sequence[SensitiveTopic]) -> str | None:
    """The topic ``text`` mentions first, or ``None`` (see :func:`match_sensitive_topics`)."""
    found = match_sensitive_topics(text, topics)
    return found[0] if found else None


# --- the check ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TriggerHit:
    """The reason a message is escalated, what fired it, and the ticket's priority.

    ``evidence`` names what matched, never the player's words: ``"builtin:es"`` or ``"persona
    phrase 'real person'"``, a topic name, sentiment cues (``"insult,shouting"``), or
    ``"2 failed answers"``. ``topic`` is the most urgent topic mentioned, whatever the reason.
    """

    reason: EscalationReason
    evidence: str
    priority: Priority
    topic: str | None = None
    sentiment: float = 0.0


def check_triggers(
    text: str, persona: SupportPersona, *, locale: str | None = None, failures: int = 0
) -> TriggerHit | None:
    """The first trigger of :data:`REASON_ORDER` that ``text`` fires for ``persona``, or ``None``.

    ``locale`` narrows the sentiment lexicons; ``failures`` is
    :func:`~npc_engine.support.sentiment.count_failed_answers` for this conversation
    (this message included). An empty message fires nothing.
    """
    normalised = normalise_text(require_text(text))
    rules = persona.escalation
    topics = _topics(normalised, persona.sensitive_topics)
    topic = max(topics, key=lambda name: _RANK[priority_for(_R.SENSITIVE_TOPIC, name)], default=None)
    sentiment = assess_sentiment(text, locale=locale)
    request = _human_request(normalised, tuple(rules.human_request_phrases))
    hits: list[tuple[EscalationReason, str]] = []
    if request is not None:
        hits.append((_R.HUMAN_REQUESTED, request.evidence))
    if topic is not None:
        hits.append((_R.SENSITIVE_TOPIC, topic))
    if rules.escalate_on_negative_sentiment and sentiment.negative:
        hits.append((_R.NEGATIVE_SENTIMENT, ",".join(sentiment.cues)))
    if rules.max_failed_answers > 0 and failures >= rules.max_failed_answers:
        hits.append((_R.REPEATED_FAILURE, f"{failures} failed answers"))
    if not hits:
        return None
    reason, evidence = hits[0]
    priority = priority_for(reason, topic, sentiment.score)
    return TriggerHit(reason, evidence, priority, topic=topic, sentiment=sentiment.score)


# --- what the player is told -------------------------------------------------------------------

_HANDOFF = "handoff"
NEXT_STEPS: dict[str, dict[str, str]] = {
    "en": {
        _HANDOFF: "I've passed this conversation to our support team; a person will reply here, usually "
        "within a day.",
        _R.HUMAN_REQUESTED: "Of course.",
        _R.SENSITIVE_TOPIC: "This needs a person: I can't change payments, refunds, bans or account access "
        "myself, and I can't promise an outcome.",
        _R.NEGATIVE_SENTIMENT: "I'm sorry this has been so frustrating.",
        _R.REPEATED_FAILURE: "I'm sorry my answers haven't solved this.",
        _R.LOW_CONFIDENCE: "I'm not sure enough of the answer to give you one.",
        _R.NO_KNOWLEDGE: "I don't have information I can rely on for this.",
        _R.POLICY: "I can't help with that here.",
    },
    "es": {
        _HANDOFF: "He pasado esta conversación a nuestro equipo de soporte; una persona te responderá aquí, "
        "normalmente en un día.",
        _R.HUMAN_REQUESTED: "Claro.",
        _R.SENSITIVE_TOPIC: "Esto necesita a una persona: yo no puedo cambiar pagos, reembolsos, bloqueos ni "
        "el acceso a la cuenta, ni prometer un resultado.",
        _R.NEGATIVE_SENTIMENT: "Siento que esto esté siendo tan frustrante.",
        _R.REPEATED_FAILURE: "Siento que mis respuestas no lo hayan resuelto.",
        _R.LOW_CONFIDENCE: "No tengo la certeza suficiente para darte una respuesta.",
        _R.NO_KNOWLEDGE: "No tengo información fiable sobre esto.",
        _R.POLICY: "No puedo ayudarte con eso aquí.",
    },
    "pt": {
        _HANDOFF: "Passei esta conversa para a nossa equipe de suporte; uma pessoa vai responder aqui, "
        "normalmente em até um dia.",
        _R.HUMAN_REQUESTED: "Claro.",
        _R.SENSITIVE_TOPIC: "Isto precisa de uma pessoa: eu não posso alterar pagamentos, reembolsos, "
        "banimentos nem o acesso à conta, nem prometer um resultado.",
        _R.NEGATIVE_SENTIMENT: "Sinto muito que isto esteja sendo tão frustrante.",
        _R.REPEATED_FAILURE: "Sinto muito que minhas respostas não tenham resolvido isto.",
        _R.LOW_CONFIDENCE: "Não tenho certeza suficiente da resposta para dá-la.",
        _R.NO_KNOWLEDGE: "Não tenho informações confiáveis sobre isto.",
        _R.POLICY: "Não posso ajudar com isso aqui.",
    },
    "fr": {
        _HANDOFF: "J'ai transmis cette conversation à notre équipe d'assistance ; une personne vous répondra "
        "ici, généralement sous un jour.",
        _R.HUMAN_REQUESTED: "Bien sûr.",
        _R.SENSITIVE_TOPIC: "Cela demande une personne : je ne peux pas modifier moi-même les paiements, les "
        "remboursements, les bannissements ou l'accès au compte, ni promettre un résultat.",
        _R.NEGATIVE_SENTIMENT: "Je regrette que ce soit si frustrant.",
        _R.REPEATED_FAILURE: "Je regrette que mes réponses n'aient pas résolu le problème.",
        _R.LOW_CONFIDENCE: "Je n'ai pas assez de certitude sur la réponse pour vous la donner.",
        _R.NO_KNOWLEDGE: "Je n'ai pas d'information fiable à ce sujet.",
        _R.POLICY: "Je ne peux pas vous aider avec cela ici.",
    },
    "de": {
        _HANDOFF: "Ich habe dieses Gespräch an unser Support-Team weitergegeben; ein Mensch antwortet dir "
        "hier, meist innerhalb eines Tages.",
        _R.HUMAN_REQUESTED: "Natürlich.",
        _R.SENSITIVE_TOPIC: "Dafür braucht es einen Menschen: Zahlungen, Erstattungen, Sperren oder den "
        "Kontozugang kann ich selbst nicht ändern, und ich kann kein Ergebnis versprechen.",
        _R.NEGATIVE_SENTIMENT: "Es tut mir leid, dass das so frustrierend ist.",
        _R.REPEATED_FAILURE: "Es tut mir leid, dass meine Antworten das nicht gelöst haben.",
        _R.LOW_CONFIDENCE: "Ich bin mir bei der Antwort nicht sicher genug, um sie dir zu geben.",
        _R.NO_KNOWLEDGE: "Dazu habe ich keine verlässlichen Informationen.",
        _R.POLICY: "Dabei kann ich hier nicht helfen.",
    },
    "zh": {
        _HANDOFF: "我已把这段对话转给支持团队，工作人员会在这里回复你，通常在一天之内。",
        _R.HUMAN_REQUESTED: "好的。",
        _R.SENSITIVE_TOPIC: "这件事需要人工处理：我自己无法更改付款、退款、封禁或账号权限，也不能承诺结果。",
        _R.NEGATIVE_SENTIMENT: "很抱歉让你这么烦心。",
        _R.REPEATED_FAILURE: "很抱歉，我的回答没能解决问题。",
        _R.LOW_CONFIDENCE: "这个问题我没有足够把握给出答案。",
        _R.NO_KNOWLEDGE: "关于这个问题，我没有可靠的资料。",
        _R.POLICY: "这件事我无法在这里帮你处理。",
    },
    "hi": {
        _HANDOFF: "मैंने यह बातचीत हमारी सपोर्ट टीम को भेज दी है; कोई व्यक्ति यहीं जवाब देगा, आमतौर पर एक दिन के भीतर।",
        _R.HUMAN_REQUESTED: "ज़रूर।",
        _R.SENSITIVE_TOPIC: "इसके लिए किसी व्यक्ति की ज़रूरत है: भुगतान, रिफ़ंड, बैन या खाते की पहुँच बदलना मेरे बस में "
        "नहीं है, और किसी नतीजे का वादा भी नहीं किया जा सकता।",
        _R.NEGATIVE_SENTIMENT: "माफ़ कीजिए, यह आपके लिए इतना परेशानी भरा रहा।",
        _R.REPEATED_FAILURE: "माफ़ कीजिए, मेरे जवाबों से यह हल नहीं हुआ।",
        _R.LOW_CONFIDENCE: "इस सवाल के जवाब पर मुझे पूरा भरोसा नहीं है।",
        _R.NO_KNOWLEDGE: "इस बारे में मेरे पास भरोसेमंद जानकारी नहीं है।",
        _R.POLICY: "इस विषय पर यहाँ मदद संभव नहीं है।",
    },
}
"""Per language: an opening line per reason and the shared ``"handoff"`` line that follows it."""


def what_happens_next(reason: EscalationReason | str, locale: str | None = "en") -> str:
    """The player-facing message for an escalation: why, then that a person will reply here.

    ``locale`` is any tag (``"es-MX"``, ``"zh_Hant"``); a language without templates, or a
    tag that is not one, gets English. No message promises a refund, an unban or an
    outcome, and the reply time is what is usual, not a guarantee.
    """
    lines = NEXT_STEPS["en"]
    with contextlib.suppress(InvalidInputError):
        lines = NEXT_STEPS.get(normalise_locale(locale or "en"), lines)
    separator = "" if lines is NEXT_STEPS["zh"] else " "
    return lines[_reason(reason)] + separator + lines[_HANDOFF]
