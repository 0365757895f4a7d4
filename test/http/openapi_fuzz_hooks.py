# Schemathesis hooks for test/http/openapi-fuzz.test.ts (loaded through SCHEMATHESIS_HOOKS).
#
# - Authentication per operation: each route gets the key of a role it serves (merchant, issuer,
#   admin, from LEAKGUARD_FUZZ_*_KEY); one case in eight gets another role's key instead, so the
#   refusals (401, 403) are fuzzed too.
# - Card numbers in every string: a third of the cases get a Luhn-valid card number (plain,
#   grouped, full-width, inside text) in one string of the body, query or path, the rest left
#   valid; one in seven gets them everywhere; card lists get good, bad and hostile lines. So every
#   parser and every error path sees them. Generated card numbers are mostly completed to pass
#   Luhn, so that requests get past validation.
# - A check, card_number_not_echoed: no response body holds a card number that was in the request.
# - Statistics for the test (LEAKGUARD_FUZZ_STATS): responses by operation and status, and how
#   many requests carried a card number.
import atexit
import copy
import json
import os
import random
import re
import unicodedata

import schemathesis

# Card lists are text, one card per line: sent as they are (the CSV ones already are, as text).
schemathesis.serializer.alias("application/x-ndjson", "text/plain")

KEYS = {role: os.environ.get(f"LEAKGUARD_FUZZ_{role.upper()}_KEY", "") for role in ("merchant", "issuer", "admin")}
RNG = random.Random(int(os.environ.get("LEAKGUARD_FUZZ_SEED", "13")))


def roles_for(method: str, path: str) -> list[str]:
    """The roles a route serves (services/http/routes/*); [] for the public and console routes."""
    if path == "/v1/score" or path.startswith("/v1/transactions/"):
        return ["merchant"]
    if path.startswith("/v1/admin/") or (method == "PUT" and path.startswith("/v1/issuers/")):
        return ["admin"]
    if path == "/v1/issuer/hits":
        return ["issuer"]
    if path.startswith("/v1/"):
        return ["issuer", "admin"]
    return []


# --- Card numbers ------------------------------------------------------------------------------

# Card networks' leading digits: Visa (the demo issuer's 411111 range too), Mastercard (5, 2-series), Amex, JCB, Discover, UnionPay.
PREFIXES = ["411111", "4", "51", "55", "2221", "34", "37", "3528", "6011", "62"]


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def make_pan(rng: random.Random) -> str:
    prefix = rng.choice(PREFIXES)
    length = rng.choice([12, 13, 14, 15, 16, 16, 16, 19])
    body = prefix + "".join(str(rng.randrange(10)) for _ in range(length - len(prefix) - 1))
    return next(body + str(c) for c in range(10) if luhn_valid(body + str(c)))


def written(pan: str, rng: random.Random) -> str:
    """The ways people type a card number into a form."""
    form = rng.randrange(6)
    if form == 0:
        return pan
    if form == 1:
        return " ".join(pan[i:i + 4] for i in range(0, len(pan), 4))
    if form == 2:
        return "-".join(pan[i:i + 4] for i in range(0, len(pan), 4))
    if form == 3:
        return "".join(chr(0xFF10 + int(c)) for c in pan)  # full-width, as typed on Japanese storefronts
    if form == 4:
        return f"card {pan} exp 12/30"
    return f"ref-{pan}"


def with_pans(value, rng: random.Random, depth: int = 0):
    """Writes card numbers into about half of the strings of a JSON value (and some whole values)."""
    if isinstance(value, str):
        if rng.random() < 0.5:
            return written(make_pan(rng), rng) if rng.random() < 0.5 else value + " " + written(make_pan(rng), rng)
        return value
    if isinstance(value, dict) and depth < 8:
        return {k: with_pans(v, rng, depth + 1) for k, v in value.items()}
    if isinstance(value, list) and depth < 8:
        return [with_pans(v, rng, depth + 1) for v in value]
    if isinstance(value, (int, float)) and not isinstance(value, bool) and rng.random() < 0.1:
        return make_pan(rng)
    return value


