"""The pattern tables behind :func:`npc_engine.memory.facts.extract_facts`.

Data, not logic: the per-language rules (:data:`RULES`, specific first), the relation and
event-verb words translated to English (:data:`RELATIONS`, :data:`VERBS`), the words that
are never names or that negate a rule, and the sentence, clause and question splitters.
To teach the extractor a phrasing, add a rule here and a case to ``tests/memory/test_facts.py``.
"""

from __future__ import annotations

import re

__all__ = [
    "CJK_NAME_STOP",
    "CJK_NEG",
    "CLAUSE",
    "LANGUAGES",
    "NAME_STOP",
    "NEGATORS",
    "QUESTION_ANYWHERE",
    "QUESTION_START",
    "RELATIONS",
    "RULES",
    "SENTENCE",
    "VERBS",
]

_OCC_ES = (r"cazador[a]?|herrer[oa]|mercader|comerciante|soldado|guerrer[oa]|mag[oa]|ladr[oó]n|ladrona|"
           r"pescador[a]?|granjer[oa]|miner[oa]|m[eé]dic[oa]|sacerdote|sacerdotisa|bardo|caballero|"
           r"marinero|aventurer[oa]|viajer[oa]|curander[oa]|alquimista|arquer[oa]|cociner[oa]|"
           r"carpinter[oa]|panader[oa]|guardia|explorador[a]?|estudiante|maestr[oa]")  # fmt: skip
_OCC_ZH = ("猎人|獵人|铁匠|鐵匠|商人|士兵|战士|戰士|法师|法師|小偷|渔夫|漁夫|农民|農民|矿工|礦工|医生|醫生|牧师|牧師|"
           "吟游诗人|骑士|騎士|水手|冒险者|冒險者|旅行者|学者|學者|厨师|廚師|木匠|守卫|守衛|弓箭手|药剂师|炼金术士|学生|老师")  # fmt: skip
_OCC_HI = ("शिकारी|लोहार|व्यापारी|सैनिक|सिपाही|योद्धा|जादूगर|चोर|मछुआरा|किसान|खनिक|वैद्य|डॉक्टर|पुजारी|कवि|"
           "नाविक|यात्री|विद्वान|रसोइया|बढ़ई|पहरेदार|तीरंदाज़|छात्र|शिक्षक")  # fmt: skip
_REL_EN = "brother|sister|father|mother|son|daughter|wife|husband|friend|uncle|aunt|cousin|grandfather|grandmother|dad|mum|mom|parents|family"
_REL_ES = r"hermano|hermana|padre|madre|hij[oa]|espos[oa]|mujer|marido|amig[oa]|t[ií][oa]|abuel[oa]|prim[oa]|pap[aá]|mam[aá]|familia|padres"
_REL_ZH = "哥哥|弟弟|姐姐|妹妹|兄弟|姐妹|父亲|父親|爸爸|母亲|母親|妈妈|媽媽|儿子|兒子|女儿|女兒|妻子|老婆|丈夫|老公|朋友|叔叔|阿姨|爷爷|奶奶|家人"
_REL_HI = "भाई|बहन|पिता|पिताजी|मां|माता|बेटा|बेटी|पत्नी|पति|दोस्त|मित्र|चाचा|चाची|दादा|दादी|परिवार|bhai|behen|bahan|pita|papa|maa|beta|beti|dost|patni|pati"
_RELATION_WORDS = """
brother: hermano 兄弟 भाई bhai | sister: hermana 姐妹 बहन behen bahan | father: padre papa 父亲 父親 爸爸 पिता पिताजी pita |
mother: madre mama 母亲 母親 妈妈 媽媽 मां माता maa | son: hijo 儿子 兒子 बेटा beta | daughter: hija 女儿 女兒 बेटी beti |
wife: esposa mujer 妻子 老婆 पत्नी patni | husband: esposo marido 丈夫 老公 पति pati | friend: amigo amiga 朋友 दोस्त मित्र dost |
uncle: tio 叔叔 चाचा | aunt: tia 阿姨 चाची | grandfather: abuelo 爷爷 दादा | grandmother: abuela 奶奶 दादी | cousin: primo prima |
family: familia 家人 परिवार | parents: padres | older brother: 哥哥 | younger brother: 弟弟 | older sister: 姐姐 | younger sister: 妹妹
"""
_VERB_WORDS = """
killed: mate 杀了 杀死了 | found: encontre 找到了 | defeated: derrote 打败了 击败了 | rescued: rescate 救了 | saved: salve |
lost: perdi 丢了 | stole: robe stolen 偷了 | escaped: escape | visited: visite | met: conoci 遇到了 | discovered: 发现了 |
saw: seen | has seen: 见过 | slew: slain
"""


