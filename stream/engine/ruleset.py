"""The loaded rules as one immutable object the worker swaps atomically on reload.

``evaluate`` scans an article once with the shared matcher, then evaluates only the rules
whose anchor terms occurred and whose required term sets all have a hit; the rest cost
nothing. Matches come back sorted by rule id, so the same article and rules always give the
same output in the same order.

A rule's anchor is the required group that looks rarest (phrases over single words, whole
words over prefixes), since every article with an anchor key pays for tokenizing and a full
scan.

Before that, an exact early reject: every rule needs a key of its anchor group, so when a
:class:`~stream.engine.gate.KeyGate` over all anchor keys finds none in the article's folded
bytes, no rule can fire and the article costs one byte pass and one literal scan (hyperscan;
RE2 where it is missing), with no token list or automaton scan. A field with non-ASCII word
characters is tokenized first and gated on its tokens. The gate is built per rule set (so a
reload rebuilds it, and dropping the rule set frees it) and is left out when a rule has no
anchor, an anchor is ``re:``, or RE2 refuses the key set. An article the gate admits then
meets a :class:`~stream.engine.screens.KeyPresence` screen (with hyperscan): the same literal
scan over every required key says whether any candidate rule has a key of each required
group, which most admitted articles fail, before they are tokenized. A phrase that goes on
after a prefix ("walk* out") counts only when a :class:`~stream.engine.screens.TailScreen` finds
it whole, since its key (" walk") alone is common.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date

from stream.engine.compiler import Group, Matcher, NearNode, Node, TermTable
from stream.engine.evaluate import CompiledRule, match_rule
from stream.engine.examples import CompiledExample, ExampleResult, check_example
from stream.engine.gate import GATE_MAX_MEM, KeyGate, build_gate
from stream.engine.groups import RequiredGroups
from stream.engine.screens import KeyPresence, TailScreen, build_presence, build_tails
from stream.engine.text import FieldText, fast_fold
from stream.models import Article, Match, RulePolicy

__all__ = ["GATE_MAX_MEM", "CompiledExample", "ExampleResult", "KeyGate", "RuleSet"]

# Anchor choice (see _breadth): weights that picked rarer anchor groups on real news.
_PHRASE_FACTOR = 0.2
_PREFIX_FACTOR = 3.0
_REGEX_BREADTH = 1000.0


class RuleSet:
    """Compiled rules plus the one matcher that serves them all."""

    def __init__(
        self,
        *,
        rules: Sequence[CompiledRule],
        table: TermTable,
        examples: Sequence[CompiledExample],
        version: str,
        files: tuple[str, ...],
        as_of: Mapping[str, date],
    ) -> None:
        self.version = version
        self.rules: tuple[CompiledRule, ...] = tuple(rules)
        self.examples: tuple[CompiledExample, ...] = tuple(examples)
        self.files = files
        self.as_of = dict(as_of)
        self._terms = table.terms
        self._matcher = Matcher(table)
        self._by_id = {rule.id: rule for rule in self.rules}
        # The prefilter works on matcher keys (one per distinct pattern), not term ids: an
        # article's keys are known before any occurrence is built.
        key_of = self._matcher.key_of
        key_text = self._matcher.key_text
        self._trigger: dict[int, list[int]] = {}
        self._always: list[int] = []
        self._required_keys: list[tuple[frozenset[int], ...]] = []
        self._rule_keys: list[frozenset[int]] = []
        for position, rule in enumerate(self.rules):
            required = tuple(frozenset(key_of[t] for t in group) for group in rule.required)
            self._required_keys.append(required)
            self._rule_keys.append(frozenset(key_of[t] for t in _rule_terms(rule)))
            if not rule.enabled:
                continue
            if not required:
                self._always.append(position)
                continue
            anchor = min(
                required, key=lambda keys: (sum(_breadth(key_text(k)) for k in keys), len(keys))
            )
            for key in anchor:
                self._trigger.setdefault(key, []).append(position)
        self._trigger_keys = frozenset(self._trigger)
        self._groups = RequiredGroups(self._required_keys)
        self._gate: KeyGate | None = None
        self._presence: KeyPresence | None = None
        if not self._always:
            self._gate = build_gate([key_text(key) for key in sorted(self._trigger_keys)])
        if self._gate is not None and self._gate.prefiltered:
            required_keys = {
                key
                for position, groups in enumerate(self._required_keys)
                if self.rules[position].enabled
                for group in groups
                for key in group
            }
            self._presence = build_presence({key: key_text(key) for key in sorted(required_keys)})
        # Terms behind each required key, and an exact check for those with a tail, so that
        # the screen can drop rules whose keys occur but whose phrases do not.
        self._key_terms: dict[int, list[tuple[int, bool]]] = {}
        self._tails: TailScreen | None = None
        if self._presence is not None:
            self._key_terms = {key: self._matcher.key_terms(key) for key in required_keys}
            tailed = {
                term: self._terms[term].parts
                for terms in self._key_terms.values()
                for term, has_tail in terms
                if has_tail
            }
            self._tails = build_tails(tailed)

    @property
    def gate(self) -> KeyGate | None:
        """The early-reject gate ``evaluate`` uses, if any (benchmarks time it alone)."""
        return self._gate

    @property
    def gated(self) -> bool:
        """Whether ``evaluate`` can reject an article before tokenizing it."""
        return self._gate is not None

    @property
    def term_count(self) -> int:
        """Distinct terms compiled into the matcher (shared by all rules)."""
        return len(self._terms)

    def __len__(self) -> int:
        return len(self.rules)

    def rule(self, rule_id: str) -> CompiledRule:
        """The compiled rule with this id (KeyError if unknown)."""
        return self._by_id[rule_id]

    def policy(self, rule_id: str) -> RulePolicy:
        """The rule's dedup/threshold/escalation policy; defaults for an unknown rule id.

        After a reload a match produced by the previous rule version may still be in flight,
        so an unknown id is not an error here.
        """
        rule = self._by_id.get(rule_id)
        return rule.policy if rule is not None else RulePolicy()

    def evaluate(self, article: Article, *, gate: bool = True) -> list[Match]:
        """Every enabled rule that fires on ``article``, one match per rule, sorted by id.

        ``gate=False`` skips the early reject; the result is the same, only slower, which is
        what the equivalence tests check.
        """
        key_gate = self._gate if gate else None
        padded = None if key_gate is None else key_gate.fold(article.title, article.body)
        if padded is not None:
            assert key_gate is not None
            if key_gate.admits_padded(padded) and self._may_fire(padded):
                return self._evaluate_text(article)
            return []
        if key_gate is None:
            fields = [FieldText(article.title), FieldText(article.body)]
        else:
            # A field with non-ASCII word characters is tokenized first, then gated.
            title, body = fast_fold(article.title), fast_fold(article.body)
            fields = [FieldText(article.title, title), FieldText(article.body, body)]
            if not (_admits(key_gate, fields[0], title) or _admits(key_gate, fields[1], body)):
                return []
        return self._evaluate_fields(article, fields)

    def evaluate_many(self, articles: Sequence[Article]) -> list[list[Match]]:
        """:meth:`evaluate` for each article; the gate answers for all of them in one scan.

        A scan costs about as much to start as to read an article, so a batch (the worker's
        intake hands over a couple of hundred articles at a time) pays that once.
        """
        return self.evaluate_texts([(a.title, a.body) for a in articles], articles.__getitem__)

    def evaluate_texts(
        self, texts: Sequence[tuple[str, str]], article: Callable[[int], Article]
    ) -> list[list[Match]]:
        """:meth:`evaluate_many` for articles given by title and body, built when needed.

        ``article(i)`` is the article whose title and body are ``texts[i]``. It is called only
        for the few articles that get past the gate and the screens (6 of 2,225 news articles
        with the shipped packs), so a caller holding validated fields builds those alone.
        """
        key_gate = self._gate
        if key_gate is None or not key_gate.prefiltered:
            return [self.evaluate(article(index)) for index in range(len(texts))]
        folds = [key_gate.fold(title, body) for title, body in texts]
        answers = iter(key_gate.admits_many([padded for padded in folds if padded is not None]))
        results: list[list[Match]] = []
        for index, padded in enumerate(folds):
            if padded is None:
                results.append(self.evaluate(article(index)))
            elif next(answers) and self._may_fire(padded):
                results.append(self._evaluate_text(article(index)))
            else:
                results.append([])
        return results

    def _evaluate_text(self, article: Article) -> list[Match]:
        """Tokenized evaluation of an article the screens let through."""
        return self._evaluate_fields(article, [FieldText(article.title), FieldText(article.body)])

    def _evaluate_fields(self, article: Article, fields: list[FieldText]) -> list[Match]:
        """Tokenized evaluation: the automaton, the rules' checks on terms, then the rules."""
        prescan = self._matcher.prescan(fields)
        present = prescan.present
        if not present and not self._always:
            return []
        # Cheap necessary condition first: every required set must have a key present.
        survivors = self._candidates(present)
        if not survivors:
            return []
        # Then on terms: a key present may still be a phrase whose tail is missing.
        # (Every present key is checked: a few dozen, where rules' key sets run to thousands.)
        occurring = self._matcher.occurring_terms(prescan, present)
        rules = self.rules
        survivors = [
            position
            for position in survivors
            if not any(map(occurring.isdisjoint, rules[position].required))
        ]
        if not survivors:
            return []
        rule_keys = [self._rule_keys[position] for position in survivors]
        needed_keys = {key for key in present if any(key in keys for keys in rule_keys)}
        hits = self._matcher.occurrences(prescan, needed_keys)
        terms_hit = hits.keys()
        matches = []
        for position in survivors:
            rule = self.rules[position]
            if any(map(terms_hit.isdisjoint, rule.required)):
                continue
            match = match_rule(rule, article, fields, hits, self._terms)
            if match is not None:
                matches.append(match)
        return matches

    def _candidates(self, present: set[int]) -> list[int]:
        """Positions of the rules that ``present`` keys trigger (or that need none) and that
        have a key of every required group among them, in rule order."""
        satisfied = self._groups.satisfied(present)
        of_rule = self._groups.of_rule
        trigger = self._trigger
        candidates = set(self._always)
        for key in present & self._trigger_keys:
            candidates.update(trigger[key])
        return [position for position in sorted(candidates) if of_rule[position] <= satisfied]

    def _may_fire(self, padded: bytes) -> bool:
        """The prescan's rule checks, on what the presence screen says may occur.

        First on keys (the automaton's, and every key the screen cannot spell), then on
        terms: a key's terms count as occurring, except that a phrase going on after a prefix
        key is looked for whole. So False means no rule survives the prescan's checks.
        """
        present = None if self._presence is None else self._presence.present(padded)
        if present is None:
            return True
        survivors = self._candidates(present)
        tails = self._tails
        if not survivors or tails is None:
            return bool(survivors)
        keys = present & self._key_terms.keys()
        occurring: set[int] = set()
        tailed: set[int] | None = None
        for key in keys:
            for term, has_tail in self._key_terms[key]:
                if not has_tail:
                    occurring.add(term)
                    continue
                if tailed is None:
                    tailed = tails.occurring(padded)
                    if tailed is None:  # the scratch is busy: cannot tell
                        return True
                if term in tailed:
                    occurring.add(term)
        rules = self.rules
        return any(
            not any(map(occurring.isdisjoint, rules[position].required))
            for position in survivors
        )

    def evaluate_rule(self, rule_id: str, article: Article) -> Match | None:
        """Evaluate a single rule (enabled or not), e.g. for its inline examples."""
        rule = self._by_id[rule_id]
        fields = [FieldText(article.title), FieldText(article.body)]
        hits = self._matcher.scan(fields)
        return match_rule(rule, article, fields, hits, self._terms)

    def run_examples(self, rule_ids: Iterable[str] | None = None) -> list[ExampleResult]:
        """Run inline examples (of ``rule_ids``, or all) and say which pass."""
        wanted = None if rule_ids is None else set(rule_ids)
        results = []
        for example in self.examples:
            if wanted is not None and example.rule_id not in wanted:
                continue
            match = self.evaluate_rule(example.rule_id, example.article)
            passed, reason = check_example(example.expect, match)
            results.append(ExampleResult(example, passed, reason, match))
        return results


def _breadth(text: str | None) -> float:
    """A rough, corpus-free guess of how often a key occurs, to choose anchors with.

    Each extra token of a phrase makes it rarer, and a prefix key covers many words; a
    ``re:`` key (None) cannot be gated at all, so it counts as very common. Only speed
    depends on it: any required group is a correct anchor.
    """
    if text is None:
        return _REGEX_BREADTH
    breadth = _PHRASE_FACTOR ** (len(text.split()) - 1)
    return breadth if text.endswith(" ") else breadth * _PREFIX_FACTOR


def _admits(gate: KeyGate, field_text: FieldText, folded: bytes | None) -> bool:
    if folded is None:
        return gate.admits_joined(field_text.joined)
    return gate.admits(folded)


def _rule_terms(rule: CompiledRule) -> set[int]:
    """Every term a rule can look at: its conditions' and its entity list's."""
    terms: set[int] = set(rule.entity_terms)
    stack: list[Node | Group] = [rule.root]
    while stack:
        item = stack.pop()
        if isinstance(item, Group):
            terms |= item.terms
        elif isinstance(item, NearNode):
            stack.extend(item.groups)
        else:
            stack.extend(item.items)
    return terms
