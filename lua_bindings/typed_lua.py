"""Type-erasing preprocessor for the typed Lua dialect (spec ``lua-api.md`` section 18).

Wippy Lua may carry gradual type annotations (``local x: string? = nil``, ``expr :: T``,
``type Alias = {...}``, ...). Stock Lua 5.4 cannot parse them, so every source goes through
:func:`erase_types` before it is compiled. Nothing is type-checked.

Design:

* A small tokenizer that lexes exactly like Lua 5.4 (long strings and comments, short strings
  with escapes, numerals, ``::``, ``...``, ``..``), plus the characters Lua does not know
  (``?``, ``!``, ``@``) as single-character tokens and ``->`` as one token. ``>`` is always a
  single token (``>=`` and ``>>`` become two tokens) so that generic argument lists such as
  ``Foo<Bar<T>>`` close naturally; no rule outside type context needs ``>=`` or ``>>``.
  Comments are not tokens.
* An eraser that walks the tokens, recognises the typed constructs of rules 2-7 of section
  18.2, and records which tokens to erase. Types are skipped greedily by a recursive
  ``_skip_*`` family that returns the index after the type, or ``None`` when the text is not
  a type; in that case the text is left alone and the Lua compiler reports the error.
* Only the characters of erased *tokens* are blanked: each becomes a space, newlines inside a
  token (a long-string literal type) are kept, and comments and whitespace between erased
  tokens are kept as they are. Line and column numbers are therefore unchanged, and since an
  erased token always turns into at least one space, neighbouring tokens can never merge.

Untyped Lua comes out byte-for-byte identical (the returned object is the input string when
nothing was erased), with the corners that the spec accepts: a statement ending in the bare
name ``type`` followed by a line ``Name = ...`` or ``Name<...`` is read as a type alias, and a
statement starting with a variable named ``as`` that follows an expression may be read as a
cast.
"""

from __future__ import annotations

import re
from itertools import chain

__all__ = ["erase_types", "tokenize"]

# fmt: off
_KEYWORDS = frozenset((
    "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if",
    "in", "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while",
))
# fmt: on
_NAME_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_DIGITS = frozenset("0123456789")

# One match per token: group 1 is the whitespace and comments before the token (comments are
# never tokens), group 3 the token itself; groups 2 and 4 only serve the long-bracket
# back-references. An unfinished long comment or long string runs to the end of the source,
# as in Lua; an unfinished short string stops at the end of its line. The token part always
# matches (the catch-all ``.`` and ``\Z``), so the gap part never backtracks, and the pieces
# of all matches concatenate back to the source. The frequent one-character punctuation is
# tried early for speed; characters that start longer tokens (``. : = - < ~ / [``) come later.
# ``>`` is always a token of its own, so ``>=`` / ``>>`` are two tokens (rule 1's splitting
# inside generic argument lists for free); no rule outside type context needs them whole.
# ``->`` is one token (it never occurs in valid Lua); ``?``, ``!`` and ``@`` are single
# characters that Lua does not know.
_TOKEN_RE = re.compile(
    r"""
    (
        [ \t\r\n\f\v]*
        (?: --(?: \[(=*)\[(?:.*?\]\2\]|.*) | [^\r\n]* ) [ \t\r\n\f\v]* )*
    )
    (
        [A-Za-z_][A-Za-z0-9_]*
      | [(),{}\];+*%^\#&|>]
      | 0[xX](?:[pP][+-]?|[0-9a-fA-F.])*
      | \.?[0-9](?:[eE][+-]?|[0-9a-fA-F.])*
      | \[(=*)\[(?:.*?\]\4\]|.*)
      | "(?:[^"\\\r\n]+|\\z[ \t\r\n\f\v]*|\\(?:\r\n?|\n\r?|.|\Z))*+"?
      | '(?:[^'\\\r\n]+|\\z[ \t\r\n\f\v]*|\\(?:\r\n?|\n\r?|.|\Z))*+'?
      | \.\.\.|\.\.|::|==|~=|<=|<<|//|->|[-/<=\[:.~]
      | .
      | \Z
    )
    """,
    re.VERBOSE | re.DOTALL,
)

# Token texts at which the eraser has something to decide; all other tokens are only
# looked at as context, which keeps the walk cheap.
_TRIGGERS = frozenset(("type", "interface", "as", "local", "function", "::", "!"))

_CLOSERS = {"(": ")", "[": "]", "{": "}"}
_CLOSING = frozenset(_CLOSERS.values())

# Tokens after which ``::`` / ``as`` / ``!`` apply to an expression (rule 5); names, strings
# and numbers are recognised by their first character.
_EXPR_END_TEXTS = frozenset(("nil", "true", "false", ")", "]", "}", "..."))

