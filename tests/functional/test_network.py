"""A network of four validators (DESIGN.md sections 5, 6 and 8): each a real `basd` process on
127.0.0.1 made by `basd localnet`, agreeing with Tendermint over the TLS p2p of docs/p2p.md.

Every test builds its own network (localnet.py): the genesis of `basd localnet` with a 1 s idle
interval (so a stalled chain is told from an idle one within seconds) and eight test members
whose keys the test holds, signing votes in plain Python. Properties, each polled with a
deadline:
- a tx sent to one node is committed on all four, and every node has the same block hash at
  every height (no fork), with commits of more than 2/3 of the power (checked from
  docs/encoding.md by chain.py, last_commit signatures included);
- kill -9 of one validator under load: the chain goes on, the node catches up and signs again,
  no acknowledged tx is lost on any node;
- two of four down, or a 2|2 partition (netproxy.py): no progress and no fork; one back, or
  healed: progress;
- a node started after 200 blocks syncs from genesis to the same chain;
- an observer (a fifth node, no validator, in the validators' p2p.observers) follows the chain,
  serves the API with proofs, gets a tx sent to it committed and never signs; the same node
  not listed as an observer is refused and stays at height 0;
- a TLS client with an unknown key, a forged hello, garbage and oversized frames are cut off
  and the node goes on;
- a rolling restart of all four under load loses nothing.
And throughout (conftest.py's `localnet` fixture and assert_peers_behaved): no node dies unless
the test kills it (a crash is reported with the backtrace of its core), every node exits on
SIGTERM, and honest validators never cut each other off as misbehaving (docs/p2p.md).

The tests marked `slow` run as the ctest entry functional.network_slow, the others as
functional.network (BAS_NETWORK_TESTS selects; unset, all run).
"""
import csv
import os
import socket
import threading
import time
from pathlib import Path

import pytest

import chain
from localnet import (CHAIN_ID, ROLE_SERVER, P2pClient, SchnorrKey, VoteLoad, auth_bytes,
                      fast_bip340_verify, frame, hello_frame, parse_fields, read_key_file,
                      _field_varint, _message_field)
from netproxy import NetProxy

LOAD_MEMBERS = 8
# Consensus timeouts for a test whose network misses a proposer for long (ConsensusParams in
# genesis; the node's defaults are 3000/1000/1000/500 ms).
FAST_TIMEOUTS = {"timeout_propose_ms": 400, "timeout_prevote_ms": 200,
                 "timeout_precommit_ms": 200, "timeout_delta_ms": 100}
IDLE_FRAMES_PER_S = 200  # an idle chain: about 10 per link and direction
STALL_WINDOW_S = 6.0  # six idle intervals with a tx waiting: a live chain commits in this time


def up(localnet, nodes=None, **kw):
    """A 4-validator network with LOAD_MEMBERS test members, the given nodes started (all by
    default) and past its first block."""
    kw.setdefault("test_members", LOAD_MEMBERS)
    net = localnet(**kw)
    net.start(nodes)
    net.wait_height(1, timeout=60)
    return net


def vote_once(net, node, member, proposal_id, wait=True):
    """One vote of a test member (its next nonce), POSTed to `node`; returns (tx_id, response)."""
    nonce = node.next_nonce(net.members[member][1].public)
    tx = net.vote_tx(member, nonce, proposal_id, round_no=900 + nonce)
    return chain.tx_id(tx), node.post_tx(tx, wait=wait)


def assert_stalled(net, nodes, tx_id, window=STALL_WINDOW_S, top=None):
    """For `window` seconds: no given node commits above `top` (default: their height now + 1,
    the one block that may have been decided just before the fault) and none has the tx (sent
    after the fault, so no block decided before it can hold it). Returns the heights."""
    if top is None:
        top = max(n.height() for n in nodes) + 1
    deadline = time.monotonic() + window
    while time.monotonic() < deadline:
        for n in nodes:
            h = n.height()
            assert h <= top, f"{n.name} committed height {h} > {top} without a quorum"
            assert n.tx(tx_id) is None, f"{n.name} committed {tx_id} without a quorum"
        time.sleep(0.25)
    return {n.name: n.height() for n in nodes}


# ------------------------------------------------------------------ the proxy itself

