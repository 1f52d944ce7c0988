"""Prompt-injection signals in player text and in retrieved lore.

A signal does not by itself block a turn: ordinary players say "forget it", "you are
now my friend" or "what were you told about the caravan?". Signals are *scored*; the
turn deflects in character at a high score, and lore carrying signals is still given to
the model only as fenced data. The patterns cover the common families in English,
Spanish, Chinese, Hindi, French, German and Russian.

Strong cues (one is enough to be suspicious):

* ``override`` — ignore / forget / disregard previous instructions or rules;
* ``reveal`` — show, print, repeat or translate the system prompt, the instructions,
  hidden notes, or "the text above";
* ``jailbreak`` — developer mode, DAN, jailbreak;
* ``fake_role`` — chat-template or fence markup in the text: ``<|im_start|>``,
  ``[SYSTEM]``, ``### Instruction``, ``</s>``, ``</note>``, ``"role": "system"``;
* ``tool_call`` — engine action names or action JSON: "call open_vault", ``"args": {``;
* ``encoded`` — base64 / hex payloads that decode to a suspicious text.

Weak cues (a role swap needs one more; the others need two):

* ``role_swap`` (0.4) — you are now X, act as, pretend, from now on...;
* ``probe`` — asks what the NPC was told, or for its rules or instructions;
* ``verbatim`` — word for word, verbatim, backwards, one word per line;
* ``unrestricted`` — without rules, no restrictions, unfiltered;
* ``meta`` — talk of prompts, JSON schemas, tags, tokens; "new rules:";
* ``out_of_world`` (0.2) — talk about being an AI or language model.

Each kind counts once; the score is the sum of the kinds found, at most 1.
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from dataclasses import dataclass

__all__ = ["InjectionReport", "scan_injection"]

# Verbs that ask for a text to be copied or transformed, and (weaker) to be shown or told.
_COPY_VERBS = (
    r"reveal|print|repeat|output|display|recite|quote|echo|dump|copy|paste|reproduce|leak|disclose"
    r"|summari[sz]e|paraphrase|translate|spell out|write (out|down)"
)
_COPY_EN = rf"({_COPY_VERBS})"
_SHOW_EN = rf"({_COPY_VERBS}|show|tell me|give me|read (back|out))"
# "The text above" as a whole ("repeat the text above."), not a thing above ("the words above the door").
_ABOVE_EN = (
    r"\b(text|words|lines|content|messages?|everything|conversation|prompt)\s+(above|preceding|before this)"
    r"(?=\s*([.,;:!?\"'»)\]]|$)|\s+(starting|beginning|verbatim|word for word|exactly|including|in full|then)\b)"
)

_PATTERNS: dict[str, tuple[str, ...]] = {
    "override": (
        r"\b(ignore|disregard|forget|override|bypass)\b.{0,40}\b(previous|prior|above|all|your|earlier|system)\b.{0,30}"
        r"\b(instructions?|rules?|prompts?|directives?|guidelines?|orders?)\b",
        r"\b(new|updated|revised|real) (instructions?|directives?|system prompt)\b\s*:",
        r"(ignora|olvida|omite)\w*\b.{0,40}\b(tod[oa]s|tus|sus|anteriores|previas|sistema)\b.{0,30}"
        r"\b(instrucciones|reglas|indicaciones)",
        r"(ignore[rz]?|oublie[rz]?)\b.{0,40}\b(toutes|tous|tes|vos|précédentes|antérieures|système)\b.{0,30}"
        r"\b(instructions|règles|consignes)",
        r"(ignoriere|vergiss)\w*\b.{0,40}\b(alle|deine|ihre|vorherigen|bisherigen|obigen|system)\w*\b.{0,30}"
        r"\b(anweisungen|regeln)",
        r"(ignore|esqueça|esqueca)\w*\b.{0,40}\b(instruções|instrucoes|regras)",
        r"(игнорируй|забудь)\w*.{0,40}(все|свои|твои|предыдущ|системн).{0,30}(инструкци|правил)",
        r"(忽略|无视|忘记|忘掉|忽視|無視).{0,12}(指令|指示|规则|規則|提示|设定|設定)",
        r"(निर्देश|नियम).{0,30}(भूल|अनदेखा|नज़रअंदाज़|नजरअंदाज)",
        r"(भूल|अनदेखा|नज़रअंदाज़|नजरअंदाज).{0,30}(निर्देश|नियम)",
    ),
    "reveal": (
        rf"\b{_SHOW_EN}\b.{{0,40}}\b(system (prompt|message)|(initial|original|hidden|pre-?) ?prompt|your prompt"
        r"|the prompt|instructions you (were|have been) given|context window|developer message)\b",
        rf"\b{_COPY_EN}\b.{{0,30}}\b(your|all your|every one of your) (own |hidden |secret |system |initial "
        r"|original |internal |real |full |exact )?(instructions?|rules|guidelines|directives|prompt)\b",
        rf"\b{_SHOW_EN}\b.{{0,30}}\b(your|all|every) (hidden|system|initial|internal) "
        r"(notes?|rules|text|instructions?|messages?)\b",
        rf"\b{_SHOW_EN}\b.{{0,40}}{_ABOVE_EN}",
        rf"\b{_SHOW_EN}\b\s+(all of |everything in )?the above\b",
        r"\b(list|enumerate|dump|reveal|disclose|divulge)\b.{0,30}\b(every|all|each)\b.{0,20}"
        r"\b(secrets?|passwords?|hidden names?|canar(y|ies)|door-?words?)\b",
        r"\b(muestra|revela|repite|imprime|traduce|copia|escribe)\b.{0,40}"
        r"\b(prompt|tus instrucciones|instrucciones del sistema|reglas ocultas)",
        r"\bdime\b.{0,40}\b(prompt|instrucciones del sistema|reglas ocultas)",
        r"\b(repite|muestra|imprime|copia)\b.{0,40}\b(texto|palabras|contenido|mensaje)\s+(de arriba|anterior)\b"
        r"(?!\s+(de|a|al)\b)",
        r"\b(montre|affiche|révèle|revele|répète|repete|traduis|recopie|imprime)\w*\b.{0,40}"
        r"\b(prompt|tes instructions|vos instructions|tes consignes|vos consignes|tes règles|vos règles)",
        r"\b(répète|repete|répétez|affiche|montre|recopie|imprime)\w*\b.{0,40}\b(texte|mots|lignes|contenu|tout|message)"
        r"\s+(ci-dessus|précédent|au-dessus)(?!\s+(de|du|des|la|le|les)\b)",
        r"\b(zeig|gib|nenne|verrate|wiederhole|drucke|übersetze|kopiere)\w*\b.{0,40}"
        r"(systemanweisung|systemprompt|system-prompt|den prompt|obigen text)",
        r"\b(wiederhole|drucke|übersetze|kopiere)\w*\b.{0,40}\bdeine (anweisungen|regeln)",
        r"(покажи|выведи|повтори|раскрой|напиши|скажи|назови|переведи|перечисли)\w*.{0,40}"
        r"(промпт|системн\w* (сообщени|инструкци|промпт)|текст выше)",
        r"(покажи|выведи|повтори|переведи|перечисли)\w*.{0,40}(свои|твои) (инструкци|правила)",
        r"(显示|告诉我|输出|重复|泄露|說出|告訴我|打印|复述|複述|翻译|翻譯).{0,12}"
        r"(系统提示|提示词|系统指令|指令|設定|提示詞|上面的(文字|内容|话|文本))",
        r"你的(指令|规则|規則|提示词|提示詞|设定|設定|指示).{0,12}(翻译|翻譯|显示|输出|重复|列出)",
        r"(सिस्टम प्रॉम्प्ट|निर्देश).{0,30}(बताओ|दिखाओ|दोहराओ|अनुवाद)",
        r"(अपने|तुम्हारे|आपके) (निर्देश|नियम).{0,30}(अनुवाद|दोहराओ)",
    ),
    "jailbreak": (
        r"\b(developer|god|debug|admin|unrestricted|sudo) mode\b",
        r"\b(jailbreak|jailbroken|do anything now)\b",
        r"(?-i:\bDAN\b)",  # the "Do Anything Now" persona; a player called Dan is not an attack
        r"(开发者模式|开发模式|越狱|entwicklermodus|modo (de )?desarrollador|mode (de )?développeur"
        r"|режим разработчика|डेवलपर मोड)",
    ),
    "fake_role": (
        r"<\|\s*[a-z_]+\s*\|>",  # <|im_start|>, <|system|>, <|eot_id|>
        r"</?\s*(system|sys|developer|assistant|instructions?|note|s)\b[^>\n]{0,80}>",
        r"<<\s*/?\s*sys\s*>>|\[/?\s*(inst|sys|system|developer|admin|assistant)\s*\]",
        r"#{2,}\s*(system|developer|instructions?|assistant|user|response|end of (conversation|prompt|context)"
        r"|new (rules|instructions))\b",
        r"(?m)^\s*(?-i:SYSTEM|DEVELOPER|ADMIN|ASSISTANT)( (?-i:OVERRIDE|MESSAGE|PROMPT|NOTE))?\s*:",
        r"(?-i:\bSYSTEM OVERRIDE\b)|\bend of (conversation|system prompt|instructions)\b",
        r"\"(role|content)\"\s*:\s*\"",
    ),
    "tool_call": (
        r"\b(call|use|invoke|run|execute|trigger|usa|utiliza|ejecuta|llama a|appelle|utilise|benutze|rufe|вызови"
        r"|используй)\s+(the\s+)?[a-z]+(_[a-z0-9]+)+\b",
        r"\"(name|args|arguments|actions|function|tool_calls?)\"\s*:",
    ),
    "role_swap": (
        r"\byou are (now|no longer)\b",
        r"\b(act|behave|respond|answer) as (if you were |an? )?(ai|assistant|chatgpt|gpt|developer|admin|system)\b",
        r"\b(pretend|imagine) (to be|you are|you're)\b",
        r"\bfrom now on\b.{0,40}\b(you|your)\b",
        r"(ahora eres|a partir de ahora|de ahora en adelante|finge que eres|finge ser)",
        r"(tu es maintenant|désormais,? tu|à partir de maintenant|fais semblant d'être)",
        r"\b(du bist (jetzt|nun|ab sofort)|ab (jetzt|sofort) bist du|von nun an)\b",
        r"(теперь ты|ты теперь|отныне|с этого момента|притворись)",
        r"(从现在开始|從現在開始|从今以后|你现在是|扮演|假装你是)",
        r"(अब तुम|अब आप).{0,20}(हो|हैं)|अब से",
    ),
    "probe": (
        r"\bwhat (were|have) you (been )?told\b",
        r"\b(instructions?|rules) (you were|you have been|you've been) (given|told)\b",
        r"\byou were (shown|given)\b",
        r"\b(what are|what were|tell me|show( me)?|write|recite|list|say|spell|read|share)\b.{0,20}\byour (own |hidden |secret "
        r"|real |exact |full )?(rules|instructions|guidelines|directives)\b",
        r"(qué te (dijeron|han dicho)|tus instrucciones|tus reglas)",
        r"(qu'est-ce qu'on t'a dit|que t'a-t-on dit|tes instructions|tes consignes|tes règles)",
        r"\b(was (hat man|wurde) dir gesagt|deine anweisungen|deine regeln)\b",
        r"(что тебе сказали|твои инструкци|свои инструкци|твои правила)",
        r"(你被告知|你的指令|你的规则|你的規則|你的设定|你的設定)",
        r"(तुम्हें क्या बताया गया|तुम्हारे निर्देश|अपने निर्देश)",
    ),
    "verbatim": (
        r"\b(word for word|word-for-word|verbatim|letter by letter|one word per line|backwards|in reverse order"
        r"|starting with the words?)\b",
        r"(palabra por palabra|al pie de la letra|textualmente|mot pour mot|mot à mot|textuellement"
        r"|en commençant par|wort für wort|wörtlich|слово в слово|дословно|शब्द-दर-शब्द|शब्दशः|一字不差|逐字|原封不动)",
    ),
    "unrestricted": (
        r"\b(unrestricted|unfiltered|uncensored|without (any )?(rules|restrictions|limits|limitations|filters)"
        r"|no (restrictions|limits|filters|censorship|rules))\b",
        r"(sin (reglas|restricciones|límites|limites|filtros)|sans (règles|restrictions|limites|filtres?)"
        r"|ohne (regeln|einschränkungen|grenzen|filter)|без (правил|ограничений|фильтров))",
        r"(没有(任何)?(限制|规则)|无限制|不受限制|無限制|बिना (किसी )?(नियम|प्रतिबंध|सीमा))",
    ),
    "meta": (
        r"\b(json( schema)?|schema you|note tags?|xml tags?|system prompt|system message|context window|token limit"
        r"|base64|rot13)\b",
        r"\bnew rules?\s*:|\byour (only|new|real) (rule|task|job|purpose) (now )?is\b",
        r"(prompt del sistema|prompt système|systemanweisung|системн\w* промпт|系统提示|सिस्टम प्रॉम्प्ट)",
    ),
    "out_of_world": (
        r"\b(language model|large language model|llm|chatgpt|openai|anthropic|as an ai)\b",
        r"(?-i:\b(AI|IA)\b)|\bnpcs?\b",
        r"(语言模型|人工智能|modelo de lenguaje|AI\s*助手|AI\s*सहायक)",
    ),
}
_COMPILED = {kind: [re.compile(p, re.IGNORECASE | re.DOTALL) for p in ps] for kind, ps in _PATTERNS.items()}
_B64 = re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{16,}={0,2}(?![A-Za-z0-9+/=])")
_HEX = re.compile(r"\b(?:[0-9a-fA-F]{2}){12,}\b")
_WEIGHTS = {
    "override": 0.6,
    "reveal": 0.6,
    "jailbreak": 0.6,
    "fake_role": 0.6,
    "tool_call": 0.6,
    "encoded": 0.8,
    "role_swap": 0.4,
    "probe": 0.3,
    "verbatim": 0.3,
    "unrestricted": 0.3,
    "meta": 0.3,
    "out_of_world": 0.2,
}
_THRESHOLD = 0.6


@dataclass(frozen=True, slots=True)
class InjectionReport:
    signals: tuple[str, ...]
    score: float  # 0..1

    @property
    def suspicious(self) -> bool:
        return self.score >= _THRESHOLD


def _kinds(text: str) -> set[str]:
    norm = unicodedata.normalize("NFKC", text)
    return {kind for kind, patterns in _COMPILED.items() if any(p.search(norm) for p in patterns)}


def _score(kinds: set[str]) -> float:
    return round(min(1.0, sum(_WEIGHTS[k] for k in kinds)), 3)


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
        if _score(_kinds(payload) - {"out_of_world"}) >= _THRESHOLD:
            kinds.add("encoded")
    return InjectionReport(tuple(sorted(kinds)), _score(kinds))
