"""Crash safety (DESIGN.md sections 5 and 6): `kill -9` basd in the middle of a stream of votes,
restart it on the same home, and every tx the API acknowledged as committed (200 to
?wait=commit) is still there, the chain is unbroken and the node keeps committing.

Six members each submit their pre-signed votes in nonce order (one thread each, so blocks hold
several txs); the node is killed twice, each time once enough acknowledgements are in. After a
restart each member resubmits from its first unacknowledged vote: one that committed before the
crash is answered like the first time (docs/api.md), the others commit now. After each restart
the whole chain is checked block by block from docs/encoding.md (chain.py: hashes, links,
Merkle roots, commit signatures) and with `bas verify-vote`.
"""
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from chain import check_chain
from conftest import MEMBERS

ROUNDS = 8             # votes per member
ACKS_PER_CRASH = 10    # acknowledgements between a (re)start and the kill


def presign(node, proposal, first_nonce):
    """{member: [SignedTx bytes, one per round, nonces from first_nonce[member]]}."""
    def one(job):
        member, k = job
        return node.sign(member, first_nonce[member] + k, "vote", proposal,
                         "YES" if k % 2 == 0 else "NO", "--reason", f"round {k}")

    jobs = [(m, k) for m in MEMBERS for k in range(ROUNDS)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        txs = list(pool.map(one, jobs))
    return {m: [tx for (jm, _), tx in zip(jobs, txs) if jm == m] for m in MEMBERS}


class VoteStream:
    """One thread per member POSTs its txs from `start[member]` on with ?wait=commit and records
    every 200 as an acknowledgement; a thread stops at its first connection error."""

    def __init__(self, node, signed, start):
        self.acks = []        # (member, round, tx_id, height, index)
        self.unexpected = []  # any answer but 200 while the node was up
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, args=(node, m, signed[m], start[m]))
                        for m in MEMBERS]
        for t in self.threads:
            t.start()

    def run(self, node, member, txs, start):
        for k in range(start, len(txs)):
            try:
                r = node.post_tx(txs[k], wait=True, timeout=20)
            except requests.RequestException:
                return  # the node was killed
            with self.lock:
                if r.status_code != 200:
                    self.unexpected.append((member, k, r.status_code, r.text))
                    return
                body = r.json()
                self.acks.append((member, k, body["tx_id"], body["height"], body["index"]))

    def count(self):
        with self.lock:
            return len(self.acks)

    def join(self):
        for t in self.threads:
            t.join(timeout=30)
            assert not t.is_alive(), "a submitter hangs"


def check_after_restart(node, acks):
    """Every acknowledged tx is where the API said, in a chain that checks block by block
    (chain.check_chain: hashes, links, roots, commit signatures); returns the height."""
    height, chain_txs = check_chain(node)
    for member, k, tx_id, tx_height, index in acks:
        r = node.get(f"/v1/txs/{tx_id}")
        assert r.status_code == 200, f"{member}'s acknowledged vote {k} ({tx_id}) is lost"
        assert (r.json()["height"], r.json()["index"]) == (tx_height, index)
        assert chain_txs.get(tx_id) == (tx_height, index)
    # and the node's own proofs (bas verify-vote) of one tx per block
    for tx_height in sorted({a[3] for a in acks}):
        node.bas("verify-vote", next(a[2] for a in acks if a[3] == tx_height))
    return height


def test_kill9_during_a_vote_stream(start_node):
    node = start_node(voting_period=600, config_toml="[rpc]\nwait_timeout_ms = 10000\n")
    proposal = node.bas_json("propose", "--key", "gov-1", "--coalition", "bas-dc", "--title",
                             "Crash test", "--resolution", "Survive kill -9")["tx_id"]
    first_nonce = {m: node.bas_json("account", "--key", m)["next_nonce"] for m in MEMBERS}
    signed = presign(node, proposal, first_nonce)

    start = {m: 0 for m in MEMBERS}
    all_acks = []
    for crash in range(2):
        stream = VoteStream(node, signed, start)
        deadline = time.monotonic() + 60
        while stream.count() < ACKS_PER_CRASH and any(t.is_alive() for t in stream.threads):
            assert time.monotonic() < deadline, "the stream stalled"
            time.sleep(0.005)
        node.kill9()
        stream.join()
        assert stream.unexpected == [], stream.unexpected
        assert stream.count() >= ACKS_PER_CRASH
        all_acks += stream.acks
        for member, k, *_ in stream.acks:
            start[member] = max(start[member], k + 1)

        node.start()  # same home, a new port
        restart_height = check_after_restart(node, all_acks)

    # The rest of the votes: committed ones are answered again, the others commit now.
    for m in MEMBERS:
        for k in range(start[m], ROUNDS):
            r = node.post_tx(signed[m][k], wait=True)
            assert r.status_code == 200, f"{m} vote {k} after the restart: {r.text}"
    for m in MEMBERS:
        account = node.bas_json("account", "--key", m)
        assert account["next_nonce"] == first_nonce[m] + ROUNDS, m
    votes = node.get_json(f"/v1/proposals/{proposal}/votes")
    assert len(votes["history"]) == len(MEMBERS) * ROUNDS
    assert sorted((v["member_id"], v["reason"]) for v in votes["votes"]) == \
        sorted((m, f"round {ROUNDS - 1}") for m in MEMBERS)

    # The restarted node keeps committing: a new vote through bas, and its proof.
    fresh = node.bas_json("vote", proposal, "ABSTAIN", "--key", "gov-1")
    assert fresh["height"] > restart_height
    node.bas("verify-vote", fresh["tx_id"])
    height, chain_txs = check_chain(node)
    assert chain_txs[fresh["tx_id"]] == (fresh["height"], fresh["index"])
    assert len(chain_txs) == 1 + len(MEMBERS) * ROUNDS + 1  # the proposal, the votes, the fresh one
