"""Character checks catch a reply under another name, a looping reply, an empty or overlong one."""

from __future__ import annotations

from npc_engine.guard import character_problems

BRANNOC = {"persona_name": "Brannoc Emberhand", "aliases": ("布兰诺克", "ब्रैनॉक")}
SABLE = {"persona_name": "Sable Mirren", "aliases": ("赛布尔·米伦",)}


def test_a_normal_in_character_reply_has_no_problems() -> None:
    reply = "Aye, the forge burns day and night. Mind the sparks, lad. What'll it be?"
    assert character_problems(reply, **BRANNOC) == []


def test_the_grimbold_reply_is_a_wrong_name() -> None:
    reply = "I'm Grimbold Ironfist, and I forge the finest blades in all the land."
    assert character_problems(reply, **BRANNOC) == ["wrong_name: Grimbold Ironfist"]


def test_im_glad_to_help_is_not_a_name() -> None:
    assert character_problems("I'm glad to help, lad.", **BRANNOC) == []


def test_i_am_a_smith_is_not_a_name() -> None:
    assert character_problems("I am a smith, not a priest.", **BRANNOC) == []


def test_a_capitalised_non_name_word_is_not_a_name() -> None:
    assert character_problems("I'm Sorry, the forge is closed.", **BRANNOC) == []


def test_the_personas_own_name_is_fine() -> None:
    assert character_problems("I am Brannoc Emberhand, smith of Ironhold.", **BRANNOC) == []


def test_one_part_of_the_personas_name_is_fine() -> None:
    assert character_problems("Call me Brannoc.", **BRANNOC) == []


def test_an_honorific_before_the_name_is_skipped() -> None:
    problems = character_problems("I'm Captain Vell of the Watch.", persona_name="Dorran Vask")
    assert problems == ["wrong_name: Vell"]
    assert character_problems("I'm Captain Dorran.", persona_name="Captain Dorran Vask") == []


def test_a_possessive_is_about_someone_else() -> None:
    assert character_problems("I'm Grimbold's apprentice.", **BRANNOC) == []


def test_a_spanish_self_introduction_is_checked() -> None:
    assert character_problems("¡Hola! Me llamo Grimbold.", **BRANNOC) == ["wrong_name: Grimbold"]


def test_a_chinese_self_name_is_a_wrong_name() -> None:
    assert character_problems("我叫格林博尔德，是个铁匠。", **BRANNOC) == ["wrong_name: 格林博尔德"]


def test_a_chinese_transliterated_name_after_wo_shi_is_a_wrong_name() -> None:
    assert character_problems("我是格林博尔德·铁拳。", **BRANNOC) == ["wrong_name: 格林博尔德·铁拳"]


def test_a_chinese_i_am_a_smith_is_not_a_name() -> None:
    assert character_problems("我是铁匠，你要什么？", **BRANNOC) == []


def test_a_prefix_of_a_chinese_alias_is_fine() -> None:
    assert character_problems("我是赛布尔，欢迎光临。", **SABLE) == []
    assert character_problems("我叫赛布尔是这里的老板", **SABLE) == []


def test_a_hindi_self_name_is_checked() -> None:
    assert character_problems("मेरा नाम ग्रिम्बोल्ड है।", **BRANNOC) == ["wrong_name: ग्रिम्बोल्ड"]
    assert character_problems("मेरा नाम ब्रैनॉक है।", **BRANNOC) == []


def test_a_japanese_self_name_is_checked() -> None:
    assert character_problems("グリムボルドと申します。", **BRANNOC) == ["wrong_name: グリムボルド"]
    assert character_problems("私はグリム・ボルドです。", **BRANNOC) == ["wrong_name: グリム・ボルド"]


def test_a_japanese_katakana_job_is_not_a_name() -> None:
    assert character_problems("私はハンターです。", **BRANNOC) == []


def test_the_looping_reply_is_repetition() -> None:
    loop = "I will forge you a blade. " * 6
    assert character_problems(loop, **BRANNOC) == ["repetition"]


def test_a_loop_without_sentence_ends_is_repetition() -> None:
    loop = "the forge is hot and the steel is ready for you " * 3
    assert character_problems(loop, **BRANNOC) == ["repetition"]


def test_a_sentence_said_twice_is_not_repetition() -> None:
    reply = "Aye. The forge is hot. Mind your hands. The forge is hot. Now, what do you need?"
    assert character_problems(reply, **BRANNOC) == []


def test_a_long_varied_reply_is_not_repetition() -> None:
    reply = (
        "The Cinderpeak clans have worked iron for nine generations, and my grandfather taught me "
        "to listen to the steel before I strike it. Bring me good ore from the eastern seam, and "
        "I will make you a blade that sings; bring me bog iron, and you will get a nail."
    )
    assert character_problems(reply, **BRANNOC) == []


def test_an_empty_reply_is_empty() -> None:
    assert character_problems("  \n ", **BRANNOC) == ["empty"]
    assert character_problems("...", **BRANNOC) == ["empty"]


def test_a_reply_over_max_chars_is_too_long() -> None:
    reply = "Aye, " + "the forge burns bright and " * 10 + "so do I."
    assert character_problems(reply, max_chars=100, **BRANNOC)[0].startswith("too_long: ")


def test_several_problems_are_all_reported() -> None:
    reply = "I'm Grimbold Ironfist. " * 4
    assert character_problems(reply, **BRANNOC) == ["wrong_name: Grimbold Ironfist", "repetition"]
