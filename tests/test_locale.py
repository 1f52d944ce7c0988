"""Language detection on short chat lines, and locale tags reduced to a language code.

``CHAT_LINES`` is the measured set: short things players type to an NPC, lower-case,
unaccented and without punctuation as often as not. Measured 2026-11-23, first 83 lines
(the word lists were tuned on them; 80/83 before tuning) and 61 held-out lines written
afterwards (57/61 before the last fixes, all four misses abstentions that returned the
default): the built-in detector now gets 144/144. py3langid 0.4.0 got 137/144
unrestricted and 138/144 restricted to these eleven languages, missing romanised Hindi
with confident wrong answers, and took 0.47-1.3 s to load (numpy included), so it was
not adopted.
"""

from __future__ import annotations

import pytest

from npc_engine.errors import InvalidInputError
from npc_engine.locale import detect_language, normalise_locale

CHAT_LINES: list[tuple[str, str]] = [
    ("en", "where can i find the blacksmith?"),
    ("en", "how much for the iron sword"),
    ("en", "Hello there! Any work for me?"),
    ("en", "what's the news from the harbor"),
    ("en", "can I rent a room for two nights"),
    ("en", "tell me about the Heartfire"),
    ("en", "i need a healing potion asap"),
    ("en", "who is the captain of the watch?"),
    ("en", "thanks, see you later"),
    ("en", "that's way too expensive lol"),
    ("es", "¿Dónde está la herrería?"),
    ("es", "cuanto cuesta la espada"),
    ("es", "hola, tienes trabajo para mi?"),
    ("es", "quiero alquilar una habitación"),
    ("es", "qué noticias hay del puerto"),
    ("es", "necesito una poción de curación"),
    ("es", "gracias amigo, nos vemos"),
    ("es", "eso es muy caro"),
    ("fr", "où est le forgeron ?"),
    ("fr", "combien pour l'épée"),
    ("fr", "salut, tu as du travail pour moi"),
    ("fr", "je voudrais louer une chambre"),
    ("fr", "quelles sont les nouvelles du port"),
    ("fr", "j'ai besoin d'une potion de soin"),
    ("fr", "merci beaucoup, à plus tard"),
    ("fr", "c'est beaucoup trop cher"),
    ("de", "wo finde ich den Schmied?"),
    ("de", "wie viel kostet das Schwert"),
    ("de", "hallo, hast du Arbeit für mich?"),
    ("de", "ich möchte ein Zimmer mieten"),
    ("de", "was gibt es Neues im Hafen"),
    ("de", "ich brauche einen Heiltrank"),
    ("de", "danke, bis später"),
    ("de", "das ist viel zu teuer"),
    ("pt", "onde fica o ferreiro?"),
    ("pt", "quanto custa a espada"),
    ("pt", "olá, você tem trabalho pra mim?"),
    ("pt", "quero alugar um quarto"),
    ("pt", "quais são as novidades do porto"),
    ("pt", "preciso de uma poção de cura"),
    ("pt", "obrigado, até logo"),
    ("pt", "isso é muito caro"),
    ("it", "dov'è il fabbro?"),
    ("it", "quanto costa la spada"),
    ("it", "ciao, hai del lavoro per me?"),
    ("it", "vorrei affittare una stanza"),
    ("it", "quali sono le novità dal porto"),
    ("it", "ho bisogno di una pozione curativa"),
    ("it", "grazie mille, a dopo"),
    ("it", "è troppo caro"),
    ("zh", "铁匠在哪里？"),
    ("zh", "这把剑多少钱"),
    ("zh", "你好，有活儿给我干吗？"),
    ("zh", "我想租一个房间"),
    ("zh", "港口有什么消息"),
    ("ja", "鍛冶屋はどこですか？"),
    ("ja", "この剣はいくらですか"),
    ("ja", "こんにちは、仕事はありますか"),
    ("ja", "部屋を借りたいです"),
    ("ja", "ありがとう"),
    ("ko", "대장장이는 어디에 있어요?"),
    ("ko", "이 검은 얼마예요"),
    ("ko", "안녕하세요, 일자리 있나요?"),
    ("ko", "방을 빌리고 싶어요"),
    ("hi", "लोहार कहाँ है?"),
    ("hi", "यह तलवार कितने की है"),
    ("hi", "मुझे एक कमरा चाहिए"),
    ("hi", "bhai lohar kahan hai"),
    ("hi", "ye talwar kitne ki hai"),
    ("hi", "mujhe kamra chahiye yaar"),
    ("ru", "где найти кузнеца?"),
    ("ru", "сколько стоит меч"),
    ("ru", "привет, есть работа для меня?"),
    ("ru", "хочу снять комнату"),
    ("ru", "спасибо, до встречи"),
    ("en", "any rumours about the cult?"),
    ("es", "me puedes vender pan"),
    ("fr", "tu connais le capitaine de la garde"),
    ("de", "kannst du mir ein Schwert verkaufen"),
    ("pt", "você sabe onde está o capitão"),
    ("it", "sai dove si trova il capitano"),
    ("en", "ok thanks"),
    ("es", "q onda, que vendes"),
    # held out: written after the word lists were tuned on the lines above
    ("en", "got any quests for me"),
    ("en", "i lost my horse near the river"),
    ("en", "is the tavern still open tonight?"),
    ("en", "why does everyone hate the elves"),
    ("en", "give me your best ale"),
    ("en", "sorry, i didn't mean that"),
    ("en", "do you know where the old mine is"),
    ("es", "tengo hambre, qué hay de comer"),
    ("es", "perdí mi caballo cerca del río"),
    ("es", "la taberna sigue abierta esta noche?"),
    ("es", "por qué todos odian a los elfos"),
    ("es", "dame tu mejor cerveza"),
    ("es", "no sé qué hacer ahora"),
    ("fr", "tu as des quêtes pour moi"),
    ("fr", "j'ai perdu mon cheval près de la rivière"),
    ("fr", "la taverne est encore ouverte ce soir ?"),
    ("fr", "pourquoi tout le monde déteste les elfes"),
    ("fr", "donne-moi ta meilleure bière"),
    ("fr", "désolé, je ne voulais pas dire ça"),
    ("de", "hast du Aufträge für mich"),
    ("de", "ich habe mein Pferd am Fluss verloren"),
    ("de", "ist die Taverne heute Abend noch offen?"),
    ("de", "warum hassen alle die Elfen"),
    ("de", "gib mir dein bestes Bier"),
    ("de", "tut mir leid, so war das nicht gemeint"),
    ("pt", "tem alguma missão pra mim"),
    ("pt", "perdi meu cavalo perto do rio"),
    ("pt", "a taverna ainda está aberta hoje?"),
    ("pt", "por que todo mundo odeia os elfos"),
    ("pt", "me dá sua melhor cerveja"),
    ("pt", "desculpa, não foi isso que eu quis dizer"),
    ("it", "hai qualche missione per me"),
    ("it", "ho perso il mio cavallo vicino al fiume"),
    ("it", "la taverna è ancora aperta stasera?"),
    ("it", "perché tutti odiano gli elfi"),
    ("it", "dammi la tua birra migliore"),
    ("it", "scusa, non volevo dire questo"),
    ("zh", "你有任务给我吗"),
    ("zh", "我的马在河边丢了"),
    ("zh", "为什么大家都讨厌精灵"),
    ("zh", "给我来一杯最好的麦酒"),
    ("ja", "何かクエストはありますか"),
    ("ja", "川の近くで馬をなくしました"),
    ("ja", "酒場は今夜も開いていますか"),
    ("ko", "퀘스트 있어요?"),
    ("ko", "강 근처에서 말을 잃어버렸어요"),
    ("ko", "제일 좋은 맥주 주세요"),
    ("hi", "क्या आपके पास मेरे लिए कोई काम है"),
    ("hi", "मेरा घोड़ा नदी के पास खो गया"),
    ("hi", "sabse acchi sharab do"),
    ("hi", "kya tumhare paas koi kaam hai"),
    ("ru", "есть задания для меня?"),
    ("ru", "я потерял коня у реки"),
    ("ru", "почему все ненавидят эльфов"),
    ("ru", "дай мне лучшего эля"),
    ("en", "lol that guard is so rude"),
    ("es", "oye, cuánto por la armadura"),
    ("fr", "c'est combien l'armure"),
    ("de", "was kostet die Rüstung"),
    ("pt", "quanto é a armadura"),
    ("it", "quanto viene l'armatura"),
]


