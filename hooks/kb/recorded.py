"""Reads of the knowledge base recorded as they happen, so that a later build redoes only the reads whose inputs changed.

Under ``mkdocs serve`` every page's fingerprint (hooks.site.fingerprints) is made of what its
fragments read (hooks.kb.fragments). Reading all of them again after each save costs a second at
10,000 notes; most of it reads what did not change. Here each read is a value kept with the entries of
the knowledge base it looked at, and those are not written down by anyone: the knowledge base a
read is given is a :class:`Tracked` view whose every table notes each key read (iterating a table
notes the whole table). On the next build each table is compared with the previous build's
(:meth:`Reads.begin`); a kept value is dropped when an entry it read changed, or a kept value it used,
and read again when asked for. A read cannot depend on an entry without having looked it up through
the view, so nothing it depends on can be missed. An entry that is a record (a dataclass, such as a
page's ``PageInfo``) is handed out as a view noting each field read, so a read that looked at a page's
title and date is kept when only the page's text changed.

Outside serve nothing is kept between builds and the fragments read the knowledge base itself.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Callable, Hashable, Iterator

ALL = "\x00all"  # the key under which a read of a whole table is noted (no src_uri is this)
EXISTS = "\x00exists"  # the field under which a read that was handed a record is noted (no record has it: equal while both exist)
_MISSING = object()


class Reads:
    """The values of one site's reads, kept from build to build, each with what it read."""

    def __init__(self) -> None:
        self.values: dict[Hashable, Any] = {}
        self.dependents: dict[tuple, set] = {}  # (table, key) or ("", read) -> reads that looked at it
        self.tables: dict[str, Mapping] = {}  # the tables the kept values were read from
        self.fields: dict[tuple, set[str]] = {}  # (table, key) -> the fields of that record some read looked at
        self._open: list[set] = []  # what each read in progress looked at so far

    def begin(self, tables: Mapping[str, Mapping]) -> set[tuple]:
        """The reads now look at ``tables`` (the knowledge base's and others, by name): drop every kept
        value that read an entry that differs from the one the table of that name held before (a key
        added or removed differs too). Returns the changed entries."""
        changed: set[tuple] = set()
        for name, table in tables.items():
            before = self.tables.get(name)
            if before is None or before is table:  # a table new to these reads: nothing read it yet
                continue
            keys = [k for k, new in table.items() if (old := before.get(k, _MISSING)) is not new and old != new]
            if len(table) - sum(1 for k in keys if k not in before) != len(before):  # some keys are gone
                keys += [k for k in before if k not in table]
            if keys:
                changed.add((name, ALL))
                for k in keys:
                    changed.add((name, k))
                    old, new = before.get(k, _MISSING), table.get(k, _MISSING)
                    for attr in self.fields.get((name, k), ()):  # the fields read of a record: each compared
                        if old is _MISSING or new is _MISSING or getattr(old, attr, _MISSING) != getattr(new, attr, _MISSING):
                            changed.add((name, k, attr))
        self.tables.update(tables)
        self.forget(changed)
        return changed

    def forget(self, entries: set[tuple]) -> None:
        """Drop the kept values that read any of ``entries``, and those that used them."""
        work = [self.dependents.pop(entry, ()) for entry in entries]
        while work:
            for key in work.pop():
                if self.values.pop(key, _MISSING) is not _MISSING:
                    work.append(self.dependents.pop(("", key), ()))

    def note(self, table: str, key: Hashable) -> None:
        if self._open:
            self._open[-1].add((table, key))

    def note_field(self, table: str, key: Hashable, attr: str) -> None:
        if self._open:
            self._open[-1].add((table, key, attr))
            self.fields.setdefault((table, key), set()).add(attr)

    def get(self, key: Hashable, make: Callable[[], Any]) -> Any:
        """The value of the read ``key``: kept, or made now with what it looks at noted."""
        value = self.values.get(key, _MISSING)
        if value is _MISSING:
            self._open.append(set())
            try:
                value = make()
            finally:
                seen = self._open.pop()
            self.values[key] = value
            for entry in seen:
                self.dependents.setdefault(entry, set()).add(key)
        if self._open:  # the read in progress used this one: it is dropped with it
            self._open[-1].add(("", key))
        return value