def test_netproxy_partitions_heals_and_delays():
    """The fault injector on a toy echo server: forwarding, cut and refusal while partitioned,
    recovery on heal, added latency."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)

    def echo():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=lambda c: [c.sendall(d) for d in iter(lambda: c.recv(4096),
                                                                           b"")], args=(conn,),
                             daemon=True).start()

    threading.Thread(target=echo, daemon=True).start()
    proxy = NetProxy()
    try:
        port = proxy.add_link(0, 1, server.getsockname()[1])

        def round_trip(sock, data=b"ping"):
            sock.sendall(data)
            got = b""
            while len(got) < len(data):
                chunk = sock.recv(4096)
                if not chunk:
                    return None
                got += chunk
            return got

        a = socket.create_connection(("127.0.0.1", port), timeout=5)
        assert round_trip(a) == b"ping"
        assert proxy.open_connections(0, 1) == 1

        proxy.partition({0}, {1})
        try:
            cut = round_trip(a) is None
        except OSError:
            cut = True
        assert cut, "an open connection survived the partition"
        b = None
        try:
            b = socket.create_connection(("127.0.0.1", port), timeout=5)
            refused = round_trip(b) is None
        except OSError:  # reset while connecting, on the write, or on the read
            refused = True
        assert refused, "a new connection crossed the partition"
        assert proxy.counters()[(0, 1)]["refused"] >= 1

        proxy.heal()
        c = socket.create_connection(("127.0.0.1", port), timeout=5)
        assert round_trip(c, b"again") == b"again"

        proxy.set_delay(0.3)
        started = time.monotonic()
        assert round_trip(c, b"slow") == b"slow"
        assert time.monotonic() - started >= 0.3
        proxy.set_delay(0)
        # Counted once written: the echo may arrive a moment before the count.
        deadline = time.monotonic() + 5
        while proxy.counters()[(0, 1)].get("bytes_back", 0) < len(b"pingagainslow"):
            assert time.monotonic() < deadline, proxy.counters()
            time.sleep(0.01)
        counters = proxy.counters()[(0, 1)]
        assert counters["bytes_forward"] == counters["bytes_back"] == len(b"pingagainslow")
        for s in (a, b, c):
            if s is not None:
                s.close()
    finally:
        proxy.close()
        server.close()


def test_signing_and_fast_verify_match_the_bip340_vectors():
    """localnet.py's signer and fast verifier (which chain checks use here) against BIP340's
    published vectors, next to chain.py's reference verifier."""
    vectors = Path(__file__).resolve().parents[1] / "data" / "bip340-test-vectors.csv"
    rows = list(csv.DictReader(vectors.open()))
    assert len(rows) >= 15
    for row in rows:
        public, msg = bytes.fromhex(row["public key"]), bytes.fromhex(row["message"])
        sig, expected = bytes.fromhex(row["signature"]), row["verification result"] == "TRUE"
        if row["secret key"]:
            key = SchnorrKey(bytes.fromhex(row["secret key"]))
            assert key.public == public, row["index"]
            assert key.sign(msg, bytes.fromhex(row["aux_rand"])) == sig, row["index"]
        assert fast_bip340_verify(public, msg, sig) == expected, row["index"]
        assert chain.bip340_verify(public, msg, sig) == expected, row["index"]


# ------------------------------------------------------------------ agreement

