"""Phrase tables for the grounded composer: one :class:`Voice` per speech register × language.

A voice is the *frame* of a reply, never its content. Each has:

* ``positive`` / ``negative`` / ``neutral`` — openers, by the family of the NPC's dominant
  emotion (:func:`emotion_family`): a gruff smith in anger opens with "Hmph.";
* ``know`` — "here is what I know: {fact}", in voice; ``{fact}`` is quoted lore;
* ``unknown`` — the NPC does not know. These lines state no fact, so a reply built on
  them can never invent one;
* ``memory`` — "you told me {memory}";
* ``greeting`` — for a player who only says hello;
* ``closers`` — a last line; ``""`` means none.

``{a}`` in openers and greetings is the stage-aware address: empty, or the locale's
vocative (``", Mira"``, ``"，Mira"``) when the NPC calls the player by name.

Six languages have full tables: en, es, zh, hi, fr, de. Any other locale falls back to
English (:func:`language_of`). The Hindi lines keep first-person verbs out of gendered
forms (``मुझे पता है`` rather than ``मैं जानता/जानती हूँ``), as a persona has no gender field.
Variants within a field are ``|``-separated in the table and chosen by the composer with
a stable hash, so the same turn always reads the same.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

__all__ = ["LANGUAGES", "REGISTERS", "Voice", "emotion_family", "language_of", "voice"]

REGISTERS = ("formal", "casual", "gruff", "archaic", "playful", "terse")
"""The speech registers a persona may name (``speech_style.register``)."""

_POSITIVE = frozenset({"joy", "trust", "anticipation"})
_NEGATIVE = frozenset({"fear", "sadness", "disgust", "anger"})


@dataclass(frozen=True, slots=True)
class Voice:
    """The frame lines of one register in one language (see the module docstring)."""

    positive: tuple[str, ...]
    negative: tuple[str, ...]
    neutral: tuple[str, ...]
    know: tuple[str, ...]
    unknown: tuple[str, ...]
    memory: tuple[str, ...]
    greeting: tuple[str, ...]
    closers: tuple[str, ...]
    vocative: str = ", {name}"  # how a name is put after an opener or greeting
    joiner: str = " "  # between sentences: "" for Chinese

    def openers(self, family: str) -> tuple[str, ...]:
        """Openers for ``family`` (``positive``, ``negative`` or anything else: neutral)."""
        if family == "positive":
            return self.positive
        if family == "negative":
            return self.negative
        return self.neutral


def emotion_family(emotion: str) -> str:
    """``positive`` (joy, trust, anticipation), ``negative`` (fear, sadness, disgust, anger) or ``neutral``."""
    if emotion in _POSITIVE:
        return "positive"
    if emotion in _NEGATIVE:
        return "negative"
    return "neutral"


def _v(openers: tuple[str, str, str], know: str, unknown: str, memory: str, greet: str, close: str) -> Voice:
    """A voice from ``|``-separated variants; ``openers`` are (positive, negative, neutral)."""

    def split(field: str) -> tuple[str, ...]:
        return tuple(field.split("|"))

    pos, neg, neu = (split(opener) for opener in openers)
    return Voice(pos, neg, neu, split(know), split(unknown), split(memory), split(greet), split(close))


_TABLES: dict[str, dict[str, Voice]] = {
    "en": {
        "formal": _v(
            ("Gladly{a}.|With pleasure{a}.", "I see{a}.|Very well{a}.", "Certainly{a}.|Of course{a}."),
            "Here is what I know: {fact}|As I understand it: {fact}",
            "I am afraid I know nothing of that.|I regret that I cannot speak to that; I have no knowledge of it.",
            "You mentioned to me: {memory}.",
            "Good day to you{a}. How may I be of service?|Greetings{a}. What brings you here?",
            "Is there anything further?|",
        ),
        "casual": _v(
            ("Oh, nice{a}!|Ha, sure{a}.", "Ugh{a}.|Look{a}.", "Sure{a}.|Right{a}."),
            "Here's what I know: {fact}|So, from what I've heard: {fact}",
            "No idea, honestly.|Can't help you there, I don't know anything about that.",
            "You told me {memory}.",
            "Hey there{a}! What can I do for you?|Hi{a}! Pull up a seat.",
            "Anything else?|",
        ),
        "gruff": _v(
            ("Heh. Aye{a}.|Good{a}.", "Hmph{a}.|Tch{a}.", "Right{a}.|Well{a}."),
            "What I know is this: {fact}|Listen well: {fact}",
            "Don't know. Won't guess.|Can't tell you what I don't know.",
            "You said {memory}. I remember.",
            "Hmph{a}. What d'you need?|Aye{a}. Speak up.",
            "That's all.|",
        ),
        "archaic": _v(
            ("Ah, gladly{a}.|Well met indeed{a}.", "Alas{a}.|Woe, then{a}.", "Hark{a}.|Verily{a}."),
            "Thus do the old accounts hold, and thus I know: {fact}|Hear what the old writings keep: {fact}",
            "Of that, no scroll I have read speaks, and I shall not feign otherwise.|Naught do I know of this.",
            "Thou didst tell me {memory}.",
            "Well met{a}. What wouldst thou ask of me?|Greetings unto thee{a}.",
            "Go thou with care.|",
        ),
        "playful": _v(
            ("Ooh{a}!|Ha! Lovely{a}!", "Oh, pish{a}.|Well, drat{a}.", "Well now{a}!|Ah-ha{a}!"),
            "Ooh, I know this one: {fact}|Lucky you, I happen to know: {fact}",
            "Ha! You've stumped me, I haven't the faintest.|No clue, and I won't make one up!",
            "Ooh, you told me {memory}!",
            "Well hello there{a}! What'll it be?|Hello, hello{a}!",
            "What else, hm?|",
        ),
        "terse": _v(
            ("Good{a}.|Fine{a}.", "Careful{a}.|Hm{a}.", "Noted{a}.|Listen{a}."),
            "Fact: {fact}|Known: {fact}",
            "Unknown.|Don't know.",
            "You said {memory}.",
            "State your business{a}.|Yes{a}?",
            "Done.|",
        ),
    },
    "es": {
        "formal": _v(
            ("Con gusto{a}.|Un placer{a}.", "Entiendo{a}.|Muy bien{a}.", "Por supuesto{a}.|Desde luego{a}."),
            "Esto es lo que sé: {fact}|Según tengo entendido: {fact}",
            "Me temo que no sé nada de eso.|Lamento no poder decirle nada al respecto; no lo sé.",
            "Usted me dijo: {memory}.",
            "Buenos días{a}. ¿En qué puedo servirle?|Saludos{a}. ¿Qué le trae por aquí?",
            "¿Desea algo más?|",
        ),
        "casual": _v(
            ("¡Genial{a}!|¡Claro que sí{a}!", "Uf{a}.|Mira{a}.", "Vale{a}.|Bueno{a}."),
            "Lo que sé es esto: {fact}|Por lo que he oído: {fact}",
            "Ni idea, la verdad.|Ahí no te puedo ayudar, no sé nada de eso.",
            "Me dijiste: {memory}.",
            "¡Hola{a}! ¿Qué te trae por aquí?|¡Buenas{a}! Siéntate.",
            "¿Algo más?|",
        ),
        "gruff": _v(
            ("Bah, bien{a}.|Sí{a}.", "Hmph{a}.|Tsk{a}.", "Ya{a}.|Bueno{a}."),
            "Esto sé: {fact}|Escucha: {fact}",
            "No lo sé. Y no voy a inventar.|No sé nada de eso.",
            "Dijiste: {memory}. Me acuerdo.",
            "Hmph{a}. ¿Qué quieres?|Sí{a}. Habla.",
            "Eso es todo.|",
        ),
        "archaic": _v(
            ("Ah, de buen grado{a}.|Bien hallado{a}.", "Ay de mí{a}.|Ay{a}.", "Oíd{a}.|En verdad{a}."),
            "Así lo cuentan las viejas crónicas: {fact}|Escuchad lo que guardan los antiguos escritos: {fact}",
            "De eso no habla pergamino alguno que yo haya leído, y no fingiré lo contrario.|Nada sé de tal asunto.",
            "Vos me dijisteis: {memory}.",
            "Salud os doy{a}. ¿Qué deseáis preguntar?|Bien hallado seáis{a}.",
            "Id con cuidado.|",
        ),
        "playful": _v(
            ("¡Oh{a}!|¡Ja! ¡Qué bien{a}!", "Vaya, vaya{a}.|¡Porras{a}!", "¡Bueno, bueno{a}!|¡Ajá{a}!"),
            "¡Esta me la sé! {fact}|Qué suerte, resulta que lo sé: {fact}",
            "¡Ja! Me has pillado, no tengo ni la menor idea.|Ni idea, ¡y no pienso inventármelo!",
            "¡Me contaste: {memory}!",
            "¡Pero hola{a}! ¿Qué va a ser?|¡Hola, hola{a}!",
            "¿Qué más, eh?|",
        ),
        "terse": _v(
            ("Bien{a}.|Vale{a}.", "Cuidado{a}.|Hm{a}.", "Anotado{a}.|Escucha{a}."),
            "Dato: {fact}|Se sabe: {fact}",
            "Desconocido.|No lo sé.",
            "Dijiste: {memory}.",
            "Diga{a}.|¿Sí{a}?",
            "Nada más.|",
        ),
    },
    "zh": {
        "formal": _v(
            ("乐意效劳{a}。|荣幸之至{a}。", "我明白了{a}。|好吧{a}。", "当然{a}。|好的{a}。"),
            "据我所知：{fact}|依我所闻：{fact}",
            "恐怕我对此一无所知。|很抱歉，这件事我不了解，无法奉告。",
            "您曾告诉我：{memory}。",
            "您好{a}。有什么可以为您效劳的？|幸会{a}。是什么风把您吹来了？",
            "还有别的事吗？|",
        ),
        "casual": _v(
            ("好啊{a}！|没问题{a}！", "唉{a}。|听着{a}。", "行{a}。|嗯{a}。"),
            "我知道的是这样：{fact}|我听说：{fact}",
            "说实话，我不知道。|这个我帮不上忙，我一点也不清楚。",
            "你跟我说过：{memory}。",
            "嘿{a}！要点什么？|你好{a}！坐吧。",
            "还要别的吗？|",
        ),
        "gruff": _v(
            ("嗯，好{a}。|行吧{a}。", "哼{a}。|啧{a}。", "嗯{a}。|说吧{a}。"),
            "我只知道这个：{fact}|听好了：{fact}",
            "不知道。也不会瞎猜。|我不知道的事，没法告诉你。",
            "你说过：{memory}。我记着呢。",
            "哼{a}。要什么？|嗯{a}。有话快说。",
            "就这些。|",
        ),
        "archaic": _v(
            ("善哉{a}。|幸会幸会{a}。", "唉哉{a}。|呜呼{a}。", "且听{a}。|诚然{a}。"),
            "古籍有载，吾所知者如下：{fact}|且听旧典所记：{fact}",
            "此事吾所阅典籍皆未有载，不敢妄言。|吾对此一无所知。",
            "汝曾告吾：{memory}。",
            "幸会{a}。汝欲问何事？|见过阁下{a}。",
            "愿汝一路小心。|",
        ),
        "playful": _v(
            ("哇{a}！|哈！太好了{a}！", "哎呀{a}。|糟糕{a}！", "好嘞{a}！|啊哈{a}！"),
            "这个我知道！{fact}|算你走运，我刚好知道：{fact}",
            "哈！你把我难住了，我一点头绪都没有。|不知道，我也不会编！",
            "你跟我讲过哦：{memory}！",
            "哎呀，你好呀{a}！要点什么？|你好你好{a}！",
            "还有什么，嗯？|",
        ),
        "terse": _v(
            ("好{a}。|可以{a}。", "小心{a}。|嗯{a}。", "记下了{a}。|听着{a}。"),
            "事实：{fact}|已知：{fact}",
            "不知道。|未知。",
            "你说过：{memory}。",
            "说明来意{a}。|什么事{a}？",
            "完毕。|",
        ),
    },
    "hi": {
        "formal": _v(
            ("सहर्ष{a}।|बड़ी खुशी की बात है{a}।", "अच्छा{a}।|ठीक है{a}।", "अवश्य{a}।|जी हाँ{a}।"),
            "मुझे जो ज्ञात है, वह यह है: {fact}|मेरी जानकारी के अनुसार: {fact}",
            "क्षमा कीजिए, मुझे इस विषय में कुछ भी ज्ञात नहीं है।|खेद है, इसके बारे में मुझे कोई जानकारी नहीं है।",
            "आपने मुझे बताया था: {memory}।",
            "नमस्ते{a}। कहिए, आपकी क्या सेवा करूँ?|नमस्कार{a}। आपका यहाँ आना कैसे हुआ?",
            "क्या और कुछ चाहिए?|",
        ),
        "casual": _v(
            ("अरे वाह{a}!|हाँ, बिल्कुल{a}!", "उफ़{a}।|देखो{a}।", "ठीक{a}।|अच्छा{a}।"),
            "मुझे जो पता है वो ये है: {fact}|जो मैंने सुना है: {fact}",
            "सच कहूँ तो मुझे नहीं पता।|इसके बारे में मुझे कुछ नहीं पता।",
            "तुमने मुझे बताया था: {memory}।",
            "अरे नमस्ते{a}! बताओ, क्या चाहिए?|हाय{a}! बैठो ना।",
            "और कुछ?|",
        ),
        "gruff": _v(
            ("हम्म, ठीक{a}।|हाँ{a}।", "हुंह{a}।|च्च{a}।", "बोलो{a}।|हाँ तो{a}।"),
            "मुझे बस इतना पता है: {fact}|सुनो: {fact}",
            "नहीं पता। अटकलें मेरा काम नहीं।|पता नहीं। बस।",
            "तुमने कहा था: {memory}। मुझे याद है।",
            "हुंह{a}। क्या चाहिए?|हाँ{a}। बोलो।",
            "बस इतना ही।|",
        ),
        "archaic": _v(
            ("अहो, सहर्ष{a}।|स्वागत है{a}।", "हा दैव{a}।|हाय{a}।", "सुनो{a}।|निःसंदेह{a}।"),
            "प्राचीन ग्रंथों में ऐसा लिखा है: {fact}|पुराने लेख यह कहते हैं: {fact}",
            "इस विषय में कोई ग्रंथ कुछ नहीं कहता, और असत्य कहना उचित नहीं।|इस बारे में मुझे कुछ ज्ञात नहीं।",
            "तुमने मुझसे कहा था: {memory}।",
            "स्वागत है{a}। कहो, क्या जानना है?|प्रणाम{a}।",
            "सावधानी से जाना।|",
        ),
        "playful": _v(
            ("ओहो{a}!|हा! बढ़िया{a}!", "धत्{a}।|अरे रे{a}!", "अच्छा जी{a}!|अहा{a}!"),
            "अरे, ये तो मुझे पता है! {fact}|तुम्हारी किस्मत अच्छी है, मुझे पता है: {fact}",
            "हा! तुमने तो मुझे उलझा दिया, मुझे ज़रा भी अंदाज़ा नहीं।|पता नहीं, और मनगढ़ंत बातें नहीं!",
            "तुमने ही तो बताया था: {memory}!",
            "अरे, नमस्ते{a}! क्या लोगे?|हैलो, हैलो{a}!",
            "और क्या, हम्म?|",
        ),
        "terse": _v(
            ("ठीक{a}।|हाँ{a}।", "सावधान{a}।|हम्म{a}।", "दर्ज{a}।|सुनो{a}।"),
            "तथ्य: {fact}|ज्ञात: {fact}",
            "अज्ञात।|पता नहीं।",
            "तुमने कहा: {memory}।",
            "काम बताओ{a}।|हाँ{a}?",
            "बस।|",
        ),
    },
    "fr": {
        "formal": _v(
            ("Avec plaisir{a}.|Volontiers{a}.", "Je vois{a}.|Fort bien{a}.", "Certainement{a}.|Bien sûr{a}."),
            "Voici ce que je sais : {fact}|D'après ce que j'en sais : {fact}",
            "Je crains de ne rien savoir à ce sujet.|Je regrette, mais je n'en sais rien.",
            "Vous m'avez dit : {memory}.",
            "Bonjour{a}. En quoi puis-je vous être utile ?|Mes salutations{a}. Qu'est-ce qui vous amène ?",
            "Puis-je faire autre chose pour vous ?|",
        ),
        "casual": _v(
            ("Oh, super{a} !|Bien sûr{a} !", "Pff{a}.|Écoute{a}.", "D'accord{a}.|Bon{a}."),
            "Ce que je sais, c'est ça : {fact}|D'après ce que j'ai entendu : {fact}",
            "Aucune idée, franchement.|Là, je ne peux pas t'aider, je n'en sais rien.",
            "Tu m'as dit : {memory}.",
            "Salut{a} ! Qu'est-ce que je te sers ?|Coucou{a} ! Installe-toi.",
            "Autre chose ?|",
        ),
        "gruff": _v(
            ("Ouais{a}.|Bon{a}.", "Hmph{a}.|Tss{a}.", "Soit{a}.|Alors{a}."),
            "Voilà ce que je sais : {fact}|Écoute bien : {fact}",
            "Sais pas. Et je devine pas.|Je peux pas te dire ce que je sais pas.",
            "T'as dit : {memory}. Je m'en souviens.",
            "Hmph{a}. Qu'est-ce que tu veux ?|Ouais{a}. Parle.",
            "C'est tout.|",
        ),
        "archaic": _v(
            ("Ah, de bon cœur{a}.|Bien le bonjour{a}.", "Hélas{a}.|Las{a}.", "Oyez{a}.|En vérité{a}."),
            "Ainsi le rapportent les anciennes chroniques : {fact}|Écoutez ce que gardent les vieux écrits : {fact}",
            "Nul parchemin que j'aie lu n'en parle, et je ne feindrai point le contraire.|De cela, je ne sais rien.",
            "Vous m'avez confié : {memory}.",
            "Salut à vous{a}. Que désirez-vous savoir ?|Je vous salue{a}.",
            "Allez avec prudence.|",
        ),
        "playful": _v(
            ("Oh{a} !|Ha ! Formidable{a} !", "Zut{a} !|Flûte{a} !", "Eh bien{a} !|Ah-ha{a} !"),
            "Celle-là, je la connais ! {fact}|Quelle chance, il se trouve que je sais : {fact}",
            "Ha ! Tu m'as eu, je n'en ai pas la moindre idée.|Aucune idée, et je ne vais pas l'inventer !",
            "Tu m'as raconté : {memory} !",
            "Tiens, bonjour{a} ! Qu'est-ce que ce sera ?|Coucou, coucou{a} !",
            "Quoi d'autre, hein ?|",
        ),
        "terse": _v(
            ("Bien{a}.|Entendu{a}.", "Prudence{a}.|Hm{a}.", "Noté{a}.|Écoutez{a}."),
            "Fait : {fact}|Connu : {fact}",
            "Inconnu.|Je ne sais pas.",
            "Vous avez dit : {memory}.",
            "Votre affaire{a} ?|Oui{a} ?",
            "Rien d'autre.|",
        ),
    },
    "de": {
        "formal": _v(
            ("Sehr gern{a}.|Mit Vergnügen{a}.", "Ich verstehe{a}.|Nun gut{a}.", "Gewiss{a}.|Natürlich{a}."),
            "Folgendes ist mir bekannt: {fact}|Soweit ich weiß: {fact}",
            "Ich fürchte, darüber weiß ich nichts.|Bedaure, dazu kann ich nichts sagen; ich weiß es nicht.",
            "Sie sagten mir: {memory}.",
            "Guten Tag{a}. Womit kann ich dienen?|Seien Sie gegrüßt{a}. Was führt Sie her?",
            "Kann ich sonst noch etwas für Sie tun?|",
        ),
        "casual": _v(
            ("Oh, super{a}!|Klar doch{a}!", "Uff{a}.|Hör mal{a}.", "Okay{a}.|Na gut{a}."),
            "Also, was ich weiß: {fact}|Soweit ich gehört hab: {fact}",
            "Keine Ahnung, ehrlich.|Da kann ich dir nicht helfen, davon weiß ich nichts.",
            "Du hast mir erzählt: {memory}.",
            "Hallo{a}! Was darf's sein?|Hey{a}! Setz dich.",
            "Sonst noch was?|",
        ),
        "gruff": _v(
            ("Jo{a}.|Gut{a}.", "Hmpf{a}.|Tss{a}.", "Na{a}.|Also{a}."),
            "Das weiß ich: {fact}|Hör gut zu: {fact}",
            "Weiß ich nicht. Und ich rate nicht.|Was ich nicht weiß, kann ich dir nicht sagen.",
            "Du hast gesagt: {memory}. Ich erinnere mich.",
            "Hmpf{a}. Was willst du?|Jo{a}. Sprich.",
            "Das war's.|",
        ),
        "archaic": _v(
            ("Ah, mit Freuden{a}.|Seid gegrüßt{a}.", "Ach{a}.|Wehe{a}.", "Höret{a}.|Wahrlich{a}."),
            "So berichten es die alten Chroniken: {fact}|Vernehmt, was die alten Schriften bewahren: {fact}",
            "Davon spricht keine Schriftrolle, die ich je las, und ich will nichts vortäuschen.|Davon ist mir nichts bekannt.",
            "Ihr spracht zu mir: {memory}.",
            "Seid willkommen{a}. Was wollt Ihr erfragen?|Gegrüßet seiet Ihr{a}.",
            "Geht mit Bedacht.|",
        ),
        "playful": _v(
            ("Oh{a}!|Ha! Herrlich{a}!", "Mist{a}!|Ach herrje{a}!", "Na sowas{a}!|Aha{a}!"),
            "Oh, das weiß ich! {fact}|Glück gehabt, das weiß ich zufällig: {fact}",
            "Ha! Da hast du mich erwischt, ich hab keinen blassen Schimmer.|Keine Ahnung, und erfinden werd ich's nicht!",
            "Du hast mir ja erzählt: {memory}!",
            "Na hallo{a}! Was darf's sein?|Hallo, hallo{a}!",
            "Was noch, hm?|",
        ),
        "terse": _v(
            ("Gut{a}.|In Ordnung{a}.", "Vorsicht{a}.|Hm{a}.", "Notiert{a}.|Hören Sie{a}."),
            "Fakt: {fact}|Bekannt: {fact}",
            "Unbekannt.|Weiß nicht.",
            "Sie sagten: {memory}.",
            "Ihr Anliegen{a}?|Ja{a}?",
            "Das ist alles.|",
        ),
    },
}

# Chinese puts no space between sentences and uses a full-width comma before a name.
_TABLES["zh"] = {reg: replace(v, vocative="，{name}", joiner="") for reg, v in _TABLES["zh"].items()}

LANGUAGES = tuple(_TABLES)
"""Languages with full phrase tables; any other locale is answered in English."""


def language_of(locale: str) -> str:
    """The table language for a BCP-47 ``locale`` (``"es-MX"`` → ``"es"``); ``"en"`` when there is none."""
    prefix = locale.replace("_", "-").split("-", 1)[0].strip().lower()
    return prefix if prefix in _TABLES else "en"


def voice(register: str, locale: str) -> Voice:
    """The voice of ``register`` in ``locale``'s language (an unknown register reads as casual)."""
    table = _TABLES[language_of(locale)]
    return table.get(register, table["casual"])