def card_list(rng: random.Random, media_type: str) -> str:
    """A card list with good, bad and hostile lines."""
    lines = []
    for _ in range(rng.randrange(1, 8)):
        pan = make_pan(rng)
        kind = rng.randrange(5)
        if media_type == "application/x-ndjson":
            doc = {"pan": pan} if kind < 2 else {"pan": pan, "expiryMonth": rng.randrange(0, 14), "expiryYear": rng.randrange(1990, 2050)}
            if kind == 4:
                doc["cvv"] = "123"
            lines.append(json.dumps(doc))
        else:
            lines.append([pan, f"{pan},12,2030", f"{pan},13,2030", f"{pan}x,1,2027", f"{pan}, " + " " * rng.randrange(50)][kind])
    return "\n".join(lines) + "\n"


def leaves(value, path=()):
    """Paths of the strings and numbers of a JSON value."""
    if isinstance(value, str) or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        return [path]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in leaves(v, path + (k,))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in leaves(v, path + (i,))]
    return []


def with_one_pan(value, rng: random.Random):
    """One string (or number) of a JSON value given a card number; the rest left as generated."""
    paths = leaves(value)
    if not paths:
        return value
    path = rng.choice(paths)
    if not path:
        return written(make_pan(rng), rng)
    parent = value
    for step in path[:-1]:
        parent = parent[step]
    old = parent[path[-1]]
    pan_text = written(make_pan(rng), rng)
    parent[path[-1]] = f"{old} {pan_text}" if isinstance(old, str) and rng.random() < 0.5 else pan_text
    return value


def luhn_fixed(digits: str) -> str:
    return next(digits[:-1] + str(c) for c in range(10) if luhn_valid(digits[:-1] + str(c)))


def fix_card_numbers(value, rng: random.Random):
    """Most generated card numbers pass the documented pattern and fail Luhn: complete most of them, so that requests get past validation."""
    if isinstance(value, dict):
        for k, v in value.items():
            if k in ("number", "pan") and isinstance(v, str) and re.fullmatch(r"[0-9]{12,19}", v) and rng.random() < 0.7:
                value[k] = luhn_fixed(v)
            else:
                fix_card_numbers(v, rng)
    elif isinstance(value, list):
        for v in value:
            fix_card_numbers(v, rng)


def has_body(case) -> bool:
    return case.body is not None and type(case.body).__name__ != "NotSet" and not isinstance(case.body, (bytes, bytearray))


@schemathesis.hook
def map_case(context, case):
    if has_body(case) and case.media_type not in ("text/csv", "application/x-ndjson"):
        case.body = copy.deepcopy(case.body)
        fix_card_numbers(case.body, RNG)
    roll = RNG.random()
    if roll < 0.35:
        # A card number in one place: the request stays valid elsewhere and reaches that field's reader.
        where = [w for w in ("body", "query", "path") if (w == "body" and has_body(case) and case.media_type not in ("text/csv", "application/x-ndjson"))
                 or (w == "query" and case.query) or (w == "path" and case.path_parameters)]
        if where:
            w = RNG.choice(where)
            if w == "body":
                case.body = with_one_pan(case.body, RNG)
            elif w == "query":
                case.query = with_one_pan(dict(case.query), RNG)
            else:
                case.path_parameters = with_one_pan(dict(case.path_parameters), RNG)
    elif roll < 0.5:
        # Card numbers everywhere.
        if has_body(case) and case.media_type not in ("text/csv", "application/x-ndjson"):
            case.body = with_pans(case.body, RNG)
        if case.query:
            case.query = with_pans(dict(case.query), RNG)
        if case.path_parameters:
            case.path_parameters = {k: written(make_pan(RNG), RNG) if RNG.random() < 0.5 else v for k, v in case.path_parameters.items()}
    if has_body(case) and case.media_type in ("text/csv", "application/x-ndjson") and roll < 0.7:
        case.body = card_list(RNG, case.media_type)
    return case