def test_tx_sent_to_one_node_is_committed_on_all_with_one_chain(localnet):
    net = up(localnet)
    n0, n1, n2, n3 = net.nodes
    # Through the bas client and the demo keystore: a proposal sent to node1 only.
    proposal = net.bas_json(n1, "propose", "--key", "gov-1", "--coalition", "bas-dc",
                            "--title", "Network test", "--resolution", "Four nodes agree")
    placed = net.wait_tx(proposal["tx_id"], timeout=30)
    assert set(placed.values()) == {(proposal["height"], proposal["index"])}, placed
    # A vote sent to node3 only, then its proof checked against node0 (bas verify-vote: the tx
    # in the block, the header, and commit signatures of > 2/3 of the validator set's power).
    vote = net.bas_json(n3, "vote", proposal["tx_id"], "YES", "--key", "gov-2",
                        "--reason", "sent to node3")
    placed = net.wait_tx(vote["tx_id"], timeout=30)
    assert set(placed.values()) == {(vote["height"], vote["index"])}, placed
    net.bas(n0, "verify-vote", vote["tx_id"])
    records = [n.tx(vote["tx_id"]) for n in net.nodes]
    assert len({(r["tx"]["signature"], r["block_hash"]) for r in records}) == 1
    for n in net.nodes:
        votes = n.get_json(f"/v1/proposals/{proposal['tx_id']}/votes")["votes"]
        assert [(v["member_id"], v["reason"]) for v in votes] == [("gov-2", "sent to node3")], n.name

    # Idle blocks until every validator has proposed (round-robin), then: one chain.
    validators = n0.get_json("/v1/validators")["validators"]
    assert len(validators) == 4
    net.wait_height(max(8, vote["height"] + 4), timeout=60)
    top = net.assert_same_chain()
    height, txs, signers = net.check_commits(n2)
    assert txs[vote["tx_id"]] == (vote["height"], vote["index"])
    proposers = {chain.b64(e["block"]["header"]["proposer"]).hex() for e in n2.blocks(1, top)}
    assert proposers == {n.key for n in net.nodes}, "the proposer does not rotate"
    assert all(len(keys) >= 3 for keys in signers.values())
    net.assert_peers_behaved()


# ------------------------------------------------------------------ crashes

def test_kill9_one_validator_under_load(localnet):
    net = up(localnet)
    n0, n1, n2, n3 = net.nodes
    proposal = net.propose(n0)
    load = VoteLoad(net, proposal, range(LOAD_MEMBERS))
    try:
        load.wait_acks(20, timeout=60)
        n2.kill9()
        at_kill = max(h for h in net.heights().values() if h is not None)
        acks_at_kill = load.count()
        # The other three (30 of 40) go on.
        net.wait_height(at_kill + 3, nodes=[n0, n1, n3], timeout=60)
        load.wait_acks(acks_at_kill + 20, timeout=60)

        n2.start()
        restart_height = max(n.height() for n in (n0, n1, n3))
        net.wait_height(restart_height, nodes=[n2], timeout=60)  # caught up by block sync
        signed_at = net.wait_signed_by(n2.key, restart_height, n0, timeout=60)
        load.wait_acks(load.count() + 20, timeout=60)
    finally:
        acks = load.stop()
    print(f"acks {len(acks)}, other answers {load.refusals}")
    load.assert_no_refusals()
    assert len(acks) >= 60
    assert signed_at > restart_height
    net.wait_progress(1, timeout=30)
    net.assert_same_chain()
    load.assert_all_on(net.nodes)
    net.check_commits(n2)
    net.assert_peers_behaved()


def test_two_of_four_down_stalls_without_fork_then_one_back_resumes(localnet):
    net = up(localnet)
    n0, n1, n2, n3 = net.nodes
    proposal = net.propose(n0)
    n2.kill9()
    n3.kill9()
    # 20 of 40 is not > 2/3: a vote sent now must not commit, nor any block past the one that
    # may have been decided as the nodes died.
    tx_id, r = vote_once(net, n0, 1, proposal, wait=False)
    assert r.status_code == 202, r.text
    stalled = assert_stalled(net, [n0, n1], tx_id)
    assert n0.tx(tx_id) is None
    net.assert_same_chain([n0, n1])

    n2.start()  # 30 of 40
    placed = net.wait_tx(tx_id, nodes=[n0, n1, n2], timeout=60)
    assert len(set(placed.values())) == 1
    net.wait_height(max(stalled.values()) + 2, nodes=[n0, n1, n2], timeout=60)
    n3.start()
    net.wait_height(max(n.height() for n in (n0, n1, n2)), nodes=[n3], timeout=60)
    net.assert_same_chain(net.nodes)
    net.check_commits(n3)
    net.assert_peers_behaved()


