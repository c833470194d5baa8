"""Each generated TypedDict's keys written once: shared bases per group of types.

A key's declaration is its name, value type, requiredness and deprecation comment. Types
that declare a key alike share it through one private base, whose members are exactly the
types declaring it so. Every such group of two or more types becomes a base, holding the
keys only they share and inheriting the wider bases (so a base is all that its members
declare alike); what one type alone declares stays in its class, and its @type in a
one-key dict beside it (the class syntax takes identifiers only). No key is declared
twice among a type's bases, so no TypedDict redefines an inherited key, which neither
Python nor mypy allows.
"""

from __future__ import annotations

import re
import textwrap
import typing as t
from collections.abc import Callable
from dataclasses import dataclass

#: The longest line the generated modules write without a noqa comment for E501.
WIDTH = 99


class Declaration(t.NamedTuple):
    """One key of a TypedDict, as its source writes it."""

    key: str  # "@type", "name"
    annotation: str  # source: "Required['str']", "'str | None'"
    deprecation: str | None  # OpenActive's guidance, for a "# Deprecated:" comment

    @property
    def required(self) -> bool:
        return self.annotation.startswith("Required[")


@dataclass
class Base:
    """A private TypedDict of the declarations its members (two or more types) share."""

    name: str
    members: tuple[str, ...]
    declarations: list[Declaration]
    module: str


class Layout:
    """Which declarations each type has in common with which others, as bases."""

    def __init__(
        self,
        declared: dict[str, list[Declaration]],
        families: dict[str, set[str]],
        module: Callable[[str], str],
        shared: str,
    ) -> None:
        holders: dict[Declaration, list[str]] = {}
        for name in sorted(declared):
            for declaration in declared[name]:
                holders.setdefault(declaration, []).append(name)
        signatures: dict[tuple[str, ...], list[Declaration]] = {}
        for declaration, names in holders.items():
            signatures.setdefault(tuple(names), []).append(declaration)
        self.own = {names[0]: decls for names, decls in signatures.items() if len(names) == 1}
        bases = []
        for members, declarations in signatures.items():
            if len(members) > 1:
                modules = {module(name) for name in members}
                home = modules.pop() if len(modules) == 1 else shared
                name = _name(members, declarations, families)
                bases.append(Base(name, members, sorted(declarations, key=_order), home))
        _disambiguate(bases)
        self.bases = sorted(bases, key=lambda base: (-len(base.members), base.name))
        self.parents: dict[str, list[Base]] = {}
        reach: dict[str, set[str]] = {}  # each base's name: the bases it reaches, itself too
        for base in self.bases:  # the widest first: a base's wider ones are known before it
            wider = [b for b in self.bases if set(b.members) > set(base.members)]
            keyed = all(d.key.isidentifier() for d in base.declarations)
            self.parents[base.name] = _fewest(wider, reach) if keyed else []
            reach[base.name] = {base.name}.union(*(reach[b.name] for b in self.parents[base.name]))
        self._reach = reach

    def bases_of(self, name: str) -> list[Base]:
        """The fewest bases through which ``name`` inherits every base it is a member of."""
        return _fewest([base for base in self.bases if name in base.members], self._reach)

    def in_module(self, module: str) -> list[Base]:
        """The bases a module defines as a tree: those that inherit none by name, each
        followed by the narrower ones that inherit it (by name, once all theirs are placed)."""
        ordered: list[Base] = []
        done: set[str] = set()
        by_name = sorted(self.bases, key=lambda base: base.name)

        def place(base: Base) -> None:
            ordered.append(base)
            done.add(base.name)
            for narrower in by_name:
                parents = {parent.name for parent in self.parents[narrower.name]}
                if narrower.name not in done and base.name in parents and parents <= done:
                    place(narrower)

        for base in by_name:
            if base.name not in done and not self.parents[base.name]:
                place(base)
        return [base for base in ordered if base.module == module]


def _fewest(bases: list[Base], reach: dict[str, set[str]]) -> list[Base]:
    """Of these bases, the narrowest ones, through which all of them are inherited (a base
    with a key that is no identifier, such as @id, is TypedDict's functional syntax, which
    inherits nothing: it is inherited beside the wider ones)."""
    chosen: list[Base] = []
    covered: set[str] = set()
    for base in sorted(bases, key=lambda b: (len(b.members), b.name)):
        if base.name not in covered:
            chosen.append(base)
            covered |= reach[base.name]
    return sorted(chosen, key=lambda b: (-len(b.members), b.name))


def _order(declaration: Declaration) -> tuple[bool, bool, str]:
    """The generated order: @type, @id, then the properties alphabetically."""
    return declaration.key != "@type", declaration.key != "@id", declaration.key


def _and(names: t.Sequence[str]) -> str:
    return names[0] if len(names) == 1 else "".join(names[:-1]) + "And" + names[-1]


