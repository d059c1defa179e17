"""strictjson: what tests/json.sh reads JSON with: a member named twice, or NaN and Infinity
(not JSON), is an error rather than silently taken."""


def strict(pairs):
    """object_pairs_hook for json.load: refuses an object that names a member twice."""
    d = {}
    for k, v in pairs:
        if k in d:
            raise ValueError("member %r twice" % k)
        d[k] = v
    return d


def no_constant(c):
    """parse_constant for json.load: NaN, Infinity and -Infinity are not JSON."""
    raise ValueError("%s is not JSON" % c)
