"""The early-reject gate: it may only ever skip articles on which no rule can fire."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import re2
from engine_helpers import LoadText
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import stream.engine.gate as gate_module
import stream.engine.screens as screens_module
from stream.engine import RuleSet, load_rules
from stream.engine.gate import KeyGate, prefilter_available
from stream.engine.text import (
    _NON_ASCII_WORDISH,
    FieldText,
    _unicode_offsets,
    _unicode_tokens,
    fast_fold,
    fold,
)
from stream.models import Article

# ---------------------------------------------------------------------------------------------
# fast_fold: the same fast-path decision as a search over the whole text


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("Plain ASCII, 42 times!", [b"plain", b"ascii", b"42", b"times"]),
        ("Costs \u00a35 \u2014 \u201cquoted\u201d", [b"costs", b"5", b"quoted"]),
        ("lone \ud800 surrogate", [b"lone", b"surrogate"]),
        ("x\u2019s", [b"x", b"s"]),
        ("", []),
        ("Caf\u00e9", [b"cafe"]),  # an accent folds to its ASCII letter
        ("\u00c9TAT \u2019s caf\u00e9\u00b2", [b"etat", b"s", b"cafe2"]),
        ("Stra\u00dfe", None),  # "\u00df" folds to two letters: the Unicode path
        ("\u0101", [b"a"]),  # past U+00FF, folding to one ASCII letter: in place
        ("Erdo\u011fan\u2019s Babi\u0161", [b"erdogan", b"s", b"babis"]),
        ("\u0141ukasz", None),  # "\u0141" folds to itself, not to an ASCII letter
        ("e\u0301", None),  # a combining mark is part of a word
        ("\u041c\u043e\u0441\u043a\u0432\u0430", None),
    ],
)
def test_fast_fold(text: str, tokens: list[bytes] | None) -> None:
    folded = fast_fold(text)
    assert (folded if folded is None else folded.split()) == tokens


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_fast_fold_holds_the_tokens_and_only_them(text: str) -> None:
    folded = fast_fold(text)
    if folded is not None:
        assert folded.decode("ascii").split() == _unicode_tokens(text)
        assert not folded.strip(b"abcdefghijklmnopqrstuvwxyz0123456789 ")


def needs_the_unicode_path(char: str) -> bool:
    """A word character that folds to anything but one ASCII letter or digit ("ß", "ł", "ж",
    a combining mark); "é" and "ğ" fold to one letter, in place."""
    if _NON_ASCII_WORDISH.fullmatch(char) is None:
        return False
    folded = fold(char)
    return not (len(folded) == 1 and folded.isascii() and folded.isalnum())


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_fast_fold_decides_like_a_whole_text_search(text: str) -> None:
    assert (fast_fold(text) is None) == any(map(needs_the_unicode_path, text))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=0x2FF)))
def test_fast_path_offsets_are_the_unicode_tokenizers(text: str) -> None:
    field = FieldText(text)
    if fast_fold(text) is None:
        return
    assert field.tokens == _unicode_tokens(text)
    assert field.spans == list(zip(*_unicode_offsets(text), strict=True))


# ---------------------------------------------------------------------------------------------
# KeyGate: admits exactly the fast-path texts whose joined tokens hold a key, with the
# hyperscan prefilter and with RE2 alone

NO_HYPERSCAN = pytest.mark.skipif(
    not prefilter_available(), reason="hyperscan is not installed on this platform"
)
ENGINES = pytest.mark.parametrize(
    "prefilter",
    [pytest.param(True, id="hyperscan", marks=NO_HYPERSCAN), pytest.param(False, id="re2")],
)

KEYS = [" alpha ", " beta gamma ", " delt", " stay", " 2024 ", " \u0436 "]


@pytest.mark.parametrize(
    ("text", "admitted"),
    [
        ("Alpha!", True),
        ("the alphabet", False),
        ("beta -- gamma", True),
        ("beta, and gamma", False),
        ("betagamma", False),
        ("a Delta force", True),
        ("undelta", False),
        ("in 2024.", True),
        ("in 20245", False),
        ("nothing here", False),
        ("\u0436", False),  # not fast-path text: the caller never asks
    ],
)
@ENGINES
def test_key_gate_table(text: str, admitted: bool, prefilter: bool) -> None:
    folded = fast_fold(text) or b""
    gate = KeyGate(KEYS, prefilter=prefilter)
    assert gate.prefiltered is prefilter
    assert gate.admits(folded) is admitted


@pytest.mark.parametrize(
    ("text", "admitted"),
    [
        ("Stra\u00dfe alpha", True),
        ("Stra\u00dfe alphas", False),
        ("\u0436!", True),  # a non-ASCII key counts once the text is tokenized
        ("\u0416\u0416", False),
        ("Stra\u00dfe Beta and gamma", False),
        ("Stra\u00dfe Beta,  gamma", True),
        ("Stra\u00dfe stay\u00e9d", True),  # a prefix key
        ("Stra\u00dfe", False),
    ],
)
@ENGINES
def test_key_gate_on_tokenized_text(text: str, admitted: bool, prefilter: bool) -> None:
    assert fast_fold(text) is None
    gate = KeyGate(KEYS, prefilter=prefilter)
    assert gate.admits_joined(FieldText(text).joined) is admitted
    assert gate.admits_text(text, "alpha") is None
    assert gate.admits_text("alpha", text) is None


@ENGINES
def test_key_gate_does_not_cross_fields(prefilter: bool) -> None:
    gate = KeyGate(KEYS, prefilter=prefilter)
    assert not gate.admits(b"beta" + KeyGate.SEPARATOR + b"gamma")
    assert gate.admits(b"x alpha" + KeyGate.SEPARATOR + b"y")
    assert gate.admits(b"x" + KeyGate.SEPARATOR + b"alpha y")
    assert not gate.admits_text("beta", "gamma")
    assert gate.admits_text("Beta gamma", "")
    assert gate.admits_text("", "beta, gamma")


@ENGINES
def test_key_gate_without_usable_keys_admits_nothing(prefilter: bool) -> None:
    assert not KeyGate([], prefilter=prefilter).admits(b"alpha")
    assert not KeyGate([], prefilter=prefilter).admits_joined(" alpha ")
    assert KeyGate([], prefilter=prefilter).admits_text("alpha", "") is False
    only_cyrillic = KeyGate([" \u0436 "], prefilter=prefilter)
    assert not only_cyrillic.prefiltered
    assert not only_cyrillic.admits(b"anything at all")
    assert only_cyrillic.admits_text("anything", "at all") is False


@ENGINES
def test_key_gate_builds_for_thousands_of_keys(prefilter: bool) -> None:
    keys = [f" w{i:05d} x{i % 97} " for i in range(5000)] + [f" p{i:04d}" for i in range(2000)]
    keys += [f" v{i:04d} of the y{i % 13} " for i in range(2000)]
    gate = KeyGate(keys, prefilter=prefilter)
    assert gate.prefiltered is prefilter
    assert gate.size == 9000
    assert gate.admits(f"and w04999   x{4999 % 97} then".encode())
    assert gate.admits(b"p1999abc")
    assert not gate.admits(f"w04999 x{4998 % 97} p20".encode())
    assert gate.admits_text("", f"V1999: of\nthe y{1999 % 13}")
    assert gate.admits_text("", f"V1999: of\nthe{'  ' * 20}y{1999 % 13}")
    assert not gate.admits_text("", f"V1999 of the y{1998 % 13}")
    assert not gate.admits_text("v1999 of the", f"y{1999 % 13}")  # across the fields


KEY_WORDS = ["alpha", "beta", "gam", "2024", "x"]
TEXT_PIECES = [
    *KEY_WORDS, "Alphas", "BETA", " ", "  ", "-", ",", "\n", "\u2019", "\u00a3", ".", "-------",
]


@settings(max_examples=300, deadline=None)
@given(
    keys=st.lists(
        st.tuples(st.lists(st.sampled_from(KEY_WORDS), min_size=1, max_size=5), st.booleans()),
        max_size=5,
    ),
    pieces=st.lists(st.sampled_from(TEXT_PIECES), max_size=30),
)
@ENGINES
def test_key_gate_equals_a_joined_search(
    keys: list[tuple[list[str], bool]], pieces: list[str], prefilter: bool
) -> None:
    texts = [" " + " ".join(tokens) + ("" if prefix else " ") for tokens, prefix in keys]
    text = "".join(pieces)
    folded = fast_fold(text)
    assert folded is not None
    joined = FieldText(text).joined
    assert KeyGate(texts, prefilter=prefilter).admits(folded) == any(key in joined for key in texts)


# ---------------------------------------------------------------------------------------------
# RuleSet: when the gate is built, and that gated and ungated evaluation agree


def _rules(*whens: object) -> str:
    rules = [{"id": f"r{i}", "name": f"R{i}", "when": w} for i, w in enumerate(whens)]
    return json.dumps({"rules": rules})


@pytest.mark.parametrize(
    ("whens", "gated"),
    [
        ([{"any": ["Armenia"]}], True),
        ([{"all": ["Armenia", {"none": ["football"]}]}], True),
        ([{"any": ["re:arm.nia"]}], False),  # an anchor that is a regex
        ([{"all": [{"any": ["re:arm.nia", "Armenia"]}, "Yerevan"]}], True),  # regex not anchor
        ([{"any": ["Armenia"]}, {"none": ["football"]}], False),  # a rule with no anchor
        ([], True),
    ],
)
def test_when_the_gate_is_built(load_text: LoadText, whens: list[object], gated: bool) -> None:
    assert load_text(_rules(*whens)).gated is gated


def test_without_the_gate_when_re2_refuses(
    load_text: LoadText, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gate_module, "GATE_MAX_MEM", 1 << 10)
    ruleset = load_text(_rules({"any": ["Armenia", "Yerevan talks"]}))
    assert not ruleset.gated
    assert [m.rule_id for m in ruleset.evaluate(Article(id="a", title="", body="Armenia"))]


def test_a_reload_builds_its_own_gate(tmp_path: Path) -> None:
    path = tmp_path / "rules.yml"
    article = Article(id="a", title="Talks", body="Yerevan hosts the talks.")
    path.write_text(_rules({"any": ["Armenia"]}), encoding="utf-8")
    before = load_rules([path])
    path.write_text(_rules({"any": ["Yerevan"]}), encoding="utf-8")
    after = load_rules([path])
    assert before.evaluate(article) == []
    assert [m.rule_id for m in after.evaluate(article)] == ["r0"]


def test_a_gate_is_not_kept_by_the_re2_compile_cache(load_text: LoadText) -> None:
    """Each reload builds a new gate; re2.compile's module-wide cache would keep them all."""
    cache = re2._Regexp._make
    load_text(_rules({"any": ["Armenia"]}))
    before = cache.cache_info().misses
    for index in range(3):
        assert load_text(_rules({"any": [f"Armenia{index}", f"Yerevan talks {index}"]})).gated
    assert cache.cache_info().misses == before