def _table(spec: str) -> dict[str, str]:
    """``"english: word word | english: word"`` → ``{word: english}``."""
    return {
        word: english.strip()
        for group in spec.split("|")
        for english, words in [group.split(":")]
        for word in words.split()
    }


RELATIONS, VERBS = _table(_RELATION_WORDS), _table(_VERB_WORDS)
_EN_EVENT = ("killed|slew|slain|defeated|found|discovered|lost|rescued|saved|stole|stolen|escaped|fought|won|"
             "visited|met|saw|seen|finished|completed|bought|sold|built")  # fmt: skip
_HU = r"(?:हूं|हु|हैं|है)"  # after chandrabindu → anusvara
_HOON = r"(?:hoon|hun|hu|hoo)"
_B = r"(?<!\S)"  # a Devanagari word start (\b does not work with its vowel signs)

# (language, kind, pattern, template). Templates use {x} (the captured span), {rel} and {v}
# (a relation word or event verb, translated to English). Name rules use kind "name:MODE".
RULES: tuple[tuple[str, str, str, str], ...] = (
    ("en", "name:explicit", r"\bmy name(?:'s| is)\s+(?P<x>.+)", "The player's name is {x}."),
    ("en", "name:capital", r"\b(?:you can |just |they |people )?call me\s+(?P<x>.+)", "The player's name is {x}."),
    ("en", "name:implicit", r"\bi(?:'m| am)\s+(?P<x>.+)", "The player's name is {x}."),
    ("en", "origin", r"\bi(?:'m| am)\s+(?:originally\s+)?from\s+(?P<x>.+)", "The player is from {x}."),
    ("en", "origin", r"\bi\s+(?:come|hail)\s+from\s+(?P<x>.+)", "The player is from {x}."),
    ("en", "origin", r"\bi\s+was\s+born\s+in\s+(?P<x>.+)", "The player is from {x}."),
    ("en", "occupation", r"\bi(?:'m| am)\s+(?P<x>an?\s+(?!(?:bit|little|lot|big fan|fan|friend|very|really|stranger)\b).+)", "The player works as {x}."),
    ("en", "occupation", r"\bi\s+work\s+as\s+(?P<x>.+)", "The player works as {x}."),
    ("en", "dislike", r"\bi\s+(?:really\s+)?(?:do\s+not|did\s+not|never|no\s+longer)\s+(?:really\s+)?(?:like|love|enjoy|liked|loved|enjoyed)\s+(?P<x>.+)", "The player dislikes {x}."),
    ("en", "dislike", r"\bi\s+(?:really\s+|also\s+|truly\s+)?(?:hate|dislike|despise|loathe|detest|cannot\s+stand)\s+(?P<x>.+)", "The player dislikes {x}."),
    ("en", "preference", r"\bi\s+(?:really\s+|also\s+|truly\s+|just\s+|do\s+)?(?:like|love|enjoy|adore)\s+(?P<x>.+)", "The player likes {x}."),
    ("en", "goal", r"\bi(?:'m| am)\s+(?:looking|searching|hunting)\s+for\s+(?P<x>.+)", "The player is looking for {x}."),
    ("en", "goal", r"\bi(?:'m| am)\s+(?:seeking|trying\s+to\s+find)\s+(?P<x>.+)", "The player is looking for {x}."),
    ("en", "goal", r"\bi(?:'d| would)\s+(?:really\s+)?like\s+to\s+(?P<x>.+)", "The player wants to {x}."),
    ("en", "goal", r"\bi\s+(?:really\s+)?(?:want|wish|mean|intend|plan|hope)\s+to\s+(?P<x>.+)", "The player wants to {x}."),
    ("en", "goal", r"\bi\s+(?:really\s+)?need\s+to\s+(?P<x>.+)", "The player needs to {x}."),
    ("en", "goal", r"\bi\s+(?:really\s+)?(?:want|need)\s+(?!to\b)(?P<x>.+)", "The player wants {x}."),
    ("en", "relation", rf"\bmy\s+(?P<rel>{_REL_EN})\b(?!')\s*(?P<x>.*)", "The player's {rel} {x}."),
    ("en", "promise", r"\bi\s+(?:promise|swear|vow)(?:\s+(?:to\s+)?you)?\s+(?:that\s+)?i(?:'ll|\s+will|\s+shall)\s+(?P<x>.+)", "The player promised to {x}."),
    ("en", "promise", r"\bi\s+(?:promise|swear|vow)(?:\s+you)?\s+to\s+(?P<x>.+)", "The player promised to {x}."),
    ("en", "promise", r"\bi\s+give\s+you\s+my\s+word(?:\s+that)?\s+i(?:'ll|\s+will)\s+(?P<x>.+)", "The player promised to {x}."),
    ("en", "promise", r"\bi\s+(?:promise|swear|vow)\s+(?P<x>.+)", "The player promised: {x}."),
    ("en", "event", rf"\bi(?:'ve|\s+have|\s+had)?\s+(?:just\s+|already\s+|once\s+|finally\s+)?(?P<v>{_EN_EVENT})\s+(?P<x>.+)", "The player {v} {x}."),
    ("es", "name:explicit", r"\bme\s+llamo\s+(?P<x>.+)", "The player's name is {x}."),
    ("es", "name:explicit", r"\bmi\s+nombre\s+es\s+(?P<x>.+)", "The player's name is {x}."),
    ("es", "name:capital", r"\bll[aá]mame\s+(?P<x>.+)", "The player's name is {x}."),
    ("es", "name:implicit", r"\bsoy\s+(?P<x>.+)", "The player's name is {x}."),
    ("es", "origin", r"\bsoy\s+(?:originalmente\s+)?de\s+(?P<x>.+)", "The player is from {x}."),
    ("es", "origin", r"\b(?:vengo|procedo)\s+de\s+(?P<x>.+)", "The player is from {x}."),
    ("es", "origin", r"\bnac[ií]\s+en\s+(?P<x>.+)", "The player is from {x}."),
    ("es", "occupation", rf"\bsoy\s+(?:un\s+|una\s+)?(?P<x>(?:{_OCC_ES}))\b", "The player works as {x}."),
    ("es", "occupation", r"\bsoy\s+(?:un|una)\s+(?!(?:poco|tanto)\b)(?P<x>.+)", "The player works as {x}."),
    ("es", "occupation", r"\btrabajo\s+(?:como|de)\s+(?P<x>.+)", "The player works as {x}."),
    ("es", "dislike", r"\bno\s+me\s+(?:gusta|gustan|gust[oó]|encanta|encantan)(?!\w)\s+(?P<x>.+)", "The player dislikes {x}."),
    ("es", "dislike", r"(?:^|\byo\s+)(?:odio|detesto|aborrezco)\s+(?P<x>.+)", "The player dislikes {x}."),
    ("es", "dislike", r"\bno\s+(?:soporto|aguanto)\s+(?P<x>.+)", "The player dislikes {x}."),
    ("es", "preference", r"\bme\s+(?:gusta|gustan|encanta|encantan)(?!\w)\s+(?:mucho\s+)?(?P<x>.+)", "The player likes {x}."),
    ("es", "preference", r"(?:^|\byo\s+)(?:amo|adoro|disfruto(?:\s+de)?)\s+(?P<x>.+)", "The player likes {x}."),
    ("es", "goal", r"(?:^|\byo\s+|\bahora\s+)busco\s+(?P<x>.+)", "The player is looking for {x}."),
    ("es", "goal", r"\bestoy\s+buscando\s+(?P<x>.+)", "The player is looking for {x}."),
    ("es", "goal", r"\bme\s+gustar[ií]a\s+(?P<x>.+)", "The player wants {x}."),
    ("es", "goal", r"(?<!te )(?<!lo )(?<!la )(?<!le )\bquiero\s+(?P<x>.+)", "The player wants {x}."),
    ("es", "goal", r"\bnecesito\s+(?P<x>.+)", "The player needs {x}."),
    ("es", "relation", rf"\bmis?\s+(?P<rel>{_REL_ES})\b\s*(?P<x>.*)", "The player's {rel}: {x}."),
    ("es", "promise", r"\b(?:te\s+)?(?:prometo|juro)(?:\s+que)?\s+(?P<x>.+)", "The player promised: {x}."),
    ("es", "event", r"\b(?P<v>mat[eé]|encontr[eé]|derrot[eé]|rescat[eé]|salv[eé]|perd[ií]|rob[eé]|escap[eé]|visit[eé]|conoc[ií])\s+(?P<x>.+)", "The player {v} {x}."),
    ("zh", "name:explicit", r"我(?:的名字|名字)(?:是|叫)(?P<x>.+)", "The player's name is {x}."),
    ("zh", "name:explicit", r"我叫(?P<x>.+)", "The player's name is {x}."),
    ("zh", "name:explicit", r"叫我(?P<x>.+)", "The player's name is {x}."),
    ("zh", "name:implicit", r"我是(?P<x>[A-Za-z].*)", "The player's name is {x}."),
    ("zh", "origin", r"我来自(?P<x>.+)", "The player is from {x}."),
    ("zh", "origin", r"我是?从(?!来)(?P<x>[^来]{1,20})来", "The player is from {x}."),
    ("zh", "origin", r"我(?:出生|生)(?:在|于)(?P<x>.+)", "The player is from {x}."),
    ("zh", "occupation", rf"我是(?:一个|一名|一位|个|名)?(?P<x>{_OCC_ZH})", "The player works as {x}."),
    ("zh", "occupation", r"我是(?:一个|一名|一位|个|名)(?P<x>.+)", "The player works as {x}."),
    ("zh", "occupation", r"我的(?:职业|工作)是(?P<x>.+)", "The player works as {x}."),
    ("zh", "dislike", r"我(?:很|也|真|并|一点也|最|非常)?(?:不太|不怎么|不|没那么)(?:喜欢|爱)(?P<x>.+)", "The player dislikes {x}."),
    ("zh", "dislike", r"我(?:很|也|真|最|非常)?(?:讨厌|討厭|憎恨|厌恶|受不了|恨)(?P<x>.+)", "The player dislikes {x}."),
    ("zh", "preference", r"我(?:很|非常|真|最|也|特别|超|挺)?(?:喜欢|喜歡|喜爱|热爱|爱)(?P<x>.+)", "The player likes {x}."),
    ("zh", "goal", r"我(?:正)?在(?:找|寻找|尋找)(?P<x>.+)", "The player is looking for {x}."),
    ("zh", "goal", r"我(?:想|要)?(?:寻找|尋找|找)(?P<x>.+)", "The player is looking for {x}."),
    ("zh", "goal", r"我(?:很|真|非常)?(?>想要|希望|打算|需要|要|想(?![你他她它这那是]))(?P<x>.+)", "The player wants {x}."),
    ("zh", "relation", rf"我的?(?P<rel>{_REL_ZH})(?P<x>.*)", "The player's {rel}: {x}."),
    ("zh", "promise", r"我(?:向你)?(?:保证|發誓|发誓|承诺|答应你|答应)(?P<x>.+)", "The player promised: {x}."),
    ("zh", "event", r"我(?:已经|刚刚|刚)?(?P<v>杀死了|杀了|打败了|击败了|找到了|发现了|救了|丢了|偷了|见过|遇到了)(?P<x>.+)", "The player {v} {x}."),
    ("hi", "name:explicit", rf"{_B}मेरा\s+नाम\s+(?P<x>.+?)(?:\s+{_HU})?$", "The player's name is {x}."),
    ("hi", "name:explicit", r"\bmera\s+naam\s+(?P<x>.+?)(?:\s+(?:hai|he))?$", "The player's name is {x}."),
    ("hi", "origin", rf"{_B}मैं\s+(?P<x>.+?)\s+से\s+(?:{_HU}|आया|आई)(?!\S)", "The player is from {x}."),
    ("hi", "origin", rf"\bmain\s+(?P<x>.+?)\s+se\s+(?:{_HOON}|aaya|aya|aayi|ayi)\b", "The player is from {x}."),
    ("hi", "occupation", rf"{_B}मैं\s+(?:एक\s+)?(?P<x>{_OCC_HI})\s+{_HU}", "The player works as {x}."),
    ("hi", "occupation", rf"{_B}मैं\s+एक\s+(?P<x>.+?)\s+{_HU}", "The player works as {x}."),
    ("hi", "occupation", rf"\bmain\s+ek\s+(?P<x>.+?)\s+{_HOON}\b", "The player works as {x}."),
    ("hi", "dislike", rf"{_B}मुझे\s+(?P<x>.+?)\s+(?:बिल्कुल\s+)?पसंद\s+(?:नहीं|नही)(?!\S)", "The player dislikes {x}."),
    ("hi", "dislike", rf"{_B}मुझे\s+(?P<x>.+?)\s+से\s+नफ़?रत\s+{_HU}", "The player dislikes {x}."),
    ("hi", "dislike", r"\bmujhe\s+(?P<x>.+?)\s+(?:bilkul\s+)?pasand\s+(?:nahi|nahin|nhi)\b", "The player dislikes {x}."),
    ("hi", "dislike", r"\bmujhe\s+(?P<x>.+?)\s+se\s+nafrat\s+(?:hai|he)\b", "The player dislikes {x}."),
    ("hi", "preference", rf"{_B}मुझे\s+(?P<x>.+?)\s+(?:बहुत\s+)?(?:पसंद|अच्छा\s+लगता|अच्छी\s+लगती|अच्छे\s+लगते)\s+{_HU}", "The player likes {x}."),
    ("hi", "preference", r"\bmujhe\s+(?P<x>.+?)\s+(?:bahut\s+)?(?:pasand|acc?ha\s+lagta|achha\s+lagta)\s+(?:hai|hain|he)\b", "The player likes {x}."),
    ("hi", "goal", rf"{_B}मैं\s+(?P<x>.+?)\s+(?:ढूंढ|खोज)\s+(?:रहा|रही)\s+{_HU}", "The player is looking for {x}."),
    ("hi", "goal", rf"\bmain\s+(?P<x>.+?)\s+(?:dhoondh|dhoond|dhund|khoj)\s+(?:raha|rahi)\s+{_HOON}\b", "The player is looking for {x}."),
    ("hi", "goal", rf"{_B}मैं\s+(?P<x>.+?)\s+(?:चाहता|चाहती)\s+{_HU}", "The player wants {x}."),
    ("hi", "goal", rf"{_B}मुझे\s+(?P<x>.+?)\s+चाहिए(?!\S)", "The player wants {x}."),
    ("hi", "goal", rf"\bmain\s+(?P<x>.+?)\s+(?:chahta|chahti)\s+{_HOON}\b", "The player wants {x}."),
    ("hi", "goal", r"\bmujhe\s+(?P<x>.+?)\s+chahiye\b", "The player wants {x}."),
    ("hi", "relation", rf"(?:{_B}(?:मेरा|मेरी|मेरे)|\b(?:mera|meri|mere))\s+(?P<rel>{_REL_HI})(?!\S)\s*(?P<x>.*)", "The player's {rel}: {x}."),
    ("hi", "promise", rf"{_B}मैं\s+(?:तुमसे\s+|आपसे\s+)?(?:वादा|वचन)\s+(?:करता|करती|देता|देती)\s+{_HU}\s*(?:कि\s+)?(?P<x>.+)", "The player promised: {x}."),
    ("hi", "promise", rf"{_B}मैं\s+(?P<x>.+?)\s+का\s+वादा\s+(?:करता|करती)\s+{_HU}", "The player promised: {x}."),
    ("hi", "promise", rf"\bmain\s+(?:vaada|vada|wada|waada)\s+(?:karta|karti)\s+{_HOON}\s*(?:ki\s+)?(?P<x>.+)", "The player promised: {x}."),
)  # fmt: skip
LANGUAGES = ("en", "es", "zh", "hi")

