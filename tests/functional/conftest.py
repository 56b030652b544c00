"""Fixtures for the functional tests: real `basd` processes on 127.0.0.1, driven through `bas`
and the HTTP API (docs/api.md, docs/cli.md).

Each test module asks `start_node` for dev nodes (`basd start --dev`: one validator, the dev
members gov-1, gov-2, priv-1, civ-1, tech-1, aca-1, bmm-1 and the non-member applicant-1, their
keys in HOME/keys with an empty passphrase). A node gets a fresh home under pytest's tmp dir and a
free loopback port; every node still running is stopped when the module ends, and a failing test
prints the tail of each node's log.

BAS_BIN and BASD_BIN name the binaries under test (tests/functional/CMakeLists.txt sets them).
"""
import base64
import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

BAS_BIN = os.environ.get("BAS_BIN", "")
BASD_BIN = os.environ.get("BASD_BIN", "")
HOST = "127.0.0.1"  # never another address
MEMBERS = ["gov-1", "gov-2", "priv-1", "civ-1", "tech-1", "aca-1"]  # role MEMBER in dev genesis

if not (BAS_BIN and BASD_BIN):
    pytest.exit("set BAS_BIN and BASD_BIN to the bas and basd binaries", returncode=2)


def b64_to_hex(value):
    return base64.b64decode(value).hex()


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def error_code(response):
    """The stable code of an API error body {"error": {"code", "message"}}."""
    return response.json()["error"]["code"]