def test_partition_two_two_stalls_without_fork_then_heals(localnet):
    proxy = NetProxy()
    net = up(localnet, proxy=proxy)
    n0, n1, n2, n3 = net.nodes
    proposal = net.propose(n0)
    net.wait_progress(2, timeout=30)
    # Every pair is connected through the proxy (one of its two links carries the session).
    counters = proxy.counters()
    for i in range(4):
        for j in range(i + 1, 4):
            carried = counters[(i, j)].get("bytes_forward", 0) + counters[(j, i)].get(
                "bytes_forward", 0)
            assert carried > 0, f"no traffic between node{i} and node{j} through the proxy"

    # An idle chain (one block a second) is quiet: a few frames a second per link, counted as
    # the TLS records the proxy forwards. (A storm of gossip would show here long before the
    # peers' flood limit of 2,000 frames/s cuts a validator off.)
    before = proxy.counters()
    started = time.monotonic()
    net.wait_progress(2, timeout=30)
    elapsed = time.monotonic() - started
    after = proxy.counters()
    for link in after:
        for direction in ("records_forward", "records_back"):
            rate = (after[link].get(direction, 0) - before[link].get(direction, 0)) / elapsed
            assert rate < IDLE_FRAMES_PER_S, (
                f"link node{link[0]}->node{link[1]} ({direction}): {rate:.0f} TLS records/s on an "
                f"idle chain")

    proxy.partition({0, 1}, {2, 3})
    tx_a, r = vote_once(net, n0, 1, proposal, wait=False)
    assert r.status_code == 202, r.text
    tx_b, r = vote_once(net, n2, 2, proposal, wait=False)
    assert r.status_code == 202, r.text
    stalled = assert_stalled(net, net.nodes, tx_a)
    for n in net.nodes:
        assert n.tx(tx_b) is None, f"{n.name} committed {tx_b} inside a 2|2 partition"
    net.assert_same_chain()  # no fork up to the lowest height

    proxy.heal()
    placed_a = net.wait_tx(tx_a, timeout=90)
    placed_b = net.wait_tx(tx_b, timeout=30)
    assert len(set(placed_a.values())) == 1 and len(set(placed_b.values())) == 1
    net.wait_height(max(stalled.values()) + 2, timeout=60)
    net.assert_same_chain()
    net.check_commits(n3)
    net.assert_peers_behaved()


# ------------------------------------------------------------------ joining late

@pytest.mark.slow
def test_late_node_syncs_200_blocks_from_genesis(localnet):
    # 30 of 40 commit without node3; but every fourth height is node3's to propose and waits
    # out timeout_propose (3 s by default) first: short timeouts make 200 blocks in seconds.
    net = up(localnet, nodes=[0, 1, 2], params=FAST_TIMEOUTS)
    n0, n1, n2, n3 = net.nodes
    proposal = net.propose(n0)
    load = VoteLoad(net, proposal, range(LOAD_MEMBERS))
    try:
        net.wait_height(200, nodes=[n0, n1, n2], timeout=120)
    finally:
        load.stop()
    load.assert_no_refusals()
    target = max(n.height() for n in (n0, n1, n2))
    started = time.monotonic()
    n3.start()
    net.wait_height(target, nodes=[n3], timeout=120)
    sync_s = time.monotonic() - started
    print(f"node3 synced {target} blocks in {sync_s:.1f} s")
    net.assert_same_chain(net.nodes)
    height, txs, _ = net.check_commits(n3)  # the late node's copy, block by block
    load.assert_all_on([n3])
    assert len(txs) >= len(load.acks) + 1
    net.wait_signed_by(n3.key, height, n0, timeout=60)  # and it validates
    net.assert_peers_behaved()


# ------------------------------------------------------------------ observers

