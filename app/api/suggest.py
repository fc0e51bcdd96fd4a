"""GET /v1/suggest: what the search box's letters may complete to."""

import threading

from flask import Blueprint, current_app, jsonify, request
from marshmallow import RAISE, Schema, fields, validate

from app.api.args import query_data
from app.engines import get_engine
from app.search import suggest as suggestions

bp = Blueprint("suggest", __name__, url_prefix="/v1")
INDEXES_KEY = "pd_suggest_indexes"


class SuggestArgs(Schema):
    class Meta:
        unknown = RAISE

    q = fields.String(
        required=True,
        validate=validate.Length(max=suggestions.MAX_LETTERS),
        metadata={
            "description": f"What has been typed so far. Fewer than {suggestions.MIN_LETTERS} "
            "characters once trimmed gives an empty list.",
            "example": "card",
        },
    )
    lang = fields.String(
        load_default="en",
        validate=validate.OneOf(suggestions.LANGS, error="expected one of {choices}"),
        metadata={"description": "Language of the labels and details (Cardiology / Cardiología)."},
    )
    limit = fields.Integer(
        load_default=suggestions.DEFAULT_LIMIT,
        strict=False,
        validate=validate.Range(1, suggestions.MAX_LIMIT),
        metadata={"description": "Most suggestions to return."},
    )


def suggest_index(names: suggestions.DirectoryNames, lang: str) -> suggestions.SuggestIndex:
    """The index of these names in this language, built once while the names stay the same."""
    cache = current_app.extensions.setdefault(INDEXES_KEY, {"lock": threading.Lock()})
    index = cache.get(lang)
    if index is None or index.names is not names:
        with cache["lock"]:
            index = cache.get(lang)
            if index is None or index.names is not names:
                index = suggestions.SuggestIndex(names, lang)
                cache[lang] = index
    return index


@bp.get("/suggest")
def suggest():
    schema = SuggestArgs()
    args = schema.load(query_data(request.args, schema))
    q, lang, limit = args["q"], args["lang"], args["limit"]
    found: list[dict] = []
    if suggestions.long_enough(q):
        words = suggestions.typed_words(q)
        engine = get_engine()
        index = suggest_index(engine.directory_names(), lang)
        found = suggestions.suggest(words, index, engine.suggest(words, limit), limit)
    return jsonify({"query": q.strip(), "suggestions": found})