class Node:
    """One `basd start --dev` process with its home; restartable on the same home."""

    def __init__(self, home, voting_period, config_toml=None):
        self.home = Path(home)
        self.voting_period = voting_period
        self.home.mkdir(parents=True, exist_ok=True)
        if config_toml is not None:
            # `basd start --dev` keeps an existing config.toml (it only fills in a missing one).
            (self.home / "config.toml").write_text(config_toml)
        self.log_path = self.home / "basd.log"
        self.proc = None
        self.port = None
        self.chain_id = None

    @property
    def url(self):
        return f"http://{HOST}:{self.port}"

    def start(self, timeout=20):
        self.port = free_port()
        log = open(self.log_path, "a")
        self.proc = subprocess.Popen(
            [BASD_BIN, "start", "--dev", "--home", str(self.home), "--rpc", f"{HOST}:{self.port}",
             "--voting-period", str(self.voting_period)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"basd exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                r = requests.get(self.url + "/v1/status", timeout=2)
                if r.status_code == 200:
                    self.chain_id = r.json()["chain_id"]
                    return self
                if r.status_code == 429:  # a node with a low rate limit is up
                    return self
            except requests.ConnectionError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"basd did not answer within {timeout} s:\n{self.log_tail()}")

    def stop(self):
        """SIGTERM, as an operator would; basd must exit 0."""
        if self.proc is None or self.proc.poll() is not None:
            return None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("basd did not stop within 15 s of SIGTERM")

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def log_tail(self, lines=30):
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    # ---- HTTP API ----

    def get(self, path, **kw):
        return requests.get(self.url + path, timeout=kw.pop("timeout", 30), **kw)

    def get_json(self, path):
        r = self.get(path)
        assert r.status_code == 200, f"GET {path}: {r.status_code} {r.text}"
        return r.json()

    def status(self):
        return self.get_json("/v1/status")

    def post_tx(self, body, wait=False, content_type="application/x-protobuf", timeout=30):
        path = "/v1/txs?wait=commit" if wait else "/v1/txs"
        return requests.post(self.url + path, data=body, timeout=timeout,
                             headers={"Content-Type": content_type})

    def assert_serving(self):
        r = self.get("/v1/status")
        assert r.status_code == 200, f"/v1/status: {r.status_code} {r.text}"
        return r.json()

    def wait_closed(self, proposal_id):
        """Polls until the proposal is no longer ACTIVE; returns GET /v1/proposals/{id}."""
        deadline = time.monotonic() + 3 * self.voting_period + 15
        while time.monotonic() < deadline:
            p = self.get_json(f"/v1/proposals/{proposal_id}")
            if p["proposal"]["status"] != "ACTIVE":
                return p
            time.sleep(0.2)
        raise AssertionError(f"proposal {proposal_id} still ACTIVE")

    # ---- the bas client ----

    def bas(self, *args, expect=0, node_url=None):
        """Runs `bas ARGS` against this node; asserts its exit status (None: any)."""
        env = dict(os.environ, BAS_NODE=node_url or self.url,
                   BAS_KEYSTORE=str(self.home / "keys"), BAS_PASSPHRASE="")
        p = subprocess.run([BAS_BIN, *map(str, args)], env=env, capture_output=True, text=True,
                           timeout=90)
        if expect is not None:
            assert p.returncode == expect, (
                f"bas {' '.join(map(str, args))}: exit {p.returncode}, expected {expect}\n"
                f"stdout: {p.stdout}\nstderr: {p.stderr}")
        return p

    def bas_json(self, *args):
        return json.loads(self.bas(*args, "--json").stdout)

    def public_key(self, key_name):
        return self.bas("keys", "export", key_name).stdout.strip()

    def sign(self, key_name, nonce, *tx, out_dir=None):
        """`bas tx sign --offline` (no network: the node URL is a dead port); returns the
        SignedTx bytes."""
        out = Path(out_dir or self.home) / f"{key_name}-{nonce}-{time.monotonic_ns()}.hex"
        self.bas("tx", "sign", "--offline", "--chain-id", self.chain_id, "--nonce", nonce,
                 "--key", key_name, "--out", out, *tx, node_url=f"http://{HOST}:9")
        return bytes.fromhex(out.read_text().strip())


_live_nodes = []  # the current module's nodes, for the logs of a failing test
_live_nets = []  # the current test's localnets, whose nodes' logs are shown too


@pytest.fixture(scope="module")
def start_node(tmp_path_factory):
    """start_node(voting_period=5, config_toml=None) -> a started Node in a fresh home."""

    def start(voting_period=5, config_toml=None):
        node = Node(tmp_path_factory.mktemp("basd-home"), voting_period, config_toml)
        _live_nodes.append(node)
        return node.start()

    yield start
    while _live_nodes:
        node = _live_nodes.pop()
        try:
            node.stop()
        finally:
            if node.proc and node.proc.poll() is None:
                node.proc.kill()
                node.proc.wait()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        # A real process misbehaving explains itself in its log more than in an assertion.
        for node in _live_nodes + [n for net in _live_nets for n in net.all_nodes()]:
            report.sections.append((f"basd log ({node.home})", node.log_tail()))


# ---- networks of validators (test_network.py; the helpers are in localnet.py) ----

def pytest_configure(config):
    config.addinivalue_line("markers", "slow: a network test run as its own ctest entry "
                                       "(functional.network_slow)")


def pytest_collection_modifyitems(config, items):
    """BAS_NETWORK_TESTS=fast keeps the tests not marked slow, =slow only those (the two ctest
    entries of test_network.py); unset, every test runs."""
    select = os.environ.get("BAS_NETWORK_TESTS")
    if select not in ("fast", "slow"):
        return
    keep = [i for i in items if (i.get_closest_marker("slow") is not None) == (select == "slow")]
    dropped = [i for i in items if i not in keep]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


@pytest.fixture
def localnet(tmp_path):
    """localnet(nodes=4, proxy=None, test_members=0, idle_block_interval_s=1, ...) -> a
    localnet.Localnet in a fresh directory, not started. Its nodes' logs (added nodes' too) are
    shown when the test fails; every node still running is stopped afterwards."""
    from localnet import Localnet

    nets = []

    def make(**kw):
        net = Localnet(tmp_path / f"net{len(nets)}", **kw)
        nets.append(net)
        _live_nets.append(net)  # for the log tails of a failing test
        return net

    yield make
    died, hung = [], []
    for net in nets:
        died += net.unexpected_exits()
        hung += net.shutdown()
        _live_nets.remove(net)
    assert not died, "basd exited unasked:\n" + "\n".join(died)
    assert not hung, f"basd did not exit on SIGTERM: {hung}"