def test_observer_follows_serves_and_forwards_txs_but_never_signs(localnet):
    """A fifth node whose key is no validator's, in every validator's p2p.observers, with the
    validators as its persistent peers (docs/network.md); and a sixth set up the same way but
    not listed, which the validators must refuse (P2P_UNAUTHORIZED)."""
    net = localnet(test_members=LOAD_MEMBERS)
    observer = net.add_node("observer", observer=True)
    stranger = net.add_node("stranger", observer=False)
    net.start()
    observer.start()
    stranger.start()
    n0, n1, n2, n3 = net.nodes
    validators = {chain.b64(v["key"]).hex() for v in n0.get_json("/v1/validators")["validators"]}
    assert validators == {n.key for n in net.nodes}
    assert observer.key not in validators and stranger.key not in validators
    everyone = net.nodes + [observer]

    # It follows: level with the validators within a few seconds of each height, the same
    # block hash at every height it has.
    net.wait_height(3, nodes=everyone, timeout=30)
    top = max(n.height() for n in net.nodes)
    net.wait_height(top, nodes=[observer], timeout=10)
    net.assert_same_chain(everyone)

    # It serves the API: its status, and a tx committed through a validator, with the proof
    # (tx leaf in the header, header hash, commit of > 2/3 of the power) checked by bas.
    status = observer.status()
    assert (status["chain_id"], status["node_key"]) == (CHAIN_ID, observer.key)
    assert status["height"] >= top
    proposal = net.propose(n0)
    net.wait_tx(proposal, nodes=[observer], timeout=10)
    assert observer.tx(proposal)["block_hash"] == n0.tx(proposal)["block_hash"]
    net.bas(observer, "verify-vote", proposal)

    # A tx sent to the observer only is forwarded to the validators and committed.
    tx_id, r = vote_once(net, observer, 1, proposal, wait=True)
    assert r.status_code == 200, r.text
    placed = net.wait_tx(tx_id, nodes=everyone, timeout=30)
    assert set(placed.values()) == {(r.json()["height"], r.json()["index"])}, placed
    net.bas(n2, "verify-vote", tx_id)

    # It never signs: every commit on the observer's copy of the chain, stored commits and
    # last_commits alike, checked block by block, is by validators only.
    net.wait_progress(2, nodes=everyone, timeout=30)
    top = net.assert_same_chain(everyone)
    height, txs, signers = net.check_commits(observer)
    assert height >= top and tx_id in txs
    signed = set().union(*signers.values())
    assert signed <= validators and observer.key not in signed, signed - validators

    # The stranger got nothing: every validator refused its key, and it is still at height 0.
    assert stranger.height() == 0, "a node in no validator's observers got blocks"
    refusal = f"disconnected {stranger.key[:16]}: P2P_UNAUTHORIZED"
    for n in net.nodes:
        assert refusal in n.log_text(), f"{n.name} logged no refusal of the stranger"
        assert f"{observer.key[:16]}: P2P_UNAUTHORIZED" not in n.log_text()
    net.assert_peers_behaved()  # no validator or observer cut another off


# ------------------------------------------------------------------ hostile p2p clients

def _status_request(request_id):
    return frame(_message_field(5, _field_varint(1, request_id)))


