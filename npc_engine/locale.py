"""Which language a player wrote in, and locale tags reduced to a language code.

The engine replies in the turn's ``locale`` when the caller gives one, else in the
language of the player's message: :func:`detect_language` decides that, and
:func:`normalise_locale` turns a tag such as ``es-MX`` or ``zh_Hant`` into ``es`` / ``zh``.

Detection is deterministic, dependency-free and made for short chat lines:

1. **Script first.** Han without kana is ``zh`` (with kana ``ja``), Hangul ``ko``,
   Devanagari ``hi``, Cyrillic ``ru`` (``uk`` when Ukrainian-only letters appear),
   Arabic ``ar``, Thai ``th``, Greek ``el``, Hebrew ``he``. A CJK character counts as
   much as a Latin word, so "我想买 sword" is Chinese.
2. **Latin script** is scored per language (en, es, fr, de, pt, it, nl, and romanised
   Hindi cues such as "kya", "hai", "nahi"): function words and chat words, letters
   such as ñ, ß, ã, and word endings such as -ción, -ção, -zione, -ung.
3. **Weak evidence returns** ``default``: "ok", "lol", a bare name or a number say
   nothing about the language; "Hello" or "gracias" do.

``candidates`` (locale tags) restricts the answer: a language outside it is never
returned (the default is returned instead), which suits a support persona that speaks
only a few. py3langid was measured on the chat lines in ``tests/test_locale.py``: it was
not more accurate there (it missed romanised Hindi) and loads far slower, so no model
is bundled.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from npc_engine.errors import InvalidInputError

__all__ = ["LATIN_LANGUAGES", "detect_language", "normalise_locale"]

LATIN_LANGUAGES = ("en", "es", "fr", "de", "pt", "it", "nl", "hi")
"""Languages the Latin-script scorer knows (``hi``: romanised Hindi)."""

_LOCALE = re.compile(r"^([A-Za-z]{2,3})((?:[-_][A-Za-z0-9]{1,8})*)$")
_DEPRECATED = {"iw": "he", "in": "id", "ji": "yi", "jw": "jv", "mo": "ro"}

# (first, last) code points per script; checked in order
_SCRIPTS: tuple[tuple[str, tuple[tuple[int, int], ...]], ...] = (
    ("kana", ((0x3040, 0x30FF), (0x31F0, 0x31FF), (0xFF66, 0xFF9F))),
    ("han", ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0xF900, 0xFAFF), (0x20000, 0x2FA1F))),
    ("ko", ((0xAC00, 0xD7AF), (0x1100, 0x11FF), (0x3130, 0x318F))),
    ("hi", ((0x0900, 0x097F),)),
    ("cyrillic", ((0x0400, 0x04FF),)),
    ("ar", ((0x0600, 0x06FF), (0x0750, 0x077F))),
    ("th", ((0x0E00, 0x0E7F),)),
    ("el", ((0x0370, 0x03FF),)),
    ("he", ((0x0590, 0x05FF),)),
)
_SPACELESS = {"kana", "han", "th"}  # each character counts as a word
_UKRAINIAN_ONLY = set("їєґ")
_RUSSIAN_ONLY = set("ыэъё")

_TOKEN = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")


def _words(spec: str, weight: float) -> dict[str, float]:
    return dict.fromkeys(spec.split(), weight)


def _hints(spec: str) -> dict[str, dict[str, float]]:
    table: dict[str, dict[str, float]] = {}
    for entry in spec.split():
        key, _, weights = entry.rpartition(":")
        table[key] = {lang: float(w) for lang, _, w in (pair.partition("=") for pair in weights.split(","))}
    return table


# Function words (weight 1) and greetings / thanks / distinctive chat words (weight 2).
# A word listed for several languages scores for each, so shared words decide nothing.
_LEXICON: dict[str, dict[str, float]] = {
    "en": {
        **_words(
            "the a an and or but is are was were be been am i i'm im you your you're he she it it's we "
            "they me my our their them this that that's these those what what's where where's who why how "
            "when which can could would should will won't don't do does did not have has had of to in on "
            "at for with from about there here some any much many too very just need want know tell give "
            "find buy sell get please if so all more like going gonna wanna let let's see later way really "
            "work help any anything something nothing someone got can't i'll i've you'll"
            " would go come look think say said make take now today tomorrow again always never still only "
            "other else thing things people everyone ever every good bad new old right well nice great by "
            "up out into than then been being news whats wheres dont cant wont isnt doesnt didnt youre "
            "ive who's there's",
            1.0,
        ),
        **_words(
            "hello hey thanks thank goodbye bye sorry lol lmao idk pls plz thx btw omg wtf yes yeah nope the",
            2.0,
        ),
    },
    "es": {
        **_words(
            "el la los las un una unos unas y o pero es son está estás están esta estas estoy soy eres "
            "de del al en con por para que qué como cómo donde dónde cuando cuándo quien quién cual cuál "
            "yo tu tú él ella nosotros ellos me te se le lo mi mis su sus muy mucho más ya no sí hay "
            "tengo tienes tiene quiero necesito puedo puedes esto eso este ese aquí allí también algo "
            "nada todo bien pues entonces cuanto cuánto cuesta hacer hace voy vas va vamos puede sabes sé dime "
            "dame ahora ahí allá bueno mira nunca siempre otra otro cosa gente alguien nadie hoy mañana "
            "también tambien mismo comprar vender busco usted ustedes fue era ser tener estar todos hasta "
            "desde sobre sin entre q cerca muy algún alguna ningún cada poco antes después noche porque",
            1.0,
        ),
        **_words(
            "hola gracias adiós adios vale oye amigo estas buenas buenos dias días xq porfa jaja "
            "onda wey güey neta vosotros",
            2.0,
        ),
    },
    "fr": {
        **_words(
            "le la les un une des et ou mais est sont suis es être de du au aux en dans sur pour par avec "
            "que qui quoi où comment quand pourquoi je tu il elle nous vous ils elles me te se moi toi "
            "mon ma mes ton ta tes son sa ses ce cette ces pas ne plus très trop bien aussi oui non "
            "j'ai c'est il y a veux voudrais peux besoin combien avez avoir fait faire ça ca sais connais vais "
            "fais dit peut veut dois allez êtes était chez alors donc encore toujours jamais rien tout tous "
            "toute quelque quel quelle quels quelles leur notre votre vos nos ici là maintenant demain peu "
            "autre même avant après depuis vers sans sous chose gens trouve acheter vendre cherche vraiment",
            1.0,
        ),
        **_words(
            "bonjour salut merci bonsoir beaucoup voilà voila d'accord s'il plait plaît mdr ptdr stp svp "
            "jsp bcp aujourd'hui",
            2.0,
        ),
    },
    "de": {
        **_words(
            "der die das ein eine einen einem einer und oder aber ist sind bin bist war sein zu von mit "
            "für auf in im an am aus bei nach über wie was wo wer warum wann ich du er sie es wir ihr "
            "mich dich mir dir mein meine dein deine sein nicht kein keine ja nein auch sehr viel zu "
            "noch schon hier dort gibt habe hast hat haben kann kannst möchte brauche will den dem des sich "
            "man dann denn weil wenn dass als nur mal etwas nichts alles immer jetzt heute gut weiß weiss "
            "kennst kenne suche finde kaufen verkaufen geht gehen komm komme kommt sag sagen gib geben zum "
            "zur vom beim ins ihm ihn uns euch welche welcher welches dieser diese dieses wirklich",
            1.0,
        ),
        **_words(
            "hallo danke bitte tschüss tschüs guten morgen abend genau doch gerne vielleicht wieso", 2.0
        ),
    },
    "pt": {
        **_words(
            "o a os as um uma uns umas e ou mas é são está estou estão sou de do da dos das no na nos "
            "nas em com por para pra que quê como onde quando quem qual eu tu você vocês ele ela nós "
            "eles me te se lhe meu minha seu sua muito mais já não sim tem tenho quero preciso posso "
            "isso isto esse essa aqui ali também algo nada tudo bem então quanto custa sabe sei vou vai vamos "
            "faz fazer tá ta tô pode consegue agora hoje sempre nunca ainda coisa gente alguém ninguém "
            "mesmo outro outra aí lá fica comprar vender procuro meu minha dele dela pelo pela num numa "
            "ao aos às foi era ser ter estar q todo toda todos todas cada pouco depois antes noite perto "
            "porque",
            1.0,
        ),
        **_words(
            "olá ola obrigado obrigada tchau valeu você vocês não então até vc pq tbm blz kkk kkkk cadê "
            "amanhã beleza",
            2.0,
        ),
    },
    "it": {
        **_words(
            "il lo la i gli le un uno una e o ma è sono sei siamo di del della dei delle al alla in nel "
            "nella con per su da che chi come dove quando perché quale io tu lui lei noi voi loro mi ti "
            "si ci mio mia tuo tua suo sua molto più già non sì c'è ho hai ha abbiamo voglio vorrei posso "
            "questo questa quello qui anche qualcosa niente tutto bene allora quanto costa quali quale dal "
            "dalla dallo dai dagli dalle nel nei negli sul sulla della dello degli sai so fai fa va vai "
            "dove cosa ancora sempre mai nulla oggi domani adesso tutti altro troppo proprio può puoi devo "
            "deve essere avere fare bello bella grande trova trovo hanno sta stai sto qualcuno nessuno "
            "qualche ogni molti poco senza sopra sotto dopo prima vicino stasera me te",
            1.0,
        ),
        **_words(
            "ciao grazie prego buongiorno buonasera arrivederci perché dov'è mille cmq xké però ciò ecco",
            2.0,
        ),
    },
    "nl": {
        **_words(
            "de het een en of maar is zijn ben bent was van voor met op in aan uit bij naar over hoe wat "
            "waar wie waarom wanneer ik jij je hij zij wij we mij me mijn jouw niet geen ja nee ook heel "
            "veel nog al hier daar heb hebt heeft kan kun wil moet dit dat deze die er weet ken ga gaat gaan "
            "kom komt zeg zegt nu vandaag altijd nooit alles niets iets iemand zo dan als omdat jullie u uw "
            "onze ons hun zou zal wordt worden kopen verkopen zoek goed mooi leuk toch even eens wel",
            1.0,
        ),
        **_words("hallo dank bedankt doei alsjeblieft graag hoeveel kost goedemorgen", 2.0),
    },
    "hi": {
        **_words("ka ki ke ko se me ho par ye wo han to", 0.5),
        **_words(
            "kya hai hain nahi nahin nhi mera meri mere tera teri tum tumhara aap aapka kaise kaisa kaisi "
            "kyun kyu kyon accha acha achha bhai yaar mujhe tujhe kuch kuchh bahut bohot theek thik karo "
            "karna kar raha rahi rahe hoon hun mein batao chahiye chaiye paisa paise kitna kitne kitni kab "
            "kahan kaun haan lekin aur bhi toh abhi yahan wahan yeh woh kaam dost namaste shukriya "
            "dhanyavaad dhanyawad chalo ek sab jao aao dekho pata sabse acchi achhi achha wala wali wale hum "
            "humein apna apni unka iska uska tumhe tumhare tumhari paas koi kisi",
            2.0,
        ),
    },
}

# Hints, as "key:lang=weight,lang=weight": letters, word endings (longest first), letter runs
# inside a word, elided articles and pronouns ("l'épée", "dov'è"), English contractions.
_CHAR_HINTS = _hints(
    """ñ:es=1.5 ¿:es=2 ¡:es=2 ã:pt=1.5 õ:pt=1.5 ç:fr=0.5,pt=0.5 ß:de=2 ä:de=1 ö:de=1,nl=0.2 ü:de=1
    œ:fr=2 è:fr=0.5,it=0.5 à:fr=0.5,it=0.4,pt=0.3 ì:it=1 ò:it=1 ù:it=0.5,fr=0.5 ê:fr=0.7,pt=0.7
    â:fr=0.5,pt=0.5 ô:fr=0.5,pt=0.5 î:fr=1 û:fr=1 ë:fr=0.3,nl=0.5 ï:fr=0.5,nl=0.3 á:es=0.4,pt=0.4
    í:es=0.4,pt=0.4 ó:es=0.4,pt=0.4 ú:es=0.4,pt=0.3 é:es=0.3,fr=0.4,pt=0.3,it=0.1"""
)
_SUFFIX_HINTS = tuple(
    _hints(
        """ciones:es=1 zione:it=1.5 zioni:it=1.5 ungen:de=1 aient:fr=1 mente:es=0.4,it=0.4,pt=0.4
    ción:es=1 amos:es=0.4,pt=0.4 ções:pt=1.5 dade:pt=1 eiro:pt=1 eira:pt=1 inho:pt=1 inha:pt=1
    agem:pt=1 etto:it=0.5 etta:it=0.5 keit:de=1 heit:de=1 lich:de=0.7 chen:de=0.7 heid:nl=1
    lijk:nl=1 eaux:fr=1 aine:fr=0.5 ness:en=1 tion:en=0.4,fr=0.4 dad:es=1 ção:pt=1.5
    are:it=0.4,en=0.1 ere:it=0.4,en=0.1 ire:it=0.4,en=0.1 ung:de=1 tje:nl=1 eau:fr=1 eux:fr=1
    ais:fr=0.7 ait:fr=0.7 ons:fr=0.5 ing:en=0.7 ía:es=0.5,pt=0.3 tà:it=1 ez:fr=0.7 ed:en=0.4
    ly:en=0.5"""
    ).items()
)
_INFIX_HINTS = tuple(
    _hints(
        """sch:de=0.7 tz:de=0.5 pf:de=0.5 ei:de=0.2,nl=0.2 ij:nl=1 nh:pt=0.7 lh:pt=0.7 gli:it=0.5
    zz:it=0.5 cch:it=0.5 ght:en=1 wh:en=0.7 th:en=0.3 w:en=0.2,de=0.2,nl=0.2 oo:nl=0.3,en=0.2
    aa:nl=0.5"""
    ).items()
)
_ELISIONS = _hints(
    """l':fr=1,it=1 d':fr=1.5,it=0.3 j':fr=2 c':fr=1,it=0.5 n':fr=1.5 qu':fr=2 s':fr=1 m':fr=1 t':fr=1
    dell':it=2 dall':it=2 nell':it=2 un':it=2 dov':it=2 com':it=1"""
)
_CONTRACTIONS = _hints("""t:en=1.5 s:en=0.5 m:en=1.5 re:en=1.5 ll:en=1.5 ve:en=1.5 d:en=1""")

_MIN_SCORE = 1.5
_MIN_MARGIN = 1.0


def normalise_locale(locale: str) -> str:
    """The language of a locale tag, lower-case: ``"es-MX"`` → ``"es"``, ``"zh_Hant"`` → ``"zh"``.

    Accepts a 2- or 3-letter language code optionally followed by ``-`` or ``_``
    subtags (region, script, variant); deprecated codes map to current ones
    (``iw`` → ``he``). Anything else raises :class:`InvalidInputError`.
    """
    match = _LOCALE.match(locale.strip()) if isinstance(locale, str) else None
    if match is None:
        raise InvalidInputError(
            f"invalid locale {locale!r}: expected a language code such as 'en', optionally with a "
            "region or script, e.g. 'es-MX', 'pt_BR' or 'zh_Hant'"
        )
    language = match.group(1).lower()
    return _DEPRECATED.get(language, language)


def detect_language(text: str, *, default: str = "en", candidates: Sequence[str] | None = None) -> str:
    """The ISO 639-1 code of the language ``text`` is written in, or ``default`` when unsure."""
    allowed = {normalise_locale(c) for c in candidates} if candidates is not None else None
    text = unicodedata.normalize("NFKC", text)
    guess = _by_script(text)
    if guess is None:
        guess = _by_words(text.casefold(), allowed)
    if guess is None or (allowed is not None and guess not in allowed):
        return default
    return guess


def _script_of(ch: str) -> str | None:
    code = ord(ch)
    for name, ranges in _SCRIPTS:
        if any(lo <= code <= hi for lo, hi in ranges):
            return name
    return None


def _by_script(text: str) -> str | None:
    counts: dict[str, float] = {}
    chars: set[str] = set()
    for ch in text:
        if not ch.isalpha() and not unicodedata.category(ch).startswith("M"):
            continue
        script = _script_of(ch)
        if script is not None:
            counts[script] = counts.get(script, 0.0) + 1.0
            chars.add(ch.lower())
    if not counts:
        return None
    for script in counts:
        if script not in _SPACELESS:  # alphabetic scripts: count words, not letters
            counts[script] = max(1.0, counts[script] / 5.0)
    latin_words = sum(1 for w in _TOKEN.findall(text) if any("a" <= c.lower() <= "z" for c in w))
    if "kana" in counts:
        counts["kana"] += counts.pop("han", 0.0)
    best = max(counts, key=lambda s: counts[s])
    if counts[best] < latin_words:
        return None
    if best == "kana":
        return "ja"
    if best == "han":
        return "zh"
    if best == "cyrillic":
        return "uk" if chars & _UKRAINIAN_ONLY and not chars & _RUSSIAN_ONLY else "ru"
    return best


def _by_words(text: str, allowed: set[str] | None) -> str | None:
    languages = [lang for lang in LATIN_LANGUAGES if allowed is None or lang in allowed]
    if not languages:
        return None
    scores = dict.fromkeys(languages, 0.0)
    for token in _TOKEN.findall(text.replace("’", "'")):
        word = token
        if "'" in token and not any(_LEXICON[lang].get(token) for lang in languages):
            head, _, word = token.partition("'")
            _add(scores, _ELISIONS.get(head + "'", {}))
            _add(scores, _CONTRACTIONS.get(word, {}) if "'" not in word else {})
        for lang in languages:
            scores[lang] += _LEXICON[lang].get(word, 0.0)
        for suffix, hint in _SUFFIX_HINTS:
            if len(word) > len(suffix) + 1 and word.endswith(suffix):
                _add(scores, hint)
                break
        for infix, hint in _INFIX_HINTS:
            if infix in word:
                _add(scores, hint)
    for ch in text:
        char_hint = _CHAR_HINTS.get(ch)
        if char_hint is not None:
            _add(scores, char_hint)
    ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    best, score = ranked[0]
    runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
    if score < _MIN_SCORE or score - runner_up < _MIN_MARGIN:
        return None
    return best


def _add(scores: dict[str, float], hint: dict[str, float]) -> None:
    for lang, weight in hint.items():
        if lang in scores:
            scores[lang] += weight