# --- Authentication ------------------------------------------------------------------------------

@schemathesis.auth(refresh_interval=None, retry_on=[])
class RoleKeys:
    """The key of a role the operation serves; now and then another role's (403)."""

    def get(self, case, context):
        roles = roles_for(case.operation.method.upper(), case.operation.path)
        if not roles:
            return None
        role = RNG.choice(roles)
        if RNG.random() < 0.125:
            role = RNG.choice([r for r in KEYS if r not in roles])
        return KEYS[role]

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


# --- The echo check ------------------------------------------------------------------------------

SEPARATOR = re.compile(r"[\s\-\u2010-\u2015\u2212._/\u00b7\u30fb\uff0e\uff0f\uff3f\u200b-\u200d\u2060\ufeff]")


def digit_runs(text: str) -> list[list[str]]:
    """Runs of digit groups (any script, as ASCII), the groups joined by one to three separators."""
    runs, groups, current, gap = [], [], "", 0
    for ch in text:
        d = unicodedata.decimal(ch, None)
        if d is not None:
            current += str(d)
            gap = 0
            continue
        if current:
            groups.append(current)
            current = ""
        if groups and SEPARATOR.match(ch) and gap < 3:
            gap += 1
            continue
        if groups:
            runs.append(groups)
        groups, gap = [], 0
    if current:
        groups.append(current)
    if groups:
        runs.append(groups)
    return runs


def card_numbers(text: str) -> set[str]:
    """Card numbers as the scrubber (services/core/scrub.ts) sees them: consecutive groups of 12-19
    digits in all that pass Luhn; here only those led by a card network's digit (2-6), which leaves
    out epoch times, runs of zeros and the like."""
    found = set()
    for groups in digit_runs(text):
        for i in range(len(groups)):
            candidate = ""
            for group in groups[i:]:
                candidate += group
                if len(candidate) > 19:
                    break
                if len(candidate) >= 12 and candidate[0] in "23456" and luhn_valid(candidate):
                    found.add(candidate)
    return found


def request_text(case) -> str:
    parts = [json.dumps(case.path_parameters or {}, ensure_ascii=False), json.dumps(case.query or {}, ensure_ascii=False, default=str)]
    body = case.body
    if isinstance(body, (bytes, bytearray)):
        parts.append(body.decode("utf-8", "replace"))
    elif isinstance(body, str):
        parts.append(body)
    elif body is not None and type(body).__name__ != "NotSet":
        parts.append(json.dumps(body, ensure_ascii=False, default=str))
    return "\n".join(parts)


STATS = {"responses": 0, "withCardNumber": 0, "byOperation": {}}
SENT: set[str] = set()


@schemathesis.check
def card_number_not_echoed(ctx, response, case):
    """No response body holds a card number (12-19 digits passing Luhn) that the request carried."""
    sent = card_numbers(request_text(case))
    label = f"{case.operation.method.upper()} {case.operation.path}"
    STATS["responses"] += 1
    STATS["withCardNumber"] += 1 if sent else 0
    statuses = STATS["byOperation"].setdefault(label, {})
    statuses[str(response.status_code)] = statuses.get(str(response.status_code), 0) + 1
    if not sent:
        return None
    SENT.update(sent)
    text = response.text if isinstance(response.text, str) else response.content.decode("utf-8", "replace")
    echoed = [pan for pan in sent if any(pan in "".join(groups) for groups in digit_runs(text))]
    if echoed:
        masked = ", ".join(sorted(f"{p[:6]}...{p[-4:]}" for p in echoed))
        raise AssertionError(f"the response repeats card numbers sent in the request ({masked})")
    return None


@atexit.register
def write_stats():
    path = os.environ.get("LEAKGUARD_FUZZ_STATS")
    if path:
        with open(path, "w", encoding="utf-8") as f:
            json.dump({**STATS, "cardNumbers": sorted(SENT)}, f)