def _read_status_response(client, request_id, timeout=5.0):
    """Reads frames until a StatusResponse for request_id; its height, or None if closed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        payload = client.read_frame(timeout=max(0.1, deadline - time.monotonic()))
        if payload is None:
            return None
        message = parse_fields(payload)
        if 6 in message:
            response = parse_fields(message[6][0])
            if response.get(1, [0])[0] == request_id:
                return response.get(2, [0])[0]
    raise AssertionError(f"request {request_id}: neither answered nor closed within {timeout} s")


def _handshake(port):
    """TLS 1.3 to the node's p2p port; reads and checks its hello (signed by its key for this
    session as the TLS server). Returns (client, node key)."""
    client = P2pClient(port)
    hello = client.read_hello()
    assert hello is not None, "the node closed before its hello"
    key, signature, chain_id, version = hello
    assert (chain_id, version) == (CHAIN_ID, 1)
    message = chain.tagged_hash("bas/p2p-auth", auth_bytes(client.exporter, CHAIN_ID,
                                                           ROLE_SERVER, key))
    assert chain.bip340_verify(key, message, signature), "the node's hello does not verify"
    return client, key.hex()


def test_unknown_keys_and_bad_frames_are_cut_off_and_the_node_goes_on(localnet):
    pytest.importorskip("OpenSSL", reason="python3-openssl (the TLS exporter) is not installed")
    net = up(localnet, nodes=[0, 1, 2])  # node3's key is free for a client to prove
    n0, n1, n2, n3 = net.nodes
    node3_key = read_key_file(n3.home / "node_key.json")
    port = n0.p2p_port

    # Control: the same client proving a validator's key is admitted and answered.
    client, key = _handshake(port)
    assert key == n0.key
    client.send(hello_frame(node3_key, client.exporter) + _status_request(7))
    assert (_read_status_response(client, 7) or 0) >= 1, "a validator's hello was refused"
    # ... then a frame that does not parse, after authentication: cut off.
    client.send(frame(b"\xff\xff\xff\xff\xff"))
    assert client.wait_closed(5), "a garbage frame did not close the connection"
    client.close()

    # ... an oversized frame after authentication (over max_frame_bytes, 8 MiB): cut off as
    # soon as the header is read.
    client, _ = _handshake(port)
    client.send(hello_frame(node3_key, client.exporter) + _status_request(8))
    assert _read_status_response(client, 8) is not None
    client.send((8 * 1024 * 1024 + 1).to_bytes(4, "big"))
    assert client.wait_closed(5), "an oversized frame did not close the connection"
    client.close()

    # A key outside the validator set, with a hello that verifies: refused, nothing answered.
    client, _ = _handshake(port)
    client.send(hello_frame(SchnorrKey.fresh(), client.exporter) + _status_request(9))
    assert _read_status_response(client, 9) is None, "an unknown key was answered"
    client.close()

    # A validator's key claimed without its secret (signed for another session): refused.
    client, _ = _handshake(port)
    stolen = hello_frame(node3_key, os.urandom(32))
    client.send(stolen + _status_request(10))
    assert _read_status_response(client, 10) is None, "a hello over another session passed"
    client.close()

    # Before any hello: a frame that does not parse, another kind of message, an oversized
    # first frame (the hello is at most 512 bytes).
    for first in (frame(b"\xff" * 40), _status_request(11)):
        client, _ = _handshake(port)
        client.send(first)
        assert client.wait_closed(5), f"{first[:12].hex()} as the hello did not close"
        client.close()
    client, _ = _handshake(port)
    client.send((513).to_bytes(4, "big") + b"\x0a" * 513)
    assert client.wait_closed(5), "an oversized hello did not close the connection"
    client.close()

    # Not TLS at all.
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        raw.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" + os.urandom(256))
        raw.settimeout(5)
        try:
            while raw.recv(4096):
                pass
        except ConnectionResetError:
            pass

    # Each for the documented reason (docs/p2p.md, "Error codes"), logged at warn.
    log = n0.log_text()
    for code in ("P2P_BAD_FRAME", "P2P_FRAME_TOO_LARGE", "P2P_UNAUTHORIZED", "P2P_BAD_SIGNATURE",
                 "P2P_BAD_HELLO", "P2P_TLS_FAILED"):
        assert code in log, f"node0 logged no {code}"

    # node0 goes on: it still serves its peers and commits.
    assert n0.running
    proposal = net.propose(n0)
    net.wait_tx(proposal, nodes=[n0, n1, n2], timeout=30)
    net.wait_progress(2, nodes=[n0, n1, n2], timeout=30)
    n3.start()
    net.wait_height(max(n.height() for n in (n0, n1, n2)), nodes=[n3], timeout=60)
    net.assert_same_chain(net.nodes)


# ------------------------------------------------------------------ rolling restart

@pytest.mark.slow
def test_rolling_restart_under_load_loses_nothing(localnet):
    net = up(localnet)
    proposal = net.propose(net.nodes[0])
    load = VoteLoad(net, proposal, range(LOAD_MEMBERS))
    try:
        load.wait_acks(20, timeout=60)
        for node in net.nodes:
            others = [n for n in net.nodes if n is not node]
            node.stop()  # SIGTERM: exit 0
            acks = load.count()
            net.wait_progress(2, nodes=others, timeout=60)
            load.wait_acks(acks + 10, timeout=60)
            node.start()
            back_at = max(n.height() for n in others)
            net.wait_height(back_at, nodes=[node], timeout=60)
            net.wait_signed_by(node.key, back_at, others[0], timeout=60)
        load.wait_acks(load.count() + 10, timeout=60)
    finally:
        acks = load.stop()
    print(f"acks {len(acks)}, other answers {load.refusals}")
    load.assert_no_refusals()
    assert len(acks) >= 100
    net.wait_progress(1, timeout=30)
    net.assert_same_chain(net.nodes)
    load.assert_all_on(net.nodes)
    net.check_commits(net.nodes[3])
    net.assert_peers_behaved()
