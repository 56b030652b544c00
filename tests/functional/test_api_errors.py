"""Every error of docs/api.md that a dev node can be made to give, with its HTTP status and stable
code, and after each one the node still answers /v1/status. (500 INTERNAL is a bug: no test can
ask for it.) Limits are lowered through config.toml, which `basd start --dev` keeps."""
import base64
import socket
import time

import pytest
import requests

from chain import signed_tx_fields, tx_id
from conftest import HOST, error_code

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def node(start_node):
    return start_node(voting_period=600)  # `proposal` stays open for the whole module


@pytest.fixture(scope="module")
def proposal(node):
    """gov-1's resolution (gov-1's nonce 0), active for the whole module."""
    return node.bas_json("propose", "--key", "gov-1", "--coalition", "bas-dc", "--title", "T",
                         "--resolution", "Text")


def expect_error(response, status, code):
    assert (response.status_code, error_code(response)) == (status, code), response.text
    assert response.json()["error"]["message"], "an error must say what went wrong"


@pytest.mark.parametrize("body, content_type", [
    (b"{not json", "application/json"),
    (b'{"body": "%%% not base64", "signer": "", "signature": ""}', "application/json"),
    (b"\xff\xff\xff\xff\x0f", "application/x-protobuf"),
    (b"\x0a\x10short", "application/octet-stream"),
    (b"hello", "text/plain"),
])
def test_400_malformed_body(node, body, content_type):
    expect_error(node.post_tx(body, content_type=content_type), 400, "MALFORMED")
    node.assert_serving()


@pytest.mark.parametrize("path", [
    "/v1/txs/not-hex",
    "/v1/txs/" + "ab" * 31,          # 62 digits
    "/v1/txs/" + "zz" * 32,
    "/v1/proposals/" + "g" * 64,
    "/v1/accounts/1234",
    "/v1/blocks/abc",
    "/v1/proposals?status=OPEN",
])
def test_400_malformed_path_or_query(node, path):
    expect_error(node.get(path), 400, "MALFORMED")
    node.assert_serving()


def test_400_wait_other_than_commit(node):
    r = requests.post(node.url + "/v1/txs?wait=soon", data=b"{}",
                      headers={"Content-Type": "application/json"})
    expect_error(r, 400, "MALFORMED")
    node.assert_serving()


@pytest.mark.parametrize("path", [
    "/v1/nope",
    "/v1/txs/" + "00" * 32,
    "/v1/blocks/1000000",
    "/v1/proposals/" + "ab" * 32,
    "/v1/proposals/" + "ab" * 32 + "/votes",
    "/v1/coalitions/no-such-dc",
])
def test_404_not_found(node, path):
    expect_error(node.get(path), 404, "NOT_FOUND")
    node.assert_serving()


def test_404_for_a_known_proposal_is_not_given(node, proposal):
    # the control: the same routes answer once the thing exists
    assert node.get(f"/v1/proposals/{proposal['tx_id']}").status_code == 200
    assert node.get(f"/v1/txs/{proposal['tx_id']}").status_code == 200
    assert node.get(f"/v1/blocks/{proposal['height']}").status_code == 200


@pytest.mark.parametrize("method, path", [
    ("DELETE", "/v1/status"),
    ("POST", "/v1/status"),
    ("PUT", "/v1/txs"),
    ("DELETE", "/v1/txs/" + "00" * 32),
])
def test_405_method_not_allowed(node, method, path):
    expect_error(requests.request(method, node.url + path), 405, "METHOD_NOT_ALLOWED")
    node.assert_serving()


def test_413_body_over_the_limit(node):
    # 10 MiB against the default rpc.max_body_bytes of 4 MiB
    r = node.post_tx(b"\x00" * (10 * MIB))
    expect_error(r, 413, "TOO_LARGE")
    node.assert_serving()


def test_413_headers_over_the_limit(node):
    r = node.get("/v1/status", headers={"X-Padding": "a" * 20000})
    expect_error(r, 413, "TOO_LARGE")
    node.assert_serving()


def test_413_batch_of_more_than_1000(node):
    r = requests.post(node.url + "/v1/txs", json={"txs": [{}] * 1001})
    expect_error(r, 413, "TOO_LARGE")
    node.assert_serving()


def test_422_forged_signature(node, proposal):
    nonce = node.get_json(f"/v1/accounts/{node.public_key('gov-2')}")["next_nonce"]
    tx = bytearray(node.sign("gov-2", nonce, "vote", proposal["tx_id"], "NO"))
    tx[-1] ^= 0x01  # the signature is the SignedTx's last field
    expect_error(node.post_tx(bytes(tx)), 422, "BAD_SIGNATURE")
    expect_error(node.post_tx(bytes(tx), wait=True), 422, "BAD_SIGNATURE")
    node.assert_serving()


