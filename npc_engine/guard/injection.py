"""Prompt-injection signals in player text and in retrieved lore.

A signal does not by itself block a turn: ordinary players say "forget it" or "you are
now my friend". Signals are *scored*; the turn deflects in character at a high score,
and lore carrying signals is still given to the model only as fenced data. The patterns
cover the common families in several languages:

* ``override`` — ignore / forget / disregard previous instructions or rules;
* ``reveal`` — show, print or repeat the system prompt, instructions, hidden notes;
* ``role_swap`` — you are now X, act as, pretend, from now on you...;
* ``jailbreak`` — developer mode, DAN, jailbreak;
* ``out_of_world`` — talk about being an AI or language model;
* ``encoded`` — base64 / hex payloads that decode to any of the above.
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from dataclasses import dataclass

__all__ = ["InjectionReport", "scan_injection"]

_PATTERNS: dict[str, tuple[str, ...]] = {
    "override": (
        r"\b(ignore|disregard|forget|override|bypass)\b.{0,40}\b(previous|prior|above|all|your|earlier|system)\b.{0,30}"
        r"\b(instructions?|rules?|prompts?|directives?|guidelines?|orders?)\b",
        r"\bnew (instructions?|rules)\b\s*:",
        r"(ignora|olvida|omite)\w*\b.{0,40}\b(instrucciones|reglas|indicaciones)",
        r"(ignore[rz]?|oublie[rz]?)\b.{0,40}\b(instructions|règles|consignes)",
        r"(ignoriere|vergiss)\w*\b.{0,40}\b(anweisungen|regeln)",
        r"(ignore|esqueça|esqueca)\w*\b.{0,40}\b(instruções|instrucoes|regras)",
        r"(игнорируй|забудь)\w*.{0,40}(инструкци|правил)",
        r"(忽略|无视|忘记|忘掉|忽視|無視).{0,12}(指令|指示|规则|規則|提示|设定|設定)",
        r"(निर्देश|नियम).{0,30}(भूल|अनदेखा|नज़रअंदाज़|नजरअंदाज)",
        r"(भूल|अनदेखा|नज़रअंदाज़|नजरअंदाज).{0,30}(निर्देश|नियम)",
    ),
    "reveal": (
        r"\b(reveal|show|print|repeat|output|display|tell me|give me|what (is|are))\b.{0,40}"
        r"\b(system prompt|prompt|instructions|hidden (notes|rules|text)|initial (prompt|message)|context window)\b",
        r"\b(reveal|disclose|divulge)\b.{0,30}\b(every|all|any|your)\b.{0,20}\b(secrets?|passwords?|hidden names?)\b",
        r"\b(muestra|revela|repite|dime)\b.{0,40}\b(prompt|instrucciones|reglas ocultas)",
        r"(显示|告诉我|输出|重复|泄露|說出|告訴我).{0,12}(系统提示|提示词|系统指令|指令|設定|提示詞)",
        r"(सिस्टम प्रॉम्प्ट|निर्देश).{0,30}(बताओ|दिखाओ|दोहराओ)",
    ),
    "role_swap": (
        r"\byou are (now|no longer)\b",
        r"\b(act|behave|respond) as (if you were |an? )?(ai|assistant|chatgpt|gpt|developer|admin|system)\b",
        r"\bpretend (to be|you are)\b.{0,40}\b(ai|assistant|developer|admin|unrestricted|without rules)\b",
        r"\bfrom now on\b.{0,40}\b(you|your)\b",
        r"(ahora eres|a partir de ahora eres|finge que eres)",
        r"(从现在开始你是|你现在是|扮演|假装你是)",
        r"(अब तुम|अब आप).{0,20}(हो|हैं)",
    ),
    "jailbreak": (
        r"\b(developer|god|debug|admin|unrestricted) mode\b",
        r"\b(jailbreak|jailbroken)\b",
        r"(?-i:\bDAN\b)",  # the "Do Anything Now" persona; a player called Dan is not an attack
        r"(开发者模式|越狱)",
    ),
    "out_of_world": (
        r"\b(language model|large language model|llm|chatgpt|openai|anthropic|as an ai)\b",
        r"(语言模型|人工智能|modelo de lenguaje)",
    ),
}
_COMPILED = {kind: [re.compile(p, re.IGNORECASE | re.DOTALL) for p in ps] for kind, ps in _PATTERNS.items()}
_B64 = re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{16,}={0,2}(?![A-Za-z0-9+/=])")
_HEX = re.compile(r"\b(?:[0-9a-fA-F]{2}){12,}\b")
_WEIGHTS = {
    "override": 0.6,
    "reveal": 0.6,
    "jailbreak": 0.6,
    "role_swap": 0.4,
    "out_of_world": 0.2,
    "encoded": 0.8,
}


@dataclass(frozen=True, slots=True)
class InjectionReport:
    signals: tuple[str, ...]
    score: float  # 0..1

    @property
    def suspicious(self) -> bool:
        return self.score >= 0.6


def _kinds(text: str) -> set[str]:
    norm = unicodedata.normalize("NFKC", text)
    return {kind for kind, patterns in _COMPILED.items() if any(p.search(norm) for p in patterns)}


def _decoded(text: str) -> list[str]:
    out: list[str] = []
    for match in _B64.findall(text):
        try:
            decoded = base64.b64decode(match + "=" * (-len(match) % 4), validate=False).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            continue
        if decoded.isprintable() or "\n" in decoded:
            out.append(decoded)
    for match in _HEX.findall(text):
        try:
            out.append(bytes.fromhex(match).decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            continue
    return out


def scan_injection(text: str) -> InjectionReport:
    """Score ``text`` for prompt-injection signals (deterministic, fast, no model)."""
    kinds = _kinds(text)
    for payload in _decoded(text):
        if _kinds(payload) - {"out_of_world"}:
            kinds.add("encoded")
    score = min(1.0, sum(_WEIGHTS[k] for k in kinds))
    return InjectionReport(tuple(sorted(kinds)), round(score, 3))