PROPERTY_RULES = {
    "lists": {
        "members": {"Armenia": ["Armenian", "Yerevan"], "Russia": ["Kremlin", "Moscow"]},
        "absence": ["skip*", "stay* away", "no-show", "Arm\u00e9nie", "declin* to attend"],
    },
    "rules": [
        {"id": "near", "name": "N", "entity": "$members",
         "when": {"near": ["$members", "$absence"], "within": 4}},
        {"id": "phrase", "name": "P", "when": {"any": ["summit talks", "CSTO 2024"]}},
        {"id": "title", "name": "T", "when": {"any": ["Kremlin"], "fields": ["title"]}},
        {"id": "all", "name": "A",
         "when": {"all": ["Stra\u00dfe", "skip*", {"none": ["football"]}]}},
        {"id": "unicode", "name": "U", "when": {"any": ["\u041c\u043e\u0441\u043a\u0432\u0430"]}},
        {"id": "mixed", "name": "M",
         "when": {"all": [{"any": ["Moscow", "re:\\bkrem\\w+"]}, "no-show"]}},
    ],
}
WORDS = [
    "Armenia", "armenian", "YEREVAN", "Kremlin", "Moscow", "skip", "skipped", "stay", "stayed",
    "away", "no", "show", "summit", "talks", "CSTO", "2024", "Strasse", "Stra\u00dfe",
    "Arm\u00e9nie", "Armenie", "football", "\u041c\u043e\u0441\u043a\u0432\u0430", "kremlins",
    "declined", "to", "attend", "attending",
]
SEPARATORS = [
    " ", "  ", "\n", "\t", "-", "--", ",", ". ", "\u2019", "\u2014", "\u00a3", "\u00e9", "\u00df",
    "e\u0301", "\u0436",
]