def test_422_wrong_chain(node, proposal):
    node_chain = node.chain_id
    try:
        node.chain_id = "another-chain"
        tx = node.sign("gov-2", 0, "vote", proposal["tx_id"], "NO")
    finally:
        node.chain_id = node_chain
    expect_error(node.post_tx(tx), 422, "INVALID_ARGUMENT")
    node.assert_serving()


def test_422_nonce_too_far_ahead(node, proposal):
    tx = node.sign("gov-2", 1000, "vote", proposal["tx_id"], "NO")
    expect_error(node.post_tx(tx), 422, "BAD_NONCE")
    node.assert_serving()


def test_422_used_nonce(node, proposal):
    # gov-1's nonce 0 went into the proposal: another tx with nonce 0 is a replay
    tx = node.sign("gov-1", 0, "vote", proposal["tx_id"], "YES")
    expect_error(node.post_tx(tx), 422, "BAD_NONCE")
    node.assert_serving()


def test_resubmitting_a_committed_tx_is_not_an_error(node, proposal):
    # the exact SignedTx bytes, as the block holds them
    raw = node.get_json(f"/v1/blocks/{proposal['height']}")["block"]["txs"][proposal["index"]]
    r = node.post_tx(base64.b64decode(raw), wait=True)
    assert r.status_code == 200, r.text
    assert (r.json()["tx_id"], r.json()["height"], r.json()["index"]) == \
        (proposal["tx_id"], proposal["height"], proposal["index"])


def signed_tx_json(tx):
    body, signer, signature = signed_tx_fields(tx)
    return {k: base64.b64encode(v).decode() for k, v in
            [("body", body), ("signer", signer), ("signature", signature)]}


def test_json_batch_answers_each_entry(node, proposal):
    genuine = node.sign("priv-1", 0, "vote", proposal["tx_id"], "YES")
    forged = bytearray(node.sign("civ-1", 0, "vote", proposal["tx_id"], "NO"))
    forged[-1] ^= 0x01
    r = requests.post(node.url + "/v1/txs?wait=commit", json={"txs": [
        signed_tx_json(genuine), signed_tx_json(bytes(forged)), {"body": 5}]})
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [e["code"] for e in results] == ["OK", "BAD_SIGNATURE", "MALFORMED"], results
    assert results[0]["tx_id"] == tx_id(genuine)
    assert node.get_json(f"/v1/txs/{tx_id(genuine)}")["height"] == results[0]["height"]
    assert "height" not in results[1] and "height" not in results[2]
    assert results[2]["tx_id"] == ""  # not a SignedTx: no id
    # the same batch again: the committed entry answers as the first time
    again = requests.post(node.url + "/v1/txs?wait=commit",
                          json={"txs": [signed_tx_json(genuine)]}).json()["results"]
    assert (again[0]["code"], again[0]["height"], again[0]["index"]) == \
        ("OK", results[0]["height"], results[0]["index"])


def test_json_batch_refused_entry_names_its_tx(node, proposal):
    # docs/api.md: only a MALFORMED entry (not a SignedTx) has tx_id ""; a refused SignedTx has
    # an id (which does not cover the signature)
    forged = bytearray(node.sign("civ-1", 0, "vote", proposal["tx_id"], "ABSTAIN"))
    forged[-1] ^= 0x01
    r = requests.post(node.url + "/v1/txs", json={"txs": [signed_tx_json(bytes(forged))]})
    entry = r.json()["results"][0]
    assert entry["code"] == "BAD_SIGNATURE"
    assert entry["tx_id"] == tx_id(bytes(forged)), entry


def test_422_refused_by_the_block_builder(node, proposal):
    # admitted to the mempool (signature and nonce fine), refused when the block executes it
    tx = node.sign("applicant-1", 0, "vote", proposal["tx_id"], "YES")
    expect_error(node.post_tx(tx, wait=True), 422, "NOT_MEMBER")
    # through bas: exit 3 with the code
    p = node.bas("vote", proposal["tx_id"], "YES", "--key", "bmm-1", expect=3)
    assert "NOT_ELIGIBLE" in p.stderr
    node.assert_serving()


def test_429_rate_limited(start_node):
    rate = start_node(config_toml="[rpc]\nrate_limit_per_s = 1.0\n")
    time.sleep(2.1)  # the bucket (2 s worth: 2 requests) refills after the start-up polling
    with requests.Session() as s:
        responses = [s.get(rate.url + "/v1/status") for _ in range(10)]
        codes = [r.status_code for r in responses]
        assert codes[:2] == [200, 200], codes
        assert codes.count(200) <= 3, codes  # the bucket, and at most one token more
        expect_error(responses[-1], 429, "RATE_LIMITED")
        # bas reports a 429 with exit 1 (the bucket is empty: the next token is 1 s away)
        p = rate.bas("status", expect=1)
        assert "RATE_LIMITED" in p.stderr or "429" in p.stderr, p.stderr
        time.sleep(1.1)
        assert s.get(rate.url + "/v1/status").status_code == 200