def _name(
    members: tuple[str, ...], declarations: list[Declaration], families: dict[str, set[str]]
) -> str:
    """A base's name. It holds what its members declare alike (inheriting what they share
    with more types), so it is named after them where they are up to three OpenActive types
    with all their subclasses: ``_EventProperties``, ``_OrganizationAndPersonProperties``;
    else after its own keys, which its members are the types with: ``_WithOptionalName``."""
    roots: list[str] = []
    covered: set[str] = set()
    whole = True  # every root's subclasses are members too
    for name in sorted(members, key=lambda n: (-len(families[n]), n)):
        if name not in covered:
            roots.append(name)
            covered |= families[name] & set(members)
            whole = whole and families[name] <= set(members)
    by_types = f"_{_and(sorted(roots))}Properties"
    if whole and len(roots) <= 3 and len(by_types) <= 42:
        return by_types
    keys = [d.key.lstrip("@") for d in sorted(declarations, key=_order)]
    kind = {d.required for d in declarations}
    prefix = "" if len(kind) > 1 else "Required" if kind == {True} else "Optional"
    return f"_With{prefix}{_and([key[0].upper() + key[1:] for key in keys])}"


def _disambiguate(bases: list[Base]) -> None:
    """Name apart bases that got the same name (the same key with other value types)."""
    named: dict[str, list[Base]] = {}
    for base in bases:
        named.setdefault(base.name, []).append(base)
    for same in named.values():
        if len(same) > 1:
            for base in same:
                words = re.findall(r"[A-Za-z]+", base.declarations[0].annotation)
                kept = [w for w in words if w not in ("Required", "None")]
                base.name += "As" + "Or".join(w[0].upper() + w[1:] for w in kept)


def _wrapped(text: str, prefix: str) -> list[str]:
    return textwrap.wrap(text, WIDTH - len(prefix), initial_indent=prefix,
                         subsequent_indent=prefix)


def _fit(line: str) -> str:
    return line if len(line) <= WIDTH else f"{line}  # noqa: E501"


def _docstring(summary: str, notes: list[str]) -> list[str]:
    one_line = f'    """{summary}"""'
    if not notes and len(one_line) <= WIDTH:
        return [one_line]
    first, *rest = textwrap.wrap(summary, WIDTH - 7)
    lines = [f'    """{first}', *[f"    {line}" for line in rest]]
    for note in notes:
        lines += ["", *_wrapped(note, "    ")]
    return [*lines, '    """']


def _keys(declarations: list[Declaration], identifiers: bool) -> list[str]:
    """A TypedDict's key lines: ``key: type`` in a class, ``'key': type,`` in a dict."""
    lines = []
    for declaration in declarations:
        if declaration.deprecation:
            lines += _wrapped(f"Deprecated: {declaration.deprecation}", "    # ")
        key = declaration.key if identifiers else repr(declaration.key)
        end = "" if identifiers else ","
        lines.append(_fit(f"    {key}: {declaration.annotation}{end}"))
    return lines


def typed_dict(
    name: str, declarations: list[Declaration], about: list[str], parents: t.Sequence[str] = ()
) -> list[str]:
    """The source of a TypedDict of these keys (total=False; Required where required):
    class syntax where every key is an identifier, else the functional syntax (which
    inherits nothing: ``parents`` are for the class syntax)."""
    comment = [line for text in about for line in _wrapped(text, "#: ")]
    if all(d.key.isidentifier() for d in declarations):
        header = _class_header(name, [*(parents or ["TypedDict"]), "total=False"])
        return [*comment, *header, *_keys(declarations, True)]
    if len(declarations) == 1 and not declarations[0].deprecation:
        key, annotation = declarations[0].key, declarations[0].annotation
        line = f"{name} = TypedDict({name!r}, {{{key!r}: {annotation}}}, total=False)"
        return [*comment, _fit(line)]
    opening = f"{name} = TypedDict({name!r}, {{"
    if len(opening) <= WIDTH:
        return [*comment, opening, *_keys(declarations, False), "}, total=False)"]
    indented = [f"    {line}" for line in _keys(declarations, False)]
    return [*comment, f"{name} = TypedDict(", f"    {name!r},", "    {", *indented,
            "    },", "    total=False,", ")"]


def public_class(
    name: str, bases: list[str], summary: str, notes: list[str], own: list[Declaration]
) -> list[str]:
    """The source of public type ``name``: a TypedDict class of its bases, its docstring,
    and the keys only it declares."""
    header = _class_header(name, [*bases, "total=False"] if own else bases)
    return [*header, *_docstring(summary, notes), *(["", *_keys(own, True)] if own else [])]


def _class_header(name: str, bases: list[str]) -> list[str]:
    one_line = f"class {name}({', '.join(bases)}):"
    if len(one_line) <= WIDTH:
        return [one_line]
    return [f"class {name}(", *_wrapped(", ".join(bases) + ",", "    "), "):"]


def members_text(members: t.Sequence[str]) -> str:
    """``A, B and C``."""
    return ", ".join(members[:-1]) + " and " + members[-1] if len(members) > 1 else members[0]