def _load(paths: list[Path], prefilter: bool) -> RuleSet:
    """Rules whose gate uses hyperscan, or RE2 alone as on a platform without it."""
    with pytest.MonkeyPatch.context() as patch:
        if not prefilter:
            patch.setattr(gate_module, "hyperscan", None)
            patch.setattr(screens_module, "hyperscan", None)
        ruleset = load_rules(paths)
    assert ruleset.gate is not None
    assert ruleset.gate.prefiltered is prefilter
    return ruleset


@pytest.fixture(
    scope="module",
    params=[pytest.param(True, id="hyperscan", marks=NO_HYPERSCAN), pytest.param(False, id="re2")],
)
def property_rules(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> RuleSet:
    path = tmp_path_factory.mktemp("gate") / "rules.yml"
    path.write_text(json.dumps(PROPERTY_RULES), encoding="utf-8")
    return _load([path], request.param)


fields = st.lists(st.sampled_from(WORDS + SEPARATORS), max_size=40).map("".join)


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(title=fields, body=fields)
def test_gated_equals_ungated(property_rules: RuleSet, title: str, body: str) -> None:
    article = Article(id="a", title=title, body=body)
    assert property_rules.evaluate(article) == property_rules.evaluate(article, gate=False)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pairs=st.lists(st.tuples(fields, fields), max_size=6))