class _Record:
    """An entry of a table that is a record (a dataclass instance), noting each field read of it:
    ``(table, key, field)``. A method or property reads through to the record itself (a method, compared
    from build to build, differs whenever the record does: whatever it reads is covered)."""

    __slots__ = ("_value", "_table", "_key", "_reads")

    def __init__(self, value: Any, table: str, key: Hashable, reads: Reads) -> None:
        object.__setattr__(self, "_value", value)
        object.__setattr__(self, "_table", table)
        object.__setattr__(self, "_key", key)
        object.__setattr__(self, "_reads", reads)

    def __getattr__(self, attr: str) -> Any:
        self._reads.note_field(self._table, self._key, attr)
        return getattr(self._value, attr)

    def __setattr__(self, attr: str, value: Any) -> None:
        raise AttributeError("a tracked view is read-only")

    def __eq__(self, other: object) -> bool:
        self._reads.note(self._table, self._key)
        return self._value == (other._value if isinstance(other, _Record) else other)

    def __hash__(self) -> int:
        self._reads.note(self._table, self._key)
        return hash(self._value)


def _is_record(value: Any) -> bool:
    return dataclasses.is_dataclass(value) and not isinstance(value, type)


class _Table(Mapping):
    """One table of the knowledge base that notes every key looked up in it (a record: each field read)."""

    __slots__ = ("_data", "_name", "_reads")

    def __init__(self, data: Mapping, name: str, reads: Reads) -> None:
        self._data, self._name, self._reads = data, name, reads

    def _entry(self, key: Hashable, value: Any) -> Any:
        if _is_record(value):
            self._reads.note_field(self._name, key, EXISTS)  # that there is one, even if no field is read
            return _Record(value, self._name, key, self._reads)
        self._reads.note(self._name, key)
        return value

    def __getitem__(self, key: Hashable) -> Any:
        value = self._data.get(key, _MISSING)
        if value is _MISSING:
            self._reads.note(self._name, key)
            raise KeyError(key)
        return self._entry(key, value)

    def get(self, key: Hashable, default: Any = None) -> Any:
        value = self._data.get(key, _MISSING)
        if value is _MISSING:
            self._reads.note(self._name, key)
            return default
        return self._entry(key, value)

    def __contains__(self, key: object) -> bool:
        self._reads.note(self._name, key)
        return key in self._data

    def __iter__(self) -> Iterator:
        self._reads.note(self._name, ALL)
        return iter(self._data)

    def __len__(self) -> int:
        self._reads.note(self._name, ALL)
        return len(self._data)

    def keys(self):
        self._reads.note(self._name, ALL)
        return self._data.keys()

    def items(self):
        self._reads.note(self._name, ALL)
        return self._data.items()

    def values(self):
        self._reads.note(self._name, ALL)
        return self._data.values()


def tracked_table(table: Mapping, name: str, reads: Reads) -> Mapping:
    """``table`` as the table ``name``, noting in ``reads`` every key looked up in it."""
    return _Table(table, name, reads)


class Tracked:
    """A view of a knowledge base (or any dataclass of tables) whose reads are noted in ``reads``:
    each mapping field is a table noting the keys looked up; any other field (a list, a set, a
    single value) is noted whole when read. Its methods run on the view, so their reads are noted too.
    ``prefix``: put before each field's name, to tell two such views apart (the settings, ...)."""

    def __init__(self, base: Any, reads: Reads, prefix: str = "") -> None:
        object.__setattr__(self, "_base", base)
        object.__setattr__(self, "_reads", reads)
        object.__setattr__(self, "_prefix", prefix)
        for name, value in vars(base).items():  # its tables, found without a call of __getattr__
            if isinstance(value, Mapping) and not name.startswith("_"):
                object.__setattr__(self, name, _Table(value, prefix + name, reads))

    def __getattr__(self, name: str) -> Any:
        """A field that is not a table (noted whole), a property or a method (run on the view)."""
        base, reads, name_as = self._base, self._reads, self._prefix + name
        cls_attr = getattr(type(base), name, None)
        if isinstance(cls_attr, property):
            return cls_attr.fget(self)
        if callable(cls_attr) and name not in vars(base):
            method = cls_attr.__get__(self)
            object.__setattr__(self, name, method)
            return method
        value = getattr(base, name)
        reads.note(name_as, ALL)
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a tracked view is read-only")


def tables_of(base: Any, prefix: str = "") -> dict[str, Any]:
    """The fields of a dataclass as the tables :meth:`Reads.begin` compares (named as a :class:`Tracked`
    view with ``prefix`` notes them): a mapping field as it is, any other field as a table of one
    entry (``ALL``); every field a view reads (all but those whose name starts with ``_``)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(base):
        if f.name.startswith("_"):
            continue
        value = getattr(base, f.name)
        out[prefix + f.name] = value if isinstance(value, Mapping) else {ALL: value}
    return out