def test_the_chat_set_has_at_least_sixty_lines_in_eleven_languages() -> None:
    assert len(CHAT_LINES) >= 60
    assert {lang for lang, _ in CHAT_LINES} == {
        "en",
        "es",
        "fr",
        "de",
        "pt",
        "it",
        "zh",
        "ja",
        "ko",
        "hi",
        "ru",
    }


def test_accuracy_on_the_chat_set_is_at_least_ninety_percent() -> None:
    wrong = [(lang, text, detect_language(text, default="??")) for lang, text in CHAT_LINES]
    wrong = [case for case in wrong if case[0] != case[2]]

    assert 1 - len(wrong) / len(CHAT_LINES) >= 0.9, wrong


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我想买 sword", "zh"),
        ("この剣は何ですか", "ja"),
        ("カタカナだけ", "ja"),
        ("Привет", "ru"),
        ("مرحبا كيف حالك", "ar"),
        ("สวัสดีครับ", "th"),
        ("Καλημέρα φίλε", "el"),
        ("שלום חבר", "he"),
        ("Привіт, як справи? Її немає", "uk"),
    ],
)
def test_the_script_decides_non_latin_languages(text: str, expected: str) -> None:
    assert detect_language(text) == expected


def test_a_greeting_alone_is_enough() -> None:
    assert detect_language("Hello", default="xx") == "en"
    assert detect_language("gracias", default="xx") == "es"