def test_a_batch_equals_one_at_a_time(
    property_rules: RuleSet, pairs: list[tuple[str, str]]
) -> None:
    articles = [Article(id=f"a{i}", title=t, body=b) for i, (t, b) in enumerate(pairs)]
    expected = [property_rules.evaluate(article, gate=False) for article in articles]
    assert property_rules.evaluate_many(articles) == expected
    # Given titles and bodies, an article is built only when the rules look at it closely:
    # every one that fired was, and with the prefilter, none the gate turned away.
    asked: list[int] = []

    def article(index: int) -> Article:
        asked.append(index)
        return articles[index]

    assert property_rules.evaluate_texts(pairs, article) == expected
    assert {i for i, found in enumerate(expected) if found} <= set(asked)
    gate = property_rules.gate
    assert gate is not None
    if not gate.prefiltered:  # each article is evaluated on its own, so each is built
        assert asked == list(range(len(pairs)))
        return
    for index, (title, body) in enumerate(pairs):
        if gate.admits_text(title, body) is False:
            assert index not in asked


@pytest.mark.parametrize(
    ("title", "body", "fired"),
    [
        ("Kremlin", "Yerevan -- will skip; summit  talks", {"near", "phrase", "title"}),
        ("Kremlin", "Arm\u00e9nie: Yerevan stayed away", {"near", "title"}),
        ("Caf\u00e9", "\u041c\u043e\u0441\u043a\u0432\u0430", {"unicode"}),
        ("Caf\u00e9", "summit talks", {"phrase"}),
        ("Stra\u00dfe", "skipping", {"all"}),
        ("Caf\u00e9", "Moscow; a no-show", {"mixed", "near"}),
        ("Caf\u00e9", "nothing to see", set()),
    ],
)
def test_the_property_texts_do_fire(
    property_rules: RuleSet, title: str, body: str, fired: set[str]
) -> None:
    """The property above compares real matches, not only empty lists; gated and not."""
    article = Article(id="a", title=title, body=body)
    assert {m.rule_id for m in property_rules.evaluate(article)} == fired
    assert {m.rule_id for m in property_rules.evaluate(article, gate=False)} == fired


# ---------------------------------------------------------------------------------------------
# The corpus: every article, the shipped packs and a generated rule set that fires often

REPO = Path(__file__).resolve().parents[3]
CORPUS = REPO.parent / "shared" / "corpus" / "bbc-news-2225.jsonl"
_WORD = re.compile(r"[a-z]{5,}")


@pytest.fixture(scope="module")
def corpus() -> list[Article]:
    if not CORPUS.exists():
        pytest.skip(f"corpus not found at {CORPUS}; the equivalence over it needs that file")
    with CORPUS.open(encoding="utf-8") as stream:
        return [Article.model_validate_json(line) for line in stream if line.strip()]


def _generated_rules(articles: list[Article]) -> str:
    """Rules from mid-frequency corpus words, so that many of them fire somewhere."""
    counts: dict[str, int] = {}
    for article in articles:
        for word in set(_WORD.findall(article.body.lower())):
            counts[word] = counts.get(word, 0) + 1
    words = sorted(w for w, n in counts.items() if 20 <= n <= 200)[::7][:240]
    rules = []
    for i in range(0, len(words) - 5, 6):
        a, b, c, d, e, f = words[i : i + 6]
        when: dict[str, object] = (
            {"all": [{"any": [a, f"{b} {c}"]}, {"near": [[d], [e[:4] + "*"]], "within": 12}]}
            if i % 12
            else {"any": [a, f[:5] + "*"], "fields": ["title"]}
        )
        rules.append({"id": f"g{i:03d}", "name": f"G{i}", "when": when})
    return json.dumps({"rules": rules})


@ENGINES
def test_corpus_gated_equals_ungated(
    corpus: list[Article], tmp_path: Path, prefilter: bool
) -> None:
    path = tmp_path / "generated.yml"
    path.write_text(_generated_rules(corpus), encoding="utf-8")
    fired = 0
    for ruleset in (_load([REPO / "rules"], prefilter), _load([path], prefilter)):
        each = []
        for article in corpus:
            gated = ruleset.evaluate(article)
            assert gated == ruleset.evaluate(article, gate=False), article.id
            fired += len(gated)
            each.append(gated)
        batches = [corpus[start : start + 200] for start in range(0, len(corpus), 200)]
        assert [found for batch in batches for found in ruleset.evaluate_many(batch)] == each
    assert fired > 50