# Tokens that cannot precede a ``type`` / ``interface`` declaration (rule 2). ``goto`` is
# added to the spec's list so that ``goto type`` followed by ``foo = 1`` stays untouched.
_NOT_BEFORE_DECL = frozenset((".", ":", "local", "function", "goto"))

_NON_NEWLINE = re.compile(r"[^\r\n]")

# Lookahead never goes more than a few tokens past the end marker; padding the token list
# with empty texts saves bounds checks everywhere.
_PADDING = 8


def _lex(source: str) -> tuple[list[str], list[str]]:
    """Split ``source`` into ``(gaps, texts)``: ``gaps[k]`` is the whitespace and comments
    before token ``texts[k]``. The last token is ``""`` (end of source), and
    ``"".join(gap + text for gap, text in zip(gaps, texts)) == source``.
    """
    gaps: list[str] = []
    texts: list[str] = []
    for gap, _, text, _ in _TOKEN_RE.findall(source):
        gaps.append(gap)
        texts.append(text)
        if not text:
            break
    return gaps, texts


def tokenize(source: str) -> list[str]:
    """The Lua 5.4 tokens of ``source`` (whitespace and comments dropped), as texts."""
    return _lex(source)[1][:-1]


def _is_name(text: str) -> bool:
    """An identifier (contextual words such as ``type`` and ``as`` included), not a keyword."""
    return text[:1] in _NAME_START and text not in _KEYWORDS


def _is_literal(text: str) -> bool:
    """A string or number token."""
    first = text[:1]
    return (
        first in _DIGITS
        or first == '"'
        or first == "'"
        or (len(text) > 1 and (first == "[" or (first == "." and text[1] in _DIGITS)))
    )


def _ends_expression(text: str) -> bool:
    return _is_name(text) or _is_literal(text) or text in _EXPR_END_TEXTS


def _blank(text: str) -> str:
    if "\n" in text or "\r" in text:
        return _NON_NEWLINE.sub(" ", text)
    return " " * len(text)


def erase_types(source: str) -> str:
    """Return ``source`` with all type annotations of the typed Lua dialect blanked out.

    Every erased character becomes a space and every newline is kept, so line and column
    numbers are unchanged. Untyped Lua is returned unchanged (the very same string). Text
    that cannot be understood is left as it is, so that the Lua compiler reports it.
    """
    gaps, texts = _lex(source)
    ranges = _Eraser(texts, gaps).run()
    if not ranges:
        return source
    out = list(texts)
    for first, stop in ranges:
        for k in range(first, stop):
            out[k] = _blank(texts[k])
    return "".join(chain.from_iterable(zip(gaps, out, strict=True)))


