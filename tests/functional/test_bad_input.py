"""Bad input keeps the node serving: a forged signature, a replayed nonce, garbage bodies, a
10 MiB body and bytes that are not HTTP are refused with their codes, leave no trace in the
state, and the valid txs that follow commit."""
import socket

from chain import check_chain
from conftest import HOST, b64_to_hex, error_code

MIB = 1024 * 1024


def test_bad_input_then_valid_txs_commit(start_node):
    node = start_node(voting_period=60)
    proposal = node.bas_json("propose", "--key", "gov-1", "--coalition", "bas-dc", "--title",
                             "T", "--resolution", "Text")  # gov-1's nonce 0
    pid = proposal["tx_id"]
    genuine = node.sign("gov-2", 0, "vote", pid, "YES", "--reason", "genuine")
    forged = bytearray(genuine)
    forged[-1] ^= 0x80  # a bit of the signature
    replayed = node.sign("gov-1", 0, "vote", pid, "NO", "--reason", "replay")

    for _ in range(3):
        r = node.post_tx(bytes(forged), wait=True)
        assert (r.status_code, error_code(r)) == (422, "BAD_SIGNATURE"), r.text
        r = node.post_tx(replayed, wait=True)
        assert (r.status_code, error_code(r)) == (422, "BAD_NONCE"), r.text
        r = node.post_tx(b"\x0a\xff\xff\xff\xff\x0f garbage")
        assert (r.status_code, error_code(r)) == (400, "MALFORMED"), r.text
        r = node.post_tx(b'{"body": 1', content_type="application/json")
        assert (r.status_code, error_code(r)) == (400, "MALFORMED"), r.text
        r = node.post_tx(b"\x00" * (10 * MIB))
        assert (r.status_code, error_code(r)) == (413, "TOO_LARGE"), r.text
        with socket.create_connection((HOST, node.port), timeout=5) as s:
            s.sendall(b"\x00\x01\x02 not HTTP at all\r\n\r\n")
            assert s.recv(4096) == b""
        node.assert_serving()

    status = node.assert_serving()
    assert status["mempool_size"] == 0
    for height in range(proposal["height"] + 1, status["height"] + 1):  # idle blocks at most
        block = node.get_json(f"/v1/blocks/{height}")["block"]
        assert block["txs"] == [], f"a refused tx went into block {height}"

    # the genuine tx (the forged one's original) commits with the nonce the forgery claimed
    r = node.post_tx(genuine, wait=True)
    assert r.status_code == 200, r.text
    assert r.json()["height"] > status["height"]
    node.bas("verify-vote", r.json()["tx_id"])
    # gov-1 votes through bas with its next nonce, 1: the replay did not use it up
    assert node.bas_json("account", "--key", "gov-1")["next_nonce"] == 1
    gov1_vote = node.bas_json("vote", pid, "YES", "--key", "gov-1")
    assert gov1_vote["height"] > r.json()["height"]

    votes = node.get_json(f"/v1/proposals/{pid}/votes")
    assert [(v["member_id"], v["choice"], v["reason"]) for v in votes["history"]] == \
        [("gov-2", "YES", "genuine"), ("gov-1", "YES", "")]
    assert [b64_to_hex(v["tx_id"]) for v in votes["history"]][0] == r.json()["tx_id"]
    tally = node.get_json(f"/v1/proposals/{pid}")["tally"]
    assert (tally["yes"], tally["no"]) == ("2", "0")
    # the chain (checked block by block, chain.py) holds these three txs and nothing else
    _, chain_txs = check_chain(node)
    assert sorted(chain_txs) == sorted([pid, r.json()["tx_id"], gov1_vote["tx_id"]])
