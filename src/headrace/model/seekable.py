"""A list the facades return: ``get(**filters)`` and ``get_all(**filters)`` as the SDKs have.

Both the Control Hub SDK (``SeekableList``) and the watsonx SDK (its collections) hand back
lists that find their items by keyword. Each facade says which keywords a collection takes
and how each matches an item; a keyword it does not take is refused by name, so a typo is
never a silent "nothing matched".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from headrace import errors

T = TypeVar("T")

#: ``match(item, wanted)``: whether ``item`` passes a filter asking for ``wanted``.
Match = Callable[[Any, Any], bool]


def attribute(name: str) -> Match:
    """The filter comparing an item's attribute ``name`` to the wanted value.

    Values compare as the SDKs compare them: equal, or equal as strings (ids and versions
    come as strings in the seeds, ``version='1'``).
    """

    def match(item: Any, wanted: Any) -> bool:
        value = getattr(item, name)
        return bool(value == wanted or (value is not None and str(value) == str(wanted)))

    return match


def attributes(*names: str) -> dict[str, Match]:
    """Attribute filters for each of ``names``."""
    return {name: attribute(name) for name in names}


class SeekableList(list[T]):
    """A list with ``get(**filters)`` (the first match) and ``get_all(**filters)`` (all).

    >>> from types import SimpleNamespace as Item
    >>> items = SeekableList([Item(n=1), Item(n=2)], kind="item", filters=attributes("n"))
    >>> items.get(n=2)
    namespace(n=2)
    >>> items.get_all(n=3)
    []
    """

    def __init__(self, items: Iterable[T] = (), *, kind: str, filters: Mapping[str, Match]) -> None:
        super().__init__(items)
        self.kind = kind
        self.filters = dict(filters)

    def _matcher(self, wanted: dict[str, Any]) -> Callable[[T], bool]:
        unknown = sorted(set(wanted) - set(self.filters))
        if unknown:
            known = ", ".join(sorted(self.filters))
            msg = f"{self.kind} has no filter {unknown[0]!r}; filters are {known}"
            raise errors.InvalidInput(unknown[0], msg)
        return lambda item: all(self.filters[k](item, v) for k, v in wanted.items())

    def get(self, **filters: Any) -> T:
        """The first item matching every filter.

        Raises:
            InvalidInput: naming a filter this collection does not take.
            NoMatch: nothing matches (a ``ValueError``, as the SDKs raise).
        """
        matches = self._matcher(filters)
        for item in self:
            if matches(item):
                return item
        raise errors.NoMatch(self.kind, filters)

    def get_all(self, **filters: Any) -> SeekableList[T]:
        """Every item matching every filter, in this list's order.

        Raises:
            InvalidInput: naming a filter this collection does not take.
        """
        matches = self._matcher(filters)
        return SeekableList(
            (item for item in self if matches(item)), kind=self.kind, filters=self.filters
        )
