"""JSON in and out of the API with orjson: a search answer of ~50 KB is encoded several times
faster than with the standard library, which is a good part of what the API adds to a search."""

import orjson
from flask.json.provider import DefaultJSONProvider

# Keys in the order the answer builds them; keys that are not strings written as strings, and
# dates and dataclasses left to Flask's own conversion (as the standard provider does them).
OPTIONS = (
    orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
)


class OrjsonProvider(DefaultJSONProvider):
    """Flask's provider with orjson underneath: the same JSON (UTF-8 rather than \\u escapes),
    compact, one newline after it. Calls with options of the json module (indent, say) and
    debug mode's indented answers keep the standard library."""

    sort_keys = False

    def dumps(self, obj, **kwargs) -> str:
        if kwargs:
            return super().dumps(obj, **kwargs)
        return orjson.dumps(obj, default=self.default, option=OPTIONS).decode()

    def loads(self, s: str | bytes, **kwargs):
        if kwargs:
            return super().loads(s, **kwargs)
        return orjson.loads(s)

    def response(self, *args, **kwargs):
        if self.compact is False or (self.compact is None and self._app.debug):
            return super().response(*args, **kwargs)
        obj = self._prepare_response_obj(args, kwargs)
        body = orjson.dumps(obj, default=self.default, option=OPTIONS | orjson.OPT_APPEND_NEWLINE)
        return self._app.response_class(body, mimetype=self.mimetype)
