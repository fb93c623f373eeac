#!/usr/bin/env python3
"""Check Trellis Merkle proofs without Trellis (Python 3 standard library only).

The tree is RFC 9162 (Certificate Transparency v2) section 2.1 over the events' chain
hashes in seq order: leaf = SHA-256(0x00 || event hash), node = SHA-256(0x01 || left || right),
leaf_index = seq - 1. See ARCHITECTURE.md, "Merkle proofs".

    verify_proof.py check PROOF.json [--root HEX] [--old-root HEX]
        exit 0 "ok: ...", 1 "invalid: ...", 65 not a proof (as `trellis proof check`)
        --root: the root the proof must lead to (a consistency proof's new root);
        --old-root: a consistency proof's old root (the one published at its old size).
        Inclusion proofs in RFC 9162's own form (leaf_hash, no event_hash) are accepted.
    verify_proof.py root [--size N] < EXPORT.ndjson  print the root of an export's events

`root` reads NDJSON on standard input: `lz4 -dc ARCHIVE | verify_proof.py root`, or
`trellis log --format ndjson | verify_proof.py root`. A manifest line (an object with
"trellis_archive") is skipped; event lines must come in seq order from 1.
"""
import hashlib
import json
import sys


def sha256(b):
    return hashlib.sha256(b).digest()


def node(left, right):
    return sha256(b"\x01" + left + right)


