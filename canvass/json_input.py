"""JSON bodies from outside the server, read with a bound on how deep they nest.

Every request body Porchlight parses as JSON is a few levels deep (visits → a visit → its
commitments; an edit → its outline → rings → points). Nesting far deeper is not from our
pages or phones, and what the parser accepts could still be too deep for the code that
walks it next: it is bad input (a 400), never a crash.
"""

import json

MAX_JSON_DEPTH = 32
TOO_DEEP = f"JSON parse error - nested too deeply (more than {MAX_JSON_DEPTH} levels)."


class JSONTooDeep(ValueError):
    def __init__(self):
        super().__init__(TOO_DEEP)


def json_depth_over(value, limit=MAX_JSON_DEPTH):
    """True when `value` nests lists and objects more than `limit` deep (no recursion)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth > limit:
                return True
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)
    return False


def json_bounded(data):
    """`data` (already parsed) if it nests at most MAX_JSON_DEPTH deep; else JSONTooDeep."""
    if json_depth_over(data):
        raise JSONTooDeep()
    return data


def json_parse(text):
    """json.loads, raising JSONTooDeep for nesting over MAX_JSON_DEPTH (or past the
    parser's own recursion limit) and json.JSONDecodeError for text that is not JSON."""
    try:
        data = json.loads(text)
    except RecursionError:
        raise JSONTooDeep() from None
    return json_bounded(data)
