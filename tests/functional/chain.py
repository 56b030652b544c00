"""An independent check of the chain a node serves, written from docs/encoding.md alone (no code
of the node's): block hashes, links, Merkle roots, commit hashes, validator set hashes, and the
BIP340 signatures of commits and txs, the last with the reference algorithm of BIP340 in plain
Python. `bas verify-vote` checks the same with the node's own library; this catches a bug the
two would share."""
import base64
import hashlib

ZERO32 = bytes(32)
PRECOMMIT = 2


def b64(value):
    return base64.b64decode(value)


def tagged_hash(tag, msg):
    t = hashlib.sha256(tag.encode()).digest()
    return hashlib.sha256(t + t + msg).digest()


def u32(n):
    return int(n).to_bytes(4, "big")


def u64(n):
    return int(n).to_bytes(8, "big")


def enc_str(s):
    data = s.encode() if isinstance(s, str) else s
    return u32(len(data)) + data


def merkle_root(leaves):
    """RFC 6962 over the leaf data."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + merkle_root(leaves[:k]) + merkle_root(leaves[k:])).digest()


def header_hash(h):
    data = (enc_str(h["chain_id"]) + u64(h["height"]) + (int(h["time"]) % 2**64).to_bytes(8, "big")
            + b"".join(b64(h[f]) for f in [
                "prev_block_hash", "tx_root", "results_root", "app_hash", "validators_hash",
                "next_validators_hash", "proposer", "last_commit_hash", "evidence_hash"]))
    return tagged_hash("bas/block", data)


def opt32(value):
    return b"\x00" if not value else b"\x01" + b64(value)


def vote_bytes(v):
    types = {"PREVOTE": 1, "PRECOMMIT": 2}
    return (bytes([types[v["type"]]]) + u64(v.get("height", 0)) + u32(v.get("round", 0))
            + opt32(v.get("block_hash")) + b64(v["validator"]) + enc_bytes(b64(v["signature"])))


def evidence_leaf(e):
    return vote_bytes(e["vote_a"]) + vote_bytes(e["vote_b"])


def commit_hash(c):
    if not c or (not c.get("signatures") and not c.get("block_hash") and c.get("height") in
                 (None, "0")):
        return ZERO32
    sigs = sorted(c["signatures"], key=lambda s: b64(s["validator"]))
    data = (u64(c["height"]) + u32(c["round"]) + opt32(c["block_hash"]) + u32(len(sigs))
            + b"".join(b64(s["validator"]) + enc_str(b64(s["signature"])) for s in sigs))
    return tagged_hash("bas/commit", data)


def validators_hash(validators):
    vs = sorted(validators, key=lambda v: b64(v["key"]))
    return tagged_hash("bas/validators", u32(len(vs)) + b"".join(
        b64(v["key"]) + u64(v["power"]) for v in vs))


def events_bytes(events):
    return u32(len(events)) + b"".join(
        enc_str(e["type"]) + u32(len(e["attributes"])) + b"".join(
            enc_str(a["key"]) + enc_str(a["value"]) for a in e["attributes"]) for e in events)


def results_root(results):
    leaves = [u32(r["code"]) + events_bytes(r["events"]) for r in results["tx_results"]]
    updates = results["validator_updates"]
    leaves.append(events_bytes(results["end_block_events"]) + u32(len(updates)) + b"".join(
        b64(v["key"]) + u64(v["power"]) for v in updates))
    return merkle_root(leaves)


def vote_sign_bytes(chain_id, height, round_, block_hash):
    return tagged_hash("bas/vote", enc_str(chain_id) + bytes([PRECOMMIT]) + u64(height)
                       + u32(round_) + b"\x01" + block_hash)


def signed_tx_fields(tx):
    """(body, signer, signature) of a serialized SignedTx (three length-delimited fields)."""
    fields, i = {}, 0
    while i < len(tx):
        key, i = tx[i], i + 1
        length = shift = 0
        while True:
            byte, i = tx[i], i + 1
            length |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                break
        fields[key >> 3], i = tx[i:i + length], i + length
    return fields.get(1, b""), fields.get(2, b""), fields.get(3, b"")


def tx_id(tx):
    body, signer, _ = signed_tx_fields(tx)
    return tagged_hash("bas/txid", signer + body).hex()


# ---- BIP340 verification (the reference algorithm of the BIP) ----

P = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
G = (0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798,
     0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8)


def _add(p1, p2):
    if p1 is None:
        return p2
    if p2 is None:
        return p1
    if p1[0] == p2[0] and p1[1] != p2[1]:
        return None
    if p1 == p2:
        lam = 3 * p1[0] * p1[0] * pow(2 * p1[1], -1, P) % P
    else:
        lam = (p2[1] - p1[1]) * pow(p2[0] - p1[0], -1, P) % P
    x3 = (lam * lam - p1[0] - p2[0]) % P
    return x3, (lam * (p1[0] - x3) - p1[1]) % P


def _mul(point, k):
    result = None
    while k:
        if k & 1:
            result = _add(result, point)
        point = _add(point, point)
        k >>= 1
    return result


def bip340_verify(pubkey, msg, sig):
    if len(pubkey) != 32 or len(sig) != 64:
        return False
    x = int.from_bytes(pubkey, "big")
    y_sq = (pow(x, 3, P) + 7) % P
    y = pow(y_sq, (P + 1) // 4, P)
    if x >= P or y * y % P != y_sq:
        return False
    point = (x, y if y % 2 == 0 else P - y)
    r, s = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
    if r >= P or s >= N:
        return False
    e = int.from_bytes(tagged_hash("BIP0340/challenge", sig[:32] + pubkey + msg), "big") % N
    R = _add(_mul(G, s), _mul(point, N - e))
    return R is not None and R[1] % 2 == 0 and R[0] == r


def check_block(entry, prev_hash, validators, verify=None):
    """Checks one GET /v1/blocks entry against the previous block's hash (None for height 1)
    and the validator set; returns its hash (hex). Raises AssertionError naming the fault.
    verify: a BIP340 verifier with bip340_verify's signature (the default)."""
    verify = verify or bip340_verify
    block, header = entry["block"], entry["block"]["header"]
    height = int(header["height"])
    where = f"block {height}"
    block_hash = header_hash(header)
    assert block_hash.hex() == entry["block_hash"], f"{where}: header hash"
    assert b64(header["prev_block_hash"]) == (ZERO32 if prev_hash is None
                                              else bytes.fromhex(prev_hash)), f"{where}: link"
    txs = [b64(t) for t in block["txs"]]
    assert b64(header["tx_root"]) == merkle_root(txs), f"{where}: tx_root"
    assert b64(header["results_root"]) == results_root(entry["results"]), f"{where}: results"
    assert b64(header["last_commit_hash"]) == commit_hash(block.get("last_commit")), \
        f"{where}: last_commit_hash"
    assert b64(header["evidence_hash"]) == merkle_root(
        [evidence_leaf(e) for e in block.get("evidence", [])]), f"{where}: evidence_hash"
    if prev_hash is not None:
        assert b64(block["last_commit"]["block_hash"]).hex() == prev_hash, f"{where}: last commit"
    assert b64(header["validators_hash"]) == validators_hash(validators), f"{where}: validators"
    for tx in txs:
        body, signer, signature = signed_tx_fields(tx)
        assert verify(signer, tagged_hash("bas/tx", body), signature), \
            f"{where}: tx {tx_id(tx)} signature"
    # the commit certifying this block: > 2/3 of the power, distinct validators, valid sigs
    commit = entry["commit"]
    assert (int(commit["height"]), b64(commit["block_hash"])) == (height, block_hash), \
        f"{where}: commit names another block"
    power = {b64(v["key"]): int(v["power"]) for v in validators}
    msg = vote_sign_bytes(header["chain_id"], height, commit["round"], block_hash)
    signed_power, seen = 0, set()
    for s in commit["signatures"]:
        key = b64(s["validator"])
        assert key in power and key not in seen, f"{where}: commit signer {key.hex()}"
        assert verify(key, msg, b64(s["signature"])), f"{where}: commit signature"
        seen.add(key)
        signed_power += power[key]
    assert 3 * signed_power > 2 * sum(power.values()), f"{where}: commit power"
    return entry["block_hash"]


def check_chain(node, verify=None):
    """Every block 1..H of a node, checked by check_block (with verify) in order. Returns (H,
    {tx_id: (height, index)} of every tx)."""
    head = node.status()
    validators = node.get_json("/v1/validators")["validators"]
    height, prev_hash, txs = 1, None, {}
    while height <= head["height"]:
        page = node.get_json(f"/v1/blocks?from={height}&to={head['height']}")["blocks"]
        assert page, f"no blocks from {height}"
        for entry in page:
            assert entry["block"]["header"]["height"] == str(height), "heights not consecutive"
            prev_hash = check_block(entry, prev_hash, validators, verify)
            for index, tx in enumerate(entry["block"]["txs"]):
                txs[tx_id(b64(tx))] = (height, index)
            height += 1
    assert head["latest_block_hash"] == (prev_hash or "0" * 64)
    return head["height"], txs