class _Eraser:
    """Walks the tokens and collects ranges ``[first, stop)`` of token indices to erase.

    Ranges are recorded in increasing, non-overlapping order, which lets
    :meth:`_kept_before` find the last token that survives erasure: casts and ``!`` look at
    that token, so ``x! :: T`` and ``(a :: A) :: B`` see the expression, not the erased type.
    """

    def __init__(self, texts: list[str], gaps: list[str]) -> None:
        self.eof = len(texts) - 1
        self.t = texts + [""] * _PADDING
        self.gaps = gaps
        self.ranges: list[tuple[int, int]] = []

    # -- small helpers ------------------------------------------------------------------

    def _name(self, i: int) -> bool:
        return _is_name(self.t[i])

    def _erase(self, first: int, stop: int) -> None:
        if stop > first:
            self.ranges.append((first, stop))

    def _kept_before(self, i: int) -> str | None:
        """The last token before index ``i`` that is not erased (``None`` at the start)."""
        k = i - 1
        for first, stop in reversed(self.ranges):
            if first <= k < stop:
                k = first - 1
            elif stop <= k:
                break
        return self.t[k] if k >= 0 else None

    def _after_expression(self, i: int) -> bool:
        prev = self._kept_before(i)
        return prev is not None and _ends_expression(prev)

    # -- main walk ------------------------------------------------------------------------

    def run(self) -> list[tuple[int, int]]:
        """Visit each trigger token once, in order, skipping those a handler consumed."""
        t = self.t
        resume = 0  # first token index not yet consumed by a handler
        for i in [k for k, text in enumerate(t[: self.eof]) if text in _TRIGGERS]:
            if i < resume:
                continue
            text = t[i]
            if text == "local":
                j: int | None = self._local(i)
            elif text == "function":
                j = self._function(i)
            elif text == "::":
                j = self._double_colon(i)
            elif text == "!":
                j = self._bang(i)
            elif text == "as":
                j = self._cast(i) if self._after_expression(i) else None
            else:  # "type" or "interface"
                j = self._declaration(i)
            resume = j if j is not None else i + 1
        return self.ranges

    def _declaration(self, i: int) -> int | None:
        """Rule 2: delete a ``type`` alias or ``interface`` declaration starting at ``i``."""
        prev = self._kept_before(i)
        if prev is not None and prev in _NOT_BEFORE_DECL:
            return None
        end = self._type_alias(i) if self.t[i] == "type" else self._interface(i)
        if end is None:
            return None
        self._erase(i, end)
        return end

    def _double_colon(self, i: int) -> int | None:
        """``::name::`` is a goto label (checked first); otherwise maybe a ``::`` cast."""
        if self._name(i + 1) and self.t[i + 2] == "::":
            return i + 3
        if self._after_expression(i):
            return self._cast(i)
        return None

    def _cast(self, i: int) -> int | None:
        """Rule 5: erase the cast operator at ``i`` and the type after it, if there is one."""
        end = self._skip_type(i + 1)
        if end is None:
            return None
        self._erase(i, end)
        return end

    def _bang(self, i: int) -> int:
        """Rule 6: postfix ``expr!``. ``a != b`` (not Lua either) is left for the compiler."""
        if self.gaps[i + 1] == "" and self.t[i + 1].startswith("="):
            return i + 1
        if self._after_expression(i):
            self._erase(i, i + 1)
        return i + 1

    def _local(self, i: int) -> int:
        """Rule 3: ``local n1 [<attrib>] [: T1], n2 ... [= exprlist]``; erase each ``: T``.

        Returns the index of the first token after the name list (``=`` or the next
        statement), so that the walk handles the initialisers.
        """
        t = self.t
        j = i + 1
        while self._name(j):
            j += 1
            if t[j] == "<" and self._name(j + 1) and t[j + 2] == ">":
                j += 3
            if t[j] == ":":
                end = self._skip_type(j + 1)
                if end is None:
                    return j
                self._erase(j, end)
                j = end
            if t[j] != ",":
                break
            j += 1
        return j

    def _function(self, i: int) -> int:
        """Rule 4: a function header ``function [a.b:c] [<T>] (params) [: R]``.

        Erases generic parameters, parameter types (also after ``...``) and the return
        annotation. Returns the index of the first token of the body, or of the first token
        it could not make sense of (the walk carries on from there).
        """
        t = self.t
        j = i + 1
        if self._name(j):
            j += 1
            while t[j] == "." and self._name(j + 1):
                j += 2
            if t[j] == ":" and self._name(j + 1):
                j += 2
        if t[j] == "<":
            end = self._skip_generic_params(j)
            if end is None or t[end] != "(":
                return j
            self._erase(j, end)
            j = end
        if t[j] != "(":
            return j
        j += 1
        while t[j] != ")":
            if not (self._name(j) or t[j] == "..."):
                return j
            j += 1
            if t[j] == ":":
                end = self._skip_type(j + 1)
                if end is None:
                    return j
                self._erase(j, end)
                j = end
            if t[j] == ",":
                j += 1
            elif t[j] != ")":
                return j
        j += 1
        # A single ':' after the header's ')' starts a return annotation; '::' would be a
        # goto label at the start of the body and is a different token.
        if t[j] == ":":
            end = self._skip_type_list(j + 1)
            if end is not None:
                self._erase(j, end)
                j = end
        return j

    # -- declarations (rule 2) --------------------------------------------------------------

    def _type_alias(self, i: int) -> int | None:
        """``type Name [<Params>] = TypeExpr``; returns the index after it, or ``None``."""
        j = self._declared_name(i)
        if j is None or self.t[j] != "=":
            return None
        return self._skip_type(j + 1)

    def _declared_name(self, i: int) -> int | None:
        """``Name [<Params>]`` after the keyword at ``i``; the index after it, or ``None``."""
        j = i + 1
        if not self._name(j):
            return None
        j += 1
        if self.t[j] == "<":
            return self._skip_generic_params(j)
        return j

    def _interface(self, i: int) -> int | None:
        """``interface Name [<Params>] [: A, B] members end``.

        The whole declaration must parse, otherwise nothing is erased: ``x = interface``
        followed by ``foo = 1`` is valid untyped Lua and must survive.
        """
        t = self.t
        j = self._declared_name(i)
        if j is None:
            return None
        if t[j] == ":":
            end = self._skip_type_list(j + 1)
            if end is None:
                return None
            j = end
        while t[j] != "end":
            end = self._skip_interface_member(j)
            if end is None:
                return None
            j = end
            if t[j] == "," or t[j] == ";":
                j += 1
        return j + 1

    def _skip_interface_member(self, j: int) -> int | None:
        """``[readonly] name[?]: T``, ``[K]: V``, ``name(params): R`` or ``function name(...)``."""
        t = self.t
        if t[j] == "function":
            j += 1
            if not self._name(j):
                return None
            j += 1
            if t[j] == "<":
                end = self._skip_generic_params(j)
                if end is None:
                    return None
                j = end
            if t[j] != "(":
                return None
            return self._skip_signature_rest(j)
        if t[j] == "readonly" and (self._name(j + 1) or t[j + 1] == "["):
            j += 1
        if self._name(j):
            j += 1
        elif t[j] == "[":
            end = self._skip_balanced(j)
            if end is None:
                return None
            j = end
        else:
            return None
        if t[j] == "?":
            j += 1
        if t[j] == "(":
            return self._skip_signature_rest(j)
        if t[j] != ":":
            return None
        return self._skip_type(j + 1)

    def _skip_signature_rest(self, j: int) -> int | None:
        """``(params) [: R]`` of a method signature inside an interface."""
        end = self._skip_balanced(j)
        if end is not None and self.t[end] == ":":
            end = self._skip_type(end + 1)
        return end

    # -- type expressions (rule 7) ------------------------------------------------------------

    def _skip_type_list(self, j: int) -> int | None:
        """``T {, T}``; stops before a ``,`` that is not followed by a type."""
        end = self._skip_type(j)
        if end is None:
            return None
        while self.t[end] == ",":
            nxt = self._skip_type(end + 1)
            if nxt is None:
                break
            end = nxt
        return end

    def _skip_type(self, j: int) -> int | None:
        """A type expression: members joined by ``|`` or ``&`` (a leading one is allowed)."""
        t = self.t
        if t[j] == "|" or t[j] == "&":
            j += 1
        end = self._skip_member(j)
        if end is None:
            return None
        while t[end] == "|" or t[end] == "&":
            nxt = self._skip_member(end + 1)
            if nxt is None:
                break
            end = nxt
        return end

    def _skip_member(self, j: int) -> int | None:
        """A primary followed by any number of ``?``, ``[]``, ``[T]`` and ``@name(args)``."""
        t = self.t
        end = self._skip_primary(j)
        if end is None:
            return None
        while True:
            text = t[end]
            if text == "?":
                end += 1
            elif text == "[":
                if t[end + 1] == "]":
                    end += 2
                    continue
                inner = self._skip_type(end + 1)
                if inner is None or t[inner] != "]":
                    return end
                end = inner + 1
            elif text == "@" and self._name(end + 1):
                end += 2
                if t[end] == "(":
                    args = self._skip_balanced(end)
                    if args is None:
                        return end
                    end = args
            else:
                return end

    def _skip_primary(self, j: int) -> int | None:
        """One primary type (rule 7); ``None`` if the token at ``j`` cannot start a type."""
        t = self.t
        text = t[j]
        if self._name(j):
            if t[j + 1] == "(":
                if text == "fun":
                    return self._skip_signature_rest(j + 1)
                if text == "typeof" or text == "keyof":
                    return self._skip_balanced(j + 1)
            if text == "readonly" and t[j + 1] == "{":
                return self._skip_balanced(j + 1)
            end = j + 1
            while t[end] == "." and self._name(end + 1):
                end += 2
            if t[end] == "<":
                args = self._skip_type_args(end)
                if args is not None:
                    end = args
            return end
        if text in ("nil", "true", "false") or _is_literal(text):
            return j + 1
        if text == "{":
            return self._skip_balanced(j)
        if text == "(":
            group = self._skip_balanced(j)
            if group is not None and t[group] == "->":
                return self._skip_type(group + 1)
            return group
        if text == "...":
            return self._skip_member(j + 1)
        return None

    def _skip_type_args(self, j: int) -> int | None:
        """``<T {, T}>`` after a type name; ``None`` if it is not one (e.g. ``a :: T < b``)."""
        end = j + 1
        if self.t[end] != ">":
            listed = self._skip_type_list(end)
            if listed is None or self.t[listed] != ">":
                return None
            end = listed
        return end + 1

    def _skip_generic_params(self, j: int) -> int | None:
        """``<T, U: Constraint, V = Default, ...>`` in a function header or a declaration."""
        t = self.t
        end = j + 1
        while True:
            if t[end] == "...":
                end += 1
            if not self._name(end):
                return None
            end += 1
            if t[end] == "...":
                end += 1
            for keywords in ((":", "extends"), ("=",)):
                if t[end] in keywords:
                    skipped = self._skip_type(end + 1)
                    if skipped is None:
                        return None
                    end = skipped
            if t[end] == ">":
                return end + 1
            if t[end] != ",":
                return None
            end += 1

    def _skip_balanced(self, j: int) -> int | None:
        """Skip the bracketed group opened at ``j`` as one unit; ``None`` if unbalanced."""
        t = self.t
        stack: list[str] = []
        for k in range(j, self.eof):
            text = t[k]
            closer = _CLOSERS.get(text)
            if closer is not None:
                stack.append(closer)
            elif text in _CLOSING:
                if not stack or stack.pop() != text:
                    return None
                if not stack:
                    return k + 1
        return None
