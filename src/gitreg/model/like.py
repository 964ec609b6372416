"""SQL LIKE patterns for the `--filter` language (`gitreg.model.query`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

ANY_RUN, ANY_ONE = None, ""  # LIKE's `%` and `_`; every other atom is one literal character


@dataclass(frozen=True)
class LikePattern:
    """A SQL LIKE pattern (`%` any run, `_` one character, `\\%`/`\\_` themselves), matched in
    O(len(text) x len(pattern)) at worst, never by backtracking regular expressions."""

    atoms: tuple[str | None, ...]  # folded already when `ignore_case` (`like_pattern`)
    ignore_case: bool

    def fullmatch(self, text: str) -> bool:
        atoms = self.atoms
        t = text.casefold() if self.ignore_case else text
        i = j = 0
        star, mark = -1, 0
        while i < len(t):
            if j < len(atoms) and atoms[j] is not ANY_RUN and atoms[j] in (ANY_ONE, t[i]):
                i, j = i + 1, j + 1
            elif j < len(atoms) and atoms[j] is ANY_RUN:
                star, mark, j = j, i, j + 1
            elif star >= 0:
                mark += 1
                i, j = mark, star + 1
            else:
                return False
        return all(a is ANY_RUN for a in atoms[j:])


def like_pattern(pattern: str, ignore_case: bool) -> LikePattern:
    parts = re.findall(r"\\.|.", pattern, re.DOTALL)  # \% and \_ stand for themselves
    wild = {"%": ANY_RUN, "_": ANY_ONE}
    atoms = tuple(wild[p] if p in wild else p[-1] for p in parts)
    if ignore_case:  # once, not per record: a letter may fold to several ("ß" -> "ss")
        atoms = tuple(c for a in atoms for c in ([a] if not a else list(a.casefold())))
    return LikePattern(atoms, ignore_case)