NAME_STOP = frozenset(re.findall(r"\S+", """
i a an the not no so very really just only also still here there back home fine ok okay good great well sorry
tired sure ready busy lost hungry thirsty happy sad angry afraid scared glad alone done hurt sick cold hot late
early new old going looking trying coming leaving waiting from in on at with your his her their my our this that
it what who serious kidding joking curious interested bored dead alive confused nobody someone somebody nothing
everything always never too quite pretty kind grateful thankful human free safe fair right wrong called named
listening certain lucky poor rich strong weak de un una el la los las muy tan yo tu su mi bueno buena malo mala
nuevo nueva feliz triste aqui nadie alguien nada cansado cansada listo lista
"""))  # fmt: skip
NEGATORS = frozenset({"not", "no", "never", "nunca", "jamas", "jamás", "tampoco", "nahi", "nahin", "nhi", "mat",
                      "नहीं", "नही", "मत", "न", "ना"})  # fmt: skip
CJK_NEG = frozenset("不没沒别別未")
CJK_NAME_STOP = frozenset("是来從从在住和的今我，,")
SENTENCE = re.compile(r"[^.!?。！？।॥…\n]+[.!?。！？।॥…]*")
CLAUSE = re.compile(
    r"[,;:，；：、()（）\[\]\"“”«»—–]"
    r"|\s+(?:but|because|although|though|whereas|pero|porque|aunque|lekin|kyunki|kyonki)\s+"
    r"|\s+(?:and|so|y|e|aur)\s+(?=(?:i|i'm|i've|i'd|i'll|my|yo|soy|estoy|vengo|busco|quiero|odio|necesito|tengo"
    r"|me|mi|mis|main|mujhe|mera|meri|mere)\b)"
    r"|\s+(?:लेकिन|किंतु|परंतु|क्योंकि)\s+|\s+और\s+(?=मैं|मुझे|मेरा|मेरी|मेरे)|但是|可是|因为|因為|而且|并且|所以",
    re.IGNORECASE,
)
QUESTION_START = re.compile(
    r"^\s*(?:(?:do|does|did|are|is|can|could|would|will|have|has|should|shall|may|am|were|was|what|where|who|why"
    r"|how|which)\s+(?:you|i|we|he|she|they|it|there|your|my|the|this|that)\b|qu[eé]\b|c[oó]mo\b|d[oó]nde\b"
    r"|cu[aá]ndo\b|qui[eé]n\b|cu[aá]l\b|por qu[eé]\b)",
    re.IGNORECASE,
)
QUESTION_ANYWHERE = re.compile(
    r"(?<!\S)क्या(?!\S)|\bkya\b|什么|怎么|為什麼|为什么|哪里|哪儿|谁|[吗嗎么呢]\s*$", re.IGNORECASE
)