def root_from_inclusion(index, size, leaf, path):
    """RFC 9162 2.1.3.2; None when the path does not fit the tree."""
    if not 0 <= index < size or len(leaf) != 32 or any(len(p) != 32 for p in path):
        return None
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node(p, r)
            if not fn & 1:
                while True:
                    fn >>= 1
                    sn >>= 1
                    if fn & 1 or fn == 0:
                        break
        else:
            r = node(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def consistent(first, second, first_hash, second_hash, path):
    """RFC 9162 2.1.4.2 (a tree is also consistent with itself, with an empty path)."""
    if first == 0:
        return False  # no proof from the empty tree (RFC 9162)
    if first == second:
        return not path and first_hash == second_hash
    if not 0 < first < second or not path or any(len(h) != 32 for h in [first_hash, second_hash] + path):
        return False
    if first & (first - 1) == 0:
        path = [first_hash] + path
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node(c, fr)
            sr = node(c, sr)
            if not fn & 1:
                while True:
                    fn >>= 1
                    sn >>= 1
                    if fn & 1 or fn == 0:
                        break
        else:
            sr = node(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_hash and sr == second_hash


EMPTY_ROOT = sha256(b"")
HEX = set("0123456789abcdefABCDEF")


class Malformed(Exception):
    """The document is not a proof (exit 65, as `trellis proof check`)."""


def _int(doc, k):
    v = doc.get(k)
    if type(v) is not int or not 0 <= v < 2 ** 63:
        raise Malformed("%s is missing or not a non-negative integer" % k)
    return v


def _hash(v, k):
    if not isinstance(v, str) or len(v) != 64 or not set(v) <= HEX:
        raise Malformed("%s is missing or not 64 hex digits" % k)
    return bytes.fromhex(v)


def _hashes(doc, k):
    a = doc.get(k)
    if not isinstance(a, list):
        raise Malformed("%s is missing or not a list" % k)
    return [_hash(v, "%s[%d]" % (k, i)) for i, v in enumerate(a)]


def parse(doc):
    """The proof as a dict of checked values; raises Malformed."""
    if not isinstance(doc, dict):
        raise Malformed("not a JSON object")
    kind = doc.get("proof")
    if kind == "inclusion":
        # Trellis proofs carry the event hash; RFC 9162's own form (any log's) only the leaf hash.
        event_hash = _hash(doc["event_hash"], "event_hash") if "event_hash" in doc else None
        if event_hash is None and "leaf_hash" not in doc:
            raise Malformed("an inclusion proof needs leaf_hash or event_hash")
        leaf = _hash(doc["leaf_hash"], "leaf_hash") if "leaf_hash" in doc else sha256(b"\x00" + event_hash)
        seq = _int(doc, "seq") if "seq" in doc else None
        return dict(kind=kind, event_hash=event_hash, leaf=leaf, seq=seq, leaf_index=_int(doc, "leaf_index"),
                    tree_size=_int(doc, "tree_size"), root=_hash(doc.get("root"), "root"), path=_hashes(doc, "audit_path"))
    if kind == "consistency":
        return dict(kind=kind, old_size=_int(doc, "old_size"), new_size=_int(doc, "new_size"),
                    old_root=_hash(doc.get("old_root"), "old_root"), new_root=_hash(doc.get("new_root"), "new_root"),
                    path=_hashes(doc, "path"))
    if kind == "root":
        return dict(kind=kind, tree_size=_int(doc, "tree_size"), root=_hash(doc.get("root"), "root"))
    raise Malformed('"proof" must be "inclusion", "consistency" or "root"')


def check(doc, expected_root=None, expected_old_root=None):
    """None when the proof holds, else why not; raises Malformed. The same checks, in the
    same order, as `trellis proof check` (ProofDocument.check)."""
    p = parse(doc)
    if p["kind"] == "inclusion":
        if p["tree_size"] == 0:
            return "a tree of size 0 is empty: no leaf is in it"
        if p["leaf_index"] >= p["tree_size"]:
            return "leaf_index %d is not in a tree of size %d" % (p["leaf_index"], p["tree_size"])
        if p["seq"] is not None and p["seq"] != p["leaf_index"] + 1:
            return "seq %d is not leaf_index + 1 (leaf_index is %d)" % (p["seq"], p["leaf_index"])
        if p["event_hash"] is not None and sha256(b"\x00" + p["event_hash"]) != p["leaf"]:
            return "leaf_hash is not SHA-256(0x00 || event_hash)"
        root = root_from_inclusion(p["leaf_index"], p["tree_size"], p["leaf"], p["path"])
        if root is None:
            return "the audit path has the wrong length for leaf %d of %d" % (p["leaf_index"], p["tree_size"])
        if root != p["root"]:
            return "the audit path leads to root %s, not %s" % (root.hex(), p["root"].hex())
        claimed = p["root"]
    elif p["kind"] == "consistency":
        if p["old_size"] == 0:
            return "a consistency proof from size 0 proves nothing (RFC 9162 defines none: every tree extends the empty tree)"
        if p["old_size"] > p["new_size"]:
            return "old_size %d is larger than new_size %d" % (p["old_size"], p["new_size"])
        if not consistent(p["old_size"], p["new_size"], p["old_root"], p["new_root"], p["path"]):
            return "the path does not prove that the tree of %d extends the tree of %d" % (p["new_size"], p["old_size"])
        if expected_old_root is not None and p["old_root"] != expected_old_root:
            return "the proof's old root %s (size %d) is not the expected %s" % (p["old_root"].hex(), p["old_size"], expected_old_root.hex())
        claimed = p["new_root"]
    else:
        if p["tree_size"] == 0 and p["root"] != EMPTY_ROOT:
            return "the root of the empty tree is SHA-256 of no bytes (%s), not %s" % (EMPTY_ROOT.hex(), p["root"].hex())
        claimed = p["root"]
    if expected_root is not None and claimed != expected_root:
        return "the proof's root %s is not the expected %s" % (claimed.hex(), expected_root.hex())
    return None


def root_of_export(lines, size=None):
    """The root over the events of an NDJSON export (stack of perfect subtrees)."""
    stack = []  # (hash, leaves)
    n = 0
    for raw in lines:
        raw = raw.strip()
        if not raw:
            continue
        obj = json.loads(raw)
        if "trellis_archive" in obj:
            continue
        if size is not None and n == size:
            break
        n += 1
        if obj.get("seq") != n:
            raise SystemExit("line with seq %r where seq %d was expected" % (obj.get("seq"), n))
        h, width = sha256(b"\x00" + bytes.fromhex(obj["hash"])), 1
        while stack and stack[-1][1] == width:
            h, width = node(stack.pop()[0], h), width * 2
        stack.append((h, width))
    if size is not None and n < size:
        raise SystemExit("the export holds %d events, fewer than --size %d" % (n, size))
    if not stack:
        return sha256(b""), 0
    r = stack[-1][0]
    for h, _ in reversed(stack[:-1]):
        r = node(h, r)
    return r, n


def _option_hex(argv, name):
    if name not in argv:
        return None
    i = argv.index(name)
    v = argv[i + 1] if i + 1 < len(argv) else ""
    if len(v) != 64 or not set(v) <= HEX:
        print("%s must be 64 hex digits" % name, file=sys.stderr)
        raise SystemExit(64)
    return bytes.fromhex(v)


def main(argv):
    if len(argv) >= 2 and argv[0] == "check":
        expected = _option_hex(argv, "--root")
        expected_old = _option_hex(argv, "--old-root")
        try:
            if argv[1] == "-":
                doc = json.load(sys.stdin)
            else:
                with open(argv[1]) as f:
                    doc = json.load(f)
        except OSError as e:
            print("cannot read %s: %s" % (argv[1], e.strerror), file=sys.stderr)
            return 66
        except ValueError as e:
            print("%s is not a proof: not JSON: %s" % (argv[1], e), file=sys.stderr)
            return 65
        if expected_old is not None and isinstance(doc, dict) and doc.get("proof") != "consistency":
            print("--old-root applies to consistency proofs", file=sys.stderr)
            return 64
        try:
            why = check(doc, expected, expected_old)
        except Malformed as e:
            print("%s is not a proof: %s" % (argv[1], e), file=sys.stderr)
            return 65
        if why:
            print("invalid: " + why)
            return 1
        print("ok: %s proof holds" % doc["proof"])
        return 0
    if argv and argv[0] == "root":
        size = int(argv[argv.index("--size") + 1]) if "--size" in argv else None
        root, n = root_of_export(sys.stdin, size)
        print(json.dumps({"proof": "root", "tree_size": n, "root": root.hex()}))
        return 0
    print(__doc__, file=sys.stderr)
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
