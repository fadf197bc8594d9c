"""The ``<id:…>`` path converter: a database id in a URL, bounded to what PostgreSQL's bigint holds.

Django's ``<int:…>`` matches any run of digits, so ``/label/99999999999999999999/``
reached the view and the database with a number no id column can hold. This
converter matches at most 19 digits and refuses (Django then tries the next
pattern and answers 404) anything above 2**63 - 1. Every id in a URL of this
project uses it; ``tests/reliability/test_crafted_input.py::test_no_url_takes_an_unbounded_integer``
checks that none uses ``<int:…>``.
"""

from __future__ import annotations

from django.urls import register_converter

# PostgreSQL's bigint, the widest id column (BigAutoField); SQLite's integers are the same 64 bits.
MAX_ID = 2**63 - 1


class DatabaseIdConverter:
    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > MAX_ID:
            raise ValueError(f"{value} is larger than any id")  # the URL does not match: 404
        return number

    def to_url(self, value: int | str) -> str:
        number = int(value)
        if not 0 <= number <= MAX_ID:
            raise ValueError(f"{value} is not a database id")
        return str(number)


register_converter(DatabaseIdConverter, "id")