def test_weak_evidence_returns_the_default() -> None:
    assert detect_language("ok", default="fr") == "fr"
    assert detect_language("Brannoc", default="de") == "de"
    assert detect_language("42", default="es") == "es"


def test_empty_text_returns_the_default() -> None:
    assert detect_language("   ", default="pt") == "pt"


def test_romanised_hindi_is_hindi() -> None:
    assert detect_language("kya haal hai bhai") == "hi"


def test_shared_words_alone_decide_nothing() -> None:
    assert detect_language("hallo", default="xx") == "xx"  # German and Dutch


def test_candidates_limit_the_answer() -> None:
    assert detect_language("gracias amigo", candidates=["en", "fr"], default="en") == "en"
    assert detect_language("merci beaucoup", candidates=["en", "fr-CA"], default="en") == "fr"


def test_a_script_outside_the_candidates_returns_the_default() -> None:
    assert detect_language("谢谢", candidates=["en", "es"], default="es") == "es"


@pytest.mark.parametrize(
    ("tag", "expected"),
    [("es-MX", "es"), ("zh_Hant", "zh"), ("EN", "en"), ("pt_BR", "pt"), ("zh-Hant-TW", "zh"), ("iw", "he")],
)
def test_normalise_locale_keeps_the_language(tag: str, expected: str) -> None:
    assert normalise_locale(tag) == expected


@pytest.mark.parametrize("tag", ["", "english", "e", "12", "es--MX", "es-", "zh Hant"])
def test_normalise_locale_rejects_what_is_not_a_tag(tag: str) -> None:
    with pytest.raises(InvalidInputError, match="expected a language code"):
        normalise_locale(tag)
