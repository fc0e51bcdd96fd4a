"""marshmallow fields for the directory's own values, shared by roster rows, API arguments and
member files."""

from collections.abc import Iterable

from marshmallow import ValidationError, fields

from app.vocab.codes import TRUTHY, split_list
from app.vocab.npi import is_valid_npi


class Npi(fields.String):
    """A National Provider Identifier: 10 digits with a valid check digit."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if not text.isdigit() or len(text) != 10:
            raise ValidationError("an NPI is exactly 10 digits")
        if not is_valid_npi(text):
            raise ValidationError("NPI check digit is wrong (Luhn with prefix 80840)")
        return text


class PipeList(fields.String):
    """A `|`-separated cell as a list, optionally each item from a fixed list."""

    def __init__(self, choices: Iterable[str] | None = None, **kwargs):
        super().__init__(**kwargs)
        self.choices = tuple(choices) if choices else None

    def _deserialize(self, value, attr, data, **kwargs):
        items = split_list(super()._deserialize(value, attr, data, **kwargs))
        if self.choices is not None:
            items = [i.lower() for i in items]
            bad = [i for i in items if i not in self.choices]
            if bad:
                raise ValidationError(
                    f"unknown value(s) {', '.join(bad)}; expected {', '.join(self.choices)}"
                )
        return list(dict.fromkeys(items))


class Flag(fields.String):
    """Y/N, yes/no, true/false, 1/0."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).strip().lower()
        if text not in TRUTHY:
            raise ValidationError("expected Y or N")
        return TRUTHY[text]


class Coded(fields.String):
    """A code from a fixed list, with accepted aliases, case-insensitive."""

    def __init__(self, choices: Iterable[str], aliases: dict[str, str] | None = None, **kwargs):
        super().__init__(**kwargs)
        self.choices = tuple(choices)
        self.aliases = aliases or {}

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).strip().lower()
        text = self.aliases.get(text, text).replace(" ", "_")
        if text not in self.choices:
            raise ValidationError(f"expected one of {', '.join(c for c in self.choices if c)}")
        return text
