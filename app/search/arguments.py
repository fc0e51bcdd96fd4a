"""How search parameter values are parsed from a query string (marshmallow fields), shared by the
filter table and the API's other arguments."""

from marshmallow import ValidationError, fields, validate

from app.vocab import languages
from app.vocab.codes import ACCEPTING, ACCEPTING_ALIASES

MAX_VALUES = 20


class Multi(fields.List):
    """A list parameter given repeated (`language=es&language=zh`) or comma-separated."""

    def __init__(self, inner: fields.Field, **kwargs):
        super().__init__(inner, validate=validate.Length(max=MAX_VALUES), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        parts = [p.strip() for v in value for p in str(v).split(",")]
        # An empty value is a mistake (a form field left blank reaches the API as `name=`):
        # leaving the parameter out is how to match any value.
        if not all(parts):
            raise ValidationError("empty value; leave the parameter out to match any")
        return list(dict.fromkeys(super()._deserialize(parts, attr, data, **kwargs)))


class Language(fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        tag = languages.to_tag(super()._deserialize(value, attr, data, **kwargs))
        if tag is None:
            raise ValidationError(
                f"unknown language {value!r}; use a language tag (es, yue, ase) or a name"
            )
        return tag


class Accepting(fields.String):
    ALIASES = {**ACCEPTING_ALIASES, "true": "accepting", "false": "not_accepting"}

    @classmethod
    def accepted(cls) -> tuple[str, ...]:
        """Every value read as a status: the codes and their other spellings."""
        return (*ACCEPTING, *cls.ALIASES)

    def _deserialize(self, value, attr, data, **kwargs):
        raw = super()._deserialize(value, attr, data, **kwargs).lower()
        code = self.ALIASES.get(raw, raw)
        if code not in ACCEPTING:
            raise ValidationError(f"expected one of {', '.join(ACCEPTING)}")
        return code


def one_of(choices) -> validate.OneOf:
    return validate.OneOf(choices, error="expected one of {choices}")


class Matches(validate.Regexp):
    """The whole value matches the pattern (`$` alone would let a final newline through), as the
    pattern in the OpenAPI document means."""

    def __call__(self, value: str) -> str:
        if self.regex.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value
