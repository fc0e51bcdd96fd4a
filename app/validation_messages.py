"""marshmallow's nested error messages as one flat mapping, for the API and for row reports."""


def flatten_messages(messages, parent: str = "") -> dict[str, list[str]]:
    """Nested marshmallow messages -> {"field": [...]}, naming nested fields `a[0].b`."""
    flat: dict[str, list[str]] = {}
    for name, value in messages.items():
        if isinstance(name, int):
            path = parent if not isinstance(value, dict) else f"{parent}[{name}]"
        else:
            path = f"{parent}.{name}" if parent else str(name)
        if isinstance(value, dict):
            for key, found in flatten_messages(value, path).items():
                flat.setdefault(key, []).extend(found)
        else:
            flat.setdefault(path, []).extend(value if isinstance(value, list) else [value])
    return flat