def test_503_mempool_full_and_504_timeout(start_node):
    node = start_node(config_toml="[mempool]\nmax_txs = 3\n[rpc]\nwait_timeout_ms = 500\n")
    some_id = "ab" * 32  # the mempool checks no state beyond the nonce
    # gov-1's next nonce is 0: nonces 5.. are held back (a gap) and never reaped
    held = [node.sign("gov-1", n, "vote", some_id, "YES") for n in range(5, 9)]
    t0 = time.monotonic()
    expect_error(node.post_tx(held[0], wait=True), 504, "TIMEOUT")
    assert 0.4 < time.monotonic() - t0 < 5
    for tx in held[1:3]:
        r = node.post_tx(tx)
        assert r.status_code == 202, r.text
    assert node.assert_serving()["mempool_size"] == 3
    expect_error(node.post_tx(held[3]), 503, "MEMPOOL_FULL")
    # a tx the pool holds is answered as the first time, full or not
    r = node.post_tx(held[1])
    assert (r.status_code, r.json()["tx_id"]) == (202, tx_id(held[1])), r.text
    # a valid tx of another member is refused too while the pool is full, in a batch as an entry
    ok_tx = node.sign("gov-2", 0, "vote", some_id, "NO")
    expect_error(node.post_tx(ok_tx), 503, "MEMPOOL_FULL")
    r = requests.post(node.url + "/v1/txs?batch=1", data=batch([ok_tx]),
                      headers={"Content-Type": "application/x-protobuf"})
    assert r.status_code == 200, r.text
    assert [e["code"] for e in r.json()["results"]] == ["MEMPOOL_FULL"]
    assert node.assert_serving()["mempool_size"] == 3


def batch(txs):
    """A serialized TxBatch{repeated bytes txs = 1}."""
    out = b""
    for tx in txs:
        out += b"\x0a" + varint(len(tx)) + tx
    return out


def varint(n):
    out = b""
    while n >= 0x80:
        out += bytes([n & 0x7F | 0x80])
        n >>= 7
    return out + bytes([n])


def open_kept_connection(node):
    """A keep-alive connection the node has accepted (it answered a request on it), or None
    when the node refused it."""
    s = socket.create_connection((HOST, node.port), timeout=5)
    s.sendall(b"GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n")
    if s.recv(65536).startswith(b"HTTP/1.1 200"):
        return s
    s.close()
    return None


def test_503_too_many_connections(start_node):
    node = start_node(config_toml="[rpc]\nmax_connections = 2\n")
    kept = []
    try:
        deadline = time.monotonic() + 5
        while len(kept) < 2:  # the start-up poll's closed connection may still count a moment
            assert time.monotonic() < deadline, "the node refuses connections below its limit"
            s = open_kept_connection(node)
            if s:
                kept.append(s)
            else:
                time.sleep(0.1)
        expect_error(requests.get(node.url + "/v1/status"), 503, "TOO_MANY_CONNECTIONS")
    finally:
        for s in kept:
            s.close()
    deadline = time.monotonic() + 5
    while requests.get(node.url + "/v1/status").status_code != 200:
        assert time.monotonic() < deadline, "the node did not free the closed connections"
        time.sleep(0.1)


def test_not_http_gets_no_answer(node):
    with socket.create_connection((HOST, node.port), timeout=5) as s:
        s.sendall(b"\x16\x03\x01\x02\x00 garbage that is not HTTP\r\n\r\n")
        assert s.recv(4096) == b""  # closed without a response
    node.assert_serving()


def request_counts(node):
    """{(route, status): count} from bas_api_requests_total in /metrics."""
    counts = {}
    for line in node.get("/metrics").text.splitlines():
        if line.startswith("bas_api_requests_total{"):
            labels, value = line[len("bas_api_requests_total{"):].rsplit("} ", 1)
            fields = dict(item.split("=", 1) for item in labels.split(","))
            counts[(fields["route"].strip('"'), fields["status"].strip('"'))] = float(value)
    return counts


def test_metrics_count_the_refusals(node, proposal):
    before = request_counts(node)
    node.post_tx(b"\x00" * (10 * MIB))
    node.get("/v1/nope")
    node.get("/v1/txs/xyz")
    node.post_tx(node.sign("gov-1", 0, "vote", proposal["tx_id"], "NO"))
    after = request_counts(node)
    for key in [("none", "413"), ("none", "404"), ("/v1/txs/{tx_id}", "400"), ("/v1/txs", "422")]:
        assert after.get(key, 0) == before.get(key, 0) + 1, key
    assert after[("/metrics", "200")] == before.get(("/metrics", "200"), 0) + 1
