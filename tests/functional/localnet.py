"""Helpers for the network tests (test_network.py): a network of validators on separate `basd`
processes on 127.0.0.1, set up by `basd localnet` (DESIGN.md sections 5-6, docs/p2p.md).

- Localnet: the homes of N validators (`basd localnet`), their genesis adjusted before the
  first start (short idle interval, test members whose keys the test holds), optionally every
  p2p dial routed through a NetProxy (netproxy.py); start, stop, kill -9 and restart nodes;
  compare their chains. Nodes outside the validator set (`basd init`: observers the validators
  admit, or strangers they refuse) can be added before the validators start.
- Txs signed here, in plain Python: BIP340 (as in BIP340's reference code, with a table of
  multiples of G for speed), the protobuf bytes of TxBody/SignedTx written by hand in
  canonical form (docs/encoding.md). The test members' secret keys are
  tagged_hash("bas/test-key", name): public test keys, for a throwaway chain only.
- VoteLoad: member threads submitting votes with ?wait=commit to live nodes in turn, retrying a
  tx on another node when its node dies, recording every acknowledgement.
- P2pClient: a raw TLS 1.3 client of a node's p2p port speaking the hello and frames of
  docs/p2p.md (pyOpenSSL, for the TLS exporter the hello signs).
- Chain checks: chain.py's, with a faster BIP340 verifier (fast_bip340_verify, checked against
  the BIP340 vectors and the reference), plus every block's last_commit.
- When a node misbehaves: a process that dies of a signal leaves a core in its home and
  crash_report() gives its backtrace (gdb); a node whose API stops answering, or that ignores
  SIGTERM, has its threads' stacks dumped into its home (dump_stacks).
"""
import base64
import hashlib
import json
import os
import random
import re
import resource
import select
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time
import tomllib
from pathlib import Path

import requests

import chain
from chain import N as CURVE_N, P as FIELD_P, G, b64, tagged_hash

HOST = "127.0.0.1"  # never another address
BAS_BIN = os.environ.get("BAS_BIN", "")
BASD_BIN = os.environ.get("BASD_BIN", "")
CHAIN_ID = "bas-localnet"
GROUPS = ["GOVERNMENT", "PRIVATE_SECTOR", "CIVIL_SOCIETY", "TECHNICAL_COMMUNITY", "ACADEMIA"]


# ---------------------------------------------------------------- BIP340 signing, fast verify
#
# Jacobian coordinates (no inversion per step) and a table of G * 2^i: a few ms per signature
# or verification in plain Python, where chain.bip340_verify's affine reference takes 20 ms.
# test_network.py checks the two verifiers agree.

def _jac_double(p):
    if p is None:
        return None
    x1, y1, z1 = p
    if y1 == 0:
        return None
    yy = y1 * y1 % FIELD_P
    s = 4 * x1 * yy % FIELD_P
    m = 3 * x1 * x1 % FIELD_P
    x3 = (m * m - 2 * s) % FIELD_P
    return x3, (m * (s - x3) - 8 * yy * yy) % FIELD_P, 2 * y1 * z1 % FIELD_P


def _jac_add(p, q):
    if p is None:
        return q
    if q is None:
        return p
    x1, y1, z1 = p
    x2, y2, z2 = q
    z1z1, z2z2 = z1 * z1 % FIELD_P, z2 * z2 % FIELD_P
    u1, u2 = x1 * z2z2 % FIELD_P, x2 * z1z1 % FIELD_P
    s1, s2 = y1 * z2 * z2z2 % FIELD_P, y2 * z1 * z1z1 % FIELD_P
    if u1 == u2:
        return _jac_double(p) if s1 == s2 else None
    h, r = (u2 - u1) % FIELD_P, (s2 - s1) % FIELD_P
    hh = h * h % FIELD_P
    hhh, v = h * hh % FIELD_P, u1 * hh % FIELD_P
    x3 = (r * r - hhh - 2 * v) % FIELD_P
    return x3, (r * (v - x3) - s1 * hhh) % FIELD_P, h * z1 * z2 % FIELD_P


def _to_affine(p):
    if p is None:
        return None
    x, y, z = p
    zinv = pow(z, -1, FIELD_P)
    zinv2 = zinv * zinv % FIELD_P
    return x * zinv2 % FIELD_P, y * zinv2 * zinv % FIELD_P


_G_DOUBLINGS = []  # G * 2^i, i = 0..255, Jacobian with z = 1


def _base_mul_jac(k):
    """k * G (Jacobian): one addition per set bit of k."""
    if not _G_DOUBLINGS:
        point = (G[0], G[1], 1)
        for _ in range(256):
            _G_DOUBLINGS.append(point)
            point = _jac_double(point)
    result, i = None, 0
    while k:
        if k & 1:
            result = _jac_add(result, _G_DOUBLINGS[i])
        k >>= 1
        i += 1
    return result


def _base_mul(k):
    return _to_affine(_base_mul_jac(k))


def _point_mul_jac(point, k):
    """k * point (affine in, Jacobian out), 4-bit fixed window."""
    table = [None, (point[0], point[1], 1)]
    for _ in range(14):
        table.append(_jac_add(table[-1], table[1]))
    result = None
    for shift in range(252, -4, -4):
        for _ in range(4):
            result = _jac_double(result)
        result = _jac_add(result, table[(k >> shift) & 15])
    return result


def fast_bip340_verify(pubkey, msg, sig):
    """BIP340 verification as in chain.bip340_verify, faster."""
    if len(pubkey) != 32 or len(sig) != 64:
        return False
    x = int.from_bytes(pubkey, "big")
    y_sq = (pow(x, 3, FIELD_P) + 7) % FIELD_P
    y = pow(y_sq, (FIELD_P + 1) // 4, FIELD_P)
    if x >= FIELD_P or y * y % FIELD_P != y_sq:
        return False
    point = (x, y if y % 2 == 0 else FIELD_P - y)
    r, s = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
    if r >= FIELD_P or s >= CURVE_N:
        return False
    e = int.from_bytes(tagged_hash("BIP0340/challenge", sig[:32] + pubkey + msg), "big") % CURVE_N
    big_r = _to_affine(_jac_add(_base_mul_jac(s), _point_mul_jac(point, CURVE_N - e)))
    return big_r is not None and big_r[1] % 2 == 0 and big_r[0] == r


def _b32(n):
    return n.to_bytes(32, "big")


class SchnorrKey:
    """A BIP340 key pair from a secret; sign() follows BIP340's reference algorithm."""

    def __init__(self, secret):
        self.d0 = int.from_bytes(secret, "big") % CURVE_N
        assert self.d0 != 0
        point = _base_mul(self.d0)
        self.public = _b32(point[0])
        self.d = self.d0 if point[1] % 2 == 0 else CURVE_N - self.d0

    @classmethod
    def named(cls, name):
        return cls(tagged_hash("bas/test-key", name.encode()))

    @classmethod
    def fresh(cls):
        return cls(os.urandom(32))

    def sign(self, msg, aux=None):
        aux = os.urandom(32) if aux is None else aux
        t = bytes(a ^ b for a, b in zip(_b32(self.d), tagged_hash("BIP0340/aux", aux)))
        k0 = int.from_bytes(tagged_hash("BIP0340/nonce", t + self.public + msg), "big") % CURVE_N
        assert k0 != 0
        r_point = _base_mul(k0)
        k = k0 if r_point[1] % 2 == 0 else CURVE_N - k0
        e = int.from_bytes(tagged_hash("BIP0340/challenge", _b32(r_point[0]) + self.public + msg),
                           "big") % CURVE_N
        return _b32(r_point[0]) + _b32((k + e * self.d) % CURVE_N)


# ---------------------------------------------------------------- canonical protobuf by hand

def _varint(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field_bytes(number, data):
    """A length-delimited field; proto3 leaves an empty one out."""
    if isinstance(data, str):
        data = data.encode()
    return b"" if not data else _varint(number << 3 | 2) + _varint(len(data)) + data


def _field_varint(number, value):
    return b"" if not value else _varint(number << 3) + _varint(value)


def _message_field(number, data):
    """An embedded message field: present even when empty (a set oneof case)."""
    return _varint(number << 3 | 2) + _varint(len(data)) + data


CHOICES = {"YES": 1, "NO": 2, "ABSTAIN": 3}


def vote_body(chain_id, nonce, proposal_id, choice, reason=""):
    vote = (_field_bytes(1, bytes.fromhex(proposal_id)) + _field_varint(2, CHOICES[choice])
            + _field_bytes(3, reason))
    return _field_bytes(1, chain_id) + _field_varint(2, nonce) + _message_field(11, vote)


def propose_body(chain_id, nonce, coalition, title, resolution):
    action = _message_field(12, _field_bytes(1, resolution))
    propose = _field_bytes(1, coalition) + _field_bytes(2, title) + _message_field(4, action)
    return _field_bytes(1, chain_id) + _field_varint(2, nonce) + _message_field(10, propose)


def sign_tx(key, body):
    """A serialized SignedTx: BIP340 by key over tagged_hash("bas/tx", body)."""
    signature = key.sign(tagged_hash("bas/tx", body))
    return _field_bytes(1, body) + _field_bytes(2, key.public) + _field_bytes(3, signature)


# ---------------------------------------------------------------- node keys (docs/keystore.md)

def read_key_file(path, passphrase=b""):
    """The secret of a keystore-v1 file (scrypt + AES-256-GCM), as basd writes node keys."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # python3-cryptography

    data = Path(path).read_bytes()
    assert data[:7] == b"BASKEY\x01", f"{path}: not a keystore v1 file"
    log2_n, r, p = data[7], data[8], data[9]
    salt, nonce = data[10:42], data[42:54]
    name_len = int.from_bytes(data[54:56], "big")
    header_end = 88 + name_len
    key = hashlib.scrypt(passphrase, salt=salt, n=2 ** log2_n, r=r, p=p, dklen=32,
                         maxmem=256 * 1024 * 1024 + 1024 * 1024)
    secret = AESGCM(key).decrypt(nonce, data[header_end:header_end + 48], data[:header_end])
    pair = SchnorrKey(secret)
    assert pair.public == data[56 + name_len:header_end], f"{path}: key mismatch"
    return pair


# ---------------------------------------------------------------- config and genesis edits

def set_toml_key(text, section, key, value_toml):
    """Replaces (or adds) `key = value` in [section] of a TOML text; a value may span lines
    (an array)."""
    lines = text.splitlines()
    out, current, done, i = [], None, False, 0
    while i < len(lines):
        line = lines[i]
        header = re.match(r"^\s*\[([^\]]+)\]\s*$", line)
        if header:
            if current == section and not done:
                out.append(f"{key} = {value_toml}")
                done = True
            current = header.group(1).strip()
        elif current == section and re.match(rf"^\s*{re.escape(key)}\s*=", line):
            depth = line.count("[") - line.count("]")
            while depth > 0 and i + 1 < len(lines):
                i += 1
                depth += lines[i].count("[") - lines[i].count("]")
            out.append(f"{key} = {value_toml}")
            done = True
            i += 1
            continue
        out.append(line)
        i += 1
    if not done:
        if current != section:
            out.append(f"[{section}]")
        out.append(f"{key} = {value_toml}")
    result = "\n".join(out) + "\n"
    tomllib.loads(result)  # still TOML
    return result


def toml_strings(values):
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


# ---------------------------------------------------------------- one node

class LocalNode:
    """One validator's home and, while running, its `basd start` process."""

    def __init__(self, index, entry):
        self.index = index
        self.name = entry["name"]
        self.home = Path(entry["home"])
        self.rpc = entry["rpc"]
        self.p2p = entry["p2p"]
        self.p2p_port = int(self.p2p.rsplit(":", 1)[1])
        self.key = entry["key"]
        self.observer = entry.get("observer", False)  # a non-validator the validators admit
        self.url = f"http://{self.rpc}"
        self.log_path = self.home / "basd.log"
        self.proc = None
        self.expect_exit = False  # set while the test stops or kills it
        self.session = requests.Session()

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def config_path(self):
        return self.home / "config.toml"

    def start(self, timeout=30):
        assert not self.running, f"{self.name} is already running"
        self.expect_exit = False
        with open(self.log_path, "a") as log:
            log.write(f"==== test: basd start at {time.strftime('%H:%M:%S')}\n")
            log.flush()
            # In its home, with core dumps on: a crash leaves HOME/core for crash_report().
            self.proc = subprocess.Popen([BASD_BIN, "start", "--home", str(self.home)],
                                         stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, cwd=self.home,
                                         preexec_fn=_enable_core_dumps)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.name}: basd exited with {self.proc.returncode}:\n"
                                     f"{self.log_tail()}\n{self.crash_report()}")
            try:
                if requests.get(self.url + "/v1/status", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.05)
        raise AssertionError(f"{self.name}: no /v1/status within {timeout} s\n{self.log_tail()}")

    def stop(self, timeout=15):
        """SIGTERM; basd must exit 0 within the timeout."""
        if not self.running:
            return
        self.expect_exit = True
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"{self.name}: basd did not stop within {timeout} s of SIGTERM")
        assert code == 0, f"{self.name}: basd exited {code} on SIGTERM\n{self.log_tail()}"

    def kill9(self):
        if self.running:
            self.expect_exit = True
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def crash_report(self):
        """For a process that died of a signal: the backtrace of its core (gdb), if any."""
        if self.proc is None or self.proc.poll() is None or self.proc.returncode >= 0:
            return ""
        if getattr(self, "_crash", (None,))[0] is self.proc:
            return self._crash[1]
        self._crash = (self.proc, self._backtrace())
        return self._crash[1]

    def _backtrace(self):
        cores = sorted((p for p in self.home.glob("core*") if re.fullmatch(r"core(\.\d+)?", p.name)),
                       key=lambda p: p.stat().st_mtime)
        gdb = shutil.which("gdb")
        if not cores or gdb is None:
            return f"{self.name}: killed by signal {-self.proc.returncode}, no core or no gdb"
        core = cores[-1]
        try:
            p = subprocess.run([gdb, "-batch", "-ex", "thread apply all bt", BASD_BIN, str(core)],
                               capture_output=True, text=True, timeout=120)
        except subprocess.TimeoutExpired:
            return f"{self.name}: gdb on {core} timed out"
        report = core.with_suffix(".bt.txt")
        report.write_text(p.stdout + p.stderr)
        crashed = p.stdout[p.stdout.find("Thread 1 "):][:3000] if "Thread 1 " in p.stdout else ""
        return f"{self.name}: killed by signal {-self.proc.returncode}; backtraces {report}\n{crashed}"

    def dump_stacks(self, why):
        """Every thread's stack of the running process (gdb, when installed) into a file of the
        home, for a node that hangs; returns a line naming the file, or why there is none."""
        if not self.running:
            return f"{self.name}: not running"
        gdb = shutil.which("gdb")
        if gdb is None:
            return f"{self.name}: no gdb for its stacks"
        out = self.home / f"stacks-{time.strftime('%H%M%S')}.txt"
        try:
            p = subprocess.run([gdb, "-p", str(self.proc.pid), "-batch", "-ex",
                                "thread apply all bt"], capture_output=True, text=True,
                               timeout=90)
            out.write_text(f"{why}\n{p.stdout}\n{p.stderr}")
        except subprocess.TimeoutExpired:
            return f"{self.name}: gdb timed out"
        return f"{self.name} (pid {self.proc.pid}) stacks: {out}"

    def log_tail(self, lines=40):
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def log_text(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    # ---- HTTP API (docs/api.md) ----

    def get(self, path, timeout=10):
        return self.session.get(self.url + path, timeout=timeout)

    def get_json(self, path):
        r = self.get(path)
        assert r.status_code == 200, f"{self.name} GET {path}: {r.status_code} {r.text}"
        return r.json()

    def status(self):
        return self.get_json("/v1/status")

    def height(self):
        return self.status()["height"]

    def try_height(self):
        """The height, or None when the node does not answer."""
        try:
            r = requests.get(self.url + "/v1/status", timeout=2)
            return r.json()["height"] if r.status_code == 200 else None
        except requests.RequestException:
            return None

    def block(self, height):
        return self.get_json(f"/v1/blocks/{height}")

    def blocks(self, lo, hi):
        """GET /v1/blocks pages for lo..hi (inclusive)."""
        out = []
        while lo <= hi:
            page = self.get_json(f"/v1/blocks?from={lo}&to={hi}")["blocks"]
            assert page, f"{self.name}: no blocks from {lo}"
            out += page
            lo = int(page[-1]["block"]["header"]["height"]) + 1
        return out

    def block_hashes(self, lo, hi):
        return {int(e["block"]["header"]["height"]): e["block_hash"] for e in self.blocks(lo, hi)}

    def post_tx(self, tx, wait=False, timeout=30):
        path = "/v1/txs?wait=commit" if wait else "/v1/txs"
        return requests.post(self.url + path, data=tx, timeout=timeout,
                             headers={"Content-Type": "application/x-protobuf"})

    def tx(self, tx_id):
        """GET /v1/txs/{id} as JSON, or None (404)."""
        r = self.get(f"/v1/txs/{tx_id}")
        if r.status_code == 404:
            return None
        assert r.status_code == 200, f"{self.name} GET /v1/txs/{tx_id}: {r.status_code} {r.text}"
        return r.json()

    def next_nonce(self, public_key):
        return self.get_json(f"/v1/accounts/{public_key.hex()}")["next_nonce"]


# ---------------------------------------------------------------- the network

def _enable_core_dumps():
    try:
        resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    except (ValueError, OSError):
        pass


def _ports_free(base, count):
    for port in range(base, base + count):
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind((HOST, port))
            except OSError:
                return False
    return True


def free_base_port(count):
    """A base port P with P..P+count-1 free on 127.0.0.1 (below the ephemeral range)."""
    rng = random.Random(os.getpid() ^ time.monotonic_ns())
    for _ in range(200):
        base = rng.randrange(20000, 32000 - count, 2)
        if _ports_free(base, count):
            return base
    raise AssertionError("no free port range on 127.0.0.1")


class Localnet:
    """N validators made by `basd localnet` in `directory`. Before the first start the genesis
    may be adjusted (every home gets the same bytes), p2p routed through a NetProxy, and nodes
    outside the validator set added (add_node). `nodes` are the validators; `all_nodes()` adds
    the others."""

    def __init__(self, directory, nodes=4, voting_period=3600, idle_block_interval_s=1,
                 test_members=0, proxy=None, rate_limit_per_s=100000, params=None):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        base = free_base_port(2 * nodes)
        out = subprocess.run([BASD_BIN, "localnet", "--nodes", str(nodes), "--dir", str(self.dir),
                              "--base-port", str(base), "--voting-period", str(voting_period)],
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, f"basd localnet: {out.returncode}\n{out.stderr}"
        self.nodes = [LocalNode(i, e) for i, e in enumerate(json.loads(out.stdout))]
        self.extra_nodes = []  # add_node's
        self.keys_dir = self.dir / "keys"
        self.members = [(f"load-{i}", SchnorrKey.named(f"load-{i}")) for i in range(test_members)]
        self.proxy = proxy
        self._edit_genesis(idle_block_interval_s, params or {})
        self.rate_limit_per_s = rate_limit_per_s
        for node in self.nodes:
            self._set_rpc_limits(node)
        if proxy is not None:
            self._route_through(proxy)

    def _set_rpc_limits(self, node):
        text = node.config_path().read_text()
        text = set_toml_key(text, "rpc", "rate_limit_per_s", f"{float(self.rate_limit_per_s)}")
        text = set_toml_key(text, "rpc", "wait_timeout_ms", "20000")
        node.config_path().write_text(text)

    def add_node(self, name, observer):
        """A node outside the validator set, in DIR/name: its own key and config (`basd init`),
        this network's genesis, every validator as a persistent peer (directly, not through a
        proxy). An observer's key goes into every validator's `p2p.observers`, so they admit
        it; a stranger's does not. Call before the validators start (they read their config
        then). Returns the LocalNode, not started; shutdown() and unexpected_exits() cover it."""
        home = self.dir / name
        used = {n.p2p_port for n in self.all_nodes()} | {int(n.rpc.rsplit(":", 1)[1])
                                                         for n in self.all_nodes()}
        while True:
            base = free_base_port(2)
            if not {base, base + 1} & used:
                break
        rpc, p2p = f"{HOST}:{base}", f"{HOST}:{base + 1}"
        out = subprocess.run([BASD_BIN, "init", "--home", str(home), "--moniker", name,
                              "--rpc", rpc], capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, f"basd init: {out.returncode}\n{out.stderr}"
        key = re.search(r"node key ([0-9a-f]{64})", out.stdout).group(1)
        shutil.copyfile(self.nodes[0].home / "genesis.json", home / "genesis.json")
        node = LocalNode(len(self.all_nodes()), {"name": name, "home": str(home), "rpc": rpc,
                                                 "p2p": p2p, "key": key, "observer": observer})
        text = set_toml_key(node.config_path().read_text(), "p2p", "listen", json.dumps(p2p))
        text = set_toml_key(text, "p2p", "persistent_peers",
                            toml_strings(f"{v.key}@{v.p2p}" for v in self.nodes))
        node.config_path().write_text(text)
        self._set_rpc_limits(node)
        if observer:
            for v in self.nodes:
                text = v.config_path().read_text()
                observers = tomllib.loads(text).get("p2p", {}).get("observers", [])
                text = set_toml_key(text, "p2p", "observers", toml_strings(observers + [key]))
                v.config_path().write_text(text)
        self.extra_nodes.append(node)
        return node

    def all_nodes(self):
        return self.nodes + self.extra_nodes

    def _edit_genesis(self, idle_block_interval_s, params):
        genesis = json.loads(self.nodes[0].home.joinpath("genesis.json").read_text())
        genesis.setdefault("params", {})["idle_block_interval_s"] = idle_block_interval_s
        genesis["params"].update(params)
        coalition = next(c for c in genesis["coalitions"] if c["id"] == "bas-dc")
        for i, (name, key) in enumerate(self.members):
            coalition["members"].append({
                "id": name, "key": base64.b64encode(key.public).decode(), "name": name,
                "organisation": "test", "group": GROUPS[i % len(GROUPS)], "roles": ["MEMBER"]})
        text = json.dumps(genesis, indent=2)
        for node in self.nodes:
            node.home.joinpath("genesis.json").write_text(text)
        self.genesis = genesis

    def _route_through(self, proxy):
        """Node i dials node j through link i->j of the proxy: HEXKEY_j@127.0.0.1:PORT_ij."""
        for i, node in enumerate(self.nodes):
            peers = []
            for j, other in enumerate(self.nodes):
                if i != j:
                    port = proxy.add_link(i, j, other.p2p_port)
                    peers.append(f"{other.key}@{HOST}:{port}")
            text = set_toml_key(node.config_path().read_text(), "p2p", "persistent_peers",
                                toml_strings(peers))
            node.config_path().write_text(text)

    # ---- processes ----

    def start(self, indices=None):
        for i in (range(len(self.nodes)) if indices is None else indices):
            self.nodes[i].start()
        return self

    def running(self):
        return [n for n in self.nodes if n.running]

    def shutdown(self):
        """Stops every running node: SIGTERM, then (with its stacks dumped) SIGKILL after 15 s.
        Never raises; returns the nodes that had to be killed, with their stack files."""
        hung = []
        for node in self.all_nodes():
            if node.running:
                node.expect_exit = True
                node.proc.send_signal(signal.SIGTERM)
        for node in self.all_nodes():
            if node.proc is not None:
                try:
                    node.proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    hung.append(node.dump_stacks("no exit 15 s after SIGTERM"))
                    node.proc.kill()
                    node.proc.wait()
        if self.proxy is not None:
            self.proxy.close()
        return hung

    def unexpected_exits(self):
        """Nodes whose process ended without the test stopping or killing it, with the
        backtrace of a crash."""
        return [f"{n.name} exited with {n.proc.returncode}\n{n.crash_report()}"
                for n in self.all_nodes()
                if n.proc is not None and not n.expect_exit and n.proc.poll() is not None]

    def peer_misbehaviour(self):
        """The warn-level disconnects of a validator or observer of this network logged by any
        of them: docs/p2p.md logs peer misbehaviour at warn, and an honest node never misbehaves
        (a burst "should not cost a validator its connection")."""
        honest = self.nodes + [n for n in self.extra_nodes if n.observer]
        prefixes = {n.key[:16]: n.name for n in honest}
        found = []
        for n in honest:
            for line in n.log_text().splitlines():
                m = re.search(r"\[warning\] p2p \w+: disconnected ([0-9a-f]{16}): (P2P_\w+)", line)
                if m and m.group(1) in prefixes:
                    found.append(f"{n.name} cut {prefixes[m.group(1)]}: {line}")
        return found

    def assert_peers_behaved(self):
        bad = self.peer_misbehaviour()
        assert not bad, "validators cut each other off:\n" + "\n".join(bad[:10])

    def stuck(self, nodes):
        """Stack dumps of the given nodes whose process runs but whose API does not answer."""
        return [n.dump_stacks("API not answering") for n in nodes
                if n.running and n.try_height() is None]

    # ---- observation ----

    def heights(self, nodes=None):
        return {n.name: n.try_height() for n in (nodes or self.running())}

    def wait_height(self, height, nodes=None, timeout=60):
        """Polls until every given node (default: the running ones) is at `height` or more."""
        nodes = nodes or self.running()
        deadline = time.monotonic() + timeout
        while True:
            hs = {n.name: n.try_height() for n in nodes}
            if all(h is not None and h >= height for h in hs.values()):
                return hs
            if time.monotonic() > deadline:
                raise AssertionError(f"height {height} not reached within {timeout} s: {hs}\n"
                                     + "\n".join(self.stuck(nodes)) + "\n"
                                     + self.describe(nodes))
            time.sleep(0.1)

    def wait_progress(self, blocks=2, nodes=None, timeout=60):
        """Polls until every given node is `blocks` above the highest height seen now."""
        nodes = nodes or self.running()
        start = max(h for h in (n.try_height() for n in nodes) if h is not None)
        return self.wait_height(start + blocks, nodes, timeout)

    def wait_tx(self, tx_id, nodes=None, timeout=60):
        """Polls until every given node serves the tx; returns {name: (height, index)}."""
        nodes = nodes or self.running()
        deadline = time.monotonic() + timeout
        while True:
            found = {}
            for n in nodes:
                try:
                    t = n.tx(tx_id)
                except requests.RequestException:
                    t = None
                if t is not None:
                    found[n.name] = (t["height"], t["index"])
            if len(found) == len(nodes):
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"tx {tx_id} on {sorted(found)} only after {timeout} s\n"
                                     + "\n".join(self.stuck(nodes)) + "\n"
                                     + self.describe(nodes))
            time.sleep(0.1)

    def describe(self, nodes=None):
        out = []
        for n in nodes or self.all_nodes():
            state = ("running" if n.running else "never started" if n.proc is None
                     else f"exited with {n.proc.returncode}")
            out.append(f"--- {n.name} ({state}; log {n.log_path})\n{n.log_tail(15)}")
            if n.proc is not None and not n.running and n.proc.returncode < 0 \
                    and n.proc.returncode != -signal.SIGKILL:
                out.append(n.crash_report())
        return "\n".join(out)

    def assert_same_chain(self, nodes=None, lo=1):
        """Every given node reports the same block hash at every height lo..min height, and the
        commit stored for each block names that block. Returns the min height."""
        nodes = nodes or self.running()
        top = min(n.height() for n in nodes)
        reference = nodes[0].block_hashes(lo, top) if top >= lo else {}
        for n in nodes[1:]:
            hashes = n.block_hashes(lo, top) if top >= lo else {}
            for h in range(lo, top + 1):
                assert hashes[h] == reference[h], (
                    f"FORK at height {h}: {nodes[0].name} has {reference[h]}, "
                    f"{n.name} has {hashes[h]}")
        return top

    def check_commits(self, node, validators=None):
        """Checks the whole chain of one node from docs/encoding.md (chain.check_chain), and
        also every block's last_commit: the signatures, by distinct validators, of more than
        2/3 of the power over the previous block (the commit a multi-validator chain carries
        may differ from the one stored with that block). Returns (height, {tx_id: (h, i)}, and
        {height: set of validator keys (hex) in the commit of that height}) ."""
        height, txs = chain.check_chain(node, verify=fast_bip340_verify)
        validators = validators or node.get_json("/v1/validators")["validators"]
        power = {b64(v["key"]): int(v["power"]) for v in validators}
        signers = {}
        prev = None
        for entry in node.blocks(1, height):
            h = int(entry["block"]["header"]["height"])
            stored = entry["commit"]
            signers.setdefault(h, set()).update(b64(s["validator"]).hex()
                                                for s in stored["signatures"])
            if prev is not None:
                last = entry["block"]["last_commit"]
                assert int(last["height"]) == h - 1, f"block {h}: last_commit height"
                assert b64(last["block_hash"]).hex() == prev, f"block {h}: last_commit block"
                msg = chain.vote_sign_bytes(CHAIN_ID, h - 1, last["round"], bytes.fromhex(prev))
                seen, signed = set(), 0
                for s in last["signatures"]:
                    key = b64(s["validator"])
                    assert key in power and key not in seen, f"block {h}: last_commit signer"
                    assert fast_bip340_verify(key, msg, b64(s["signature"])), \
                        f"block {h}: last_commit signature of {key.hex()}"
                    seen.add(key)
                    signed += power[key]
                assert 3 * signed > 2 * sum(power.values()), f"block {h}: last_commit power"
                signers[h - 1].update(k.hex() for k in seen)
            prev = entry["block_hash"]
        return height, txs, signers

    def signers_of(self, node, height):
        """Validator keys (hex) in the stored commit of `height` and in the last_commit of
        height + 1 (when it exists)."""
        keys = {b64(s["validator"]).hex() for s in node.block(height)["commit"]["signatures"]}
        r = node.get(f"/v1/blocks/{height + 1}")
        if r.status_code == 200:
            keys |= {b64(s["validator"]).hex()
                     for s in r.json()["block"]["last_commit"]["signatures"]}
        return keys

    def wait_signed_by(self, key_hex, after_height, node, timeout=60):
        """Polls until a commit of some height > after_height carries key_hex; returns it."""
        deadline = time.monotonic() + timeout
        h = after_height + 1
        while time.monotonic() < deadline:
            top = node.try_height() or 0
            while h <= top:
                if key_hex in self.signers_of(node, h):
                    return h
                h += 1
            time.sleep(0.2)
        raise AssertionError(f"no commit above {after_height} signed by {key_hex[:12]} within "
                             f"{timeout} s\n" + self.describe())

    # ---- txs ----

    def bas(self, node, *args, expect=0):
        """`bas ARGS --json` against a node with the localnet member keystore."""
        env = dict(os.environ, BAS_NODE=node.url, BAS_KEYSTORE=str(self.keys_dir),
                   BAS_PASSPHRASE="")
        p = subprocess.run([BAS_BIN, *map(str, args)], env=env, capture_output=True, text=True,
                           timeout=90)
        assert p.returncode == expect, (f"bas {' '.join(map(str, args))}: exit {p.returncode}\n"
                                        f"stdout: {p.stdout}\nstderr: {p.stderr}")
        return p

    def bas_json(self, node, *args):
        return json.loads(self.bas(node, *args, "--json").stdout)

    def propose(self, node, title="Network test"):
        """A resolution proposed by test member 0 (signed here), committed; returns its id."""
        name, key = self.members[0]
        nonce = node.next_nonce(key.public)
        tx = sign_tx(key, propose_body(CHAIN_ID, nonce, "bas-dc", title, "Resolved."))
        r = node.post_tx(tx, wait=True)
        assert r.status_code == 200, f"propose: {r.status_code} {r.text}"
        return r.json()["tx_id"]

    def vote_tx(self, member_index, nonce, proposal_id, round_no=0):
        _, key = self.members[member_index]
        choice = ["YES", "NO", "ABSTAIN"][(member_index + nonce) % 3]
        return sign_tx(key, vote_body(CHAIN_ID, nonce, proposal_id, choice, f"round {round_no}"))


class VoteLoad:
    """One thread per test member votes on a proposal again and again (consecutive nonces), each
    vote POSTed with ?wait=commit to the running nodes in turn. A vote whose node dies, times
    out or is not ready is sent again (the same signed bytes) to the next running node, so a
    member's votes commit in nonce order; every 200 is an acknowledgement:
    (member, nonce, tx_id, height, index, node name). `refusals` keeps every other answer."""

    def __init__(self, net, proposal_id, members, pace=0.0, rounds=None):
        self.net = net
        self.proposal_id = proposal_id
        self.acks = []
        self.refusals = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.pace = pace
        self.rounds = rounds
        self.first_nonce = {}
        node = net.running()[0]
        for m in members:
            self.first_nonce[m] = node.next_nonce(net.members[m][1].public)
        self.threads = [threading.Thread(target=self._run, args=(m,), daemon=True)
                        for m in members]
        for t in self.threads:
            t.start()

    def _run(self, member):
        nonce = self.first_nonce[member]
        turn = member
        k = 0
        while not self.stopping.is_set() and (self.rounds is None or k < self.rounds):
            tx = self.net.vote_tx(member, nonce, self.proposal_id, k)
            tx_id = chain.tx_id(tx)
            while not self.stopping.is_set():
                running = self.net.running()
                if not running:
                    time.sleep(0.1)
                    continue
                node = running[turn % len(running)]
                turn += 1
                try:
                    r = node.post_tx(tx, wait=True, timeout=25)
                except requests.RequestException:
                    continue  # the node died under us: the next one
                if r.status_code == 200:
                    body = r.json()
                    assert body["tx_id"] == tx_id
                    with self.lock:
                        self.acks.append((member, nonce, tx_id, body["height"], body["index"],
                                          node.name))
                    break
                with self.lock:
                    self.refusals.append((member, nonce, node.name, r.status_code, r.text[:200]))
                time.sleep(0.2)
            nonce += 1
            k += 1
            if self.pace:
                time.sleep(self.pace)

    def count(self):
        with self.lock:
            return len(self.acks)

    def assert_no_refusals(self):
        """No vote was refused (4xx): each is well signed with its member's next nonce. A 503
        (mempool full) or 504 (wait timeout) is retried and allowed."""
        refused = [r for r in self.refusals if r[3] not in (503, 504)]
        assert not refused, f"votes refused: {refused[:5]}"

    def wait_acks(self, count, timeout=60):
        """Polls until `count` acknowledgements in all."""
        deadline = time.monotonic() + timeout
        while self.count() < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.count()} of {count} acknowledgements within "
                                     f"{timeout} s; refusals {self.refusals[-5:]}\n"
                                     + "\n".join(self.net.stuck(self.net.running())) + "\n"
                                     + self.net.describe())
            time.sleep(0.05)

    def stop(self):
        self.stopping.set()
        for t in self.threads:
            t.join(timeout=40)
            assert not t.is_alive(), "a vote submitter hangs"
        return self.acks

    def assert_all_on(self, nodes):
        """Every acknowledged vote is on every given node, at the acknowledged height and index."""
        for member, nonce, tx_id, height, index, via in self.acks:
            for n in nodes:
                t = n.tx(tx_id)
                assert t is not None, (f"LOST: {n.name} does not have the vote of load-{member} "
                                       f"nonce {nonce} ({tx_id}), acknowledged by {via} at "
                                       f"height {height}")
                assert (t["height"], t["index"]) == (height, index), (
                    f"{n.name} has {tx_id} at {(t['height'], t['index'])}, acknowledged at "
                    f"{(height, index)} by {via}")


# ---------------------------------------------------------------- a raw p2p client

P2P_AUTH_LABEL = b"EXPORTER-bas-p2p-auth-v1"
ROLE_CLIENT, ROLE_SERVER = 1, 2


def auth_bytes(exporter, chain_id, role, node_key):
    cid = chain_id.encode()
    return exporter + len(cid).to_bytes(4, "big") + cid + bytes([role]) + node_key


def hello_frame(key, exporter, chain_id=CHAIN_ID, role=ROLE_CLIENT):
    """A P2pMessage{hello} frame: version 1, chain id, key, signature over the auth bytes."""
    signature = key.sign(tagged_hash("bas/p2p-auth", auth_bytes(exporter, chain_id, role,
                                                                 key.public)))
    hello = (_field_varint(1, 1) + _field_bytes(2, chain_id) + _field_bytes(3, key.public)
             + _field_bytes(4, signature))
    return frame(_message_field(1, hello))


def frame(payload):
    return len(payload).to_bytes(4, "big") + payload


def parse_fields(data):
    """{field number: [values]} of a protobuf message (varints as ints, bytes otherwise)."""
    fields, i = {}, 0
    while i < len(data):
        key, i = _read_varint(data, i)
        wire = key & 7
        if wire == 0:
            value, i = _read_varint(data, i)
        elif wire == 2:
            length, i = _read_varint(data, i)
            value, i = data[i:i + length], i + length
        else:
            raise ValueError(f"wire type {wire}")
        fields.setdefault(key >> 3, []).append(value)
    return fields


def _read_varint(data, i):
    n = shift = 0
    while True:
        byte = data[i]
        i += 1
        n |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return n, i


class P2pClient:
    """A TLS 1.3 client of a node's p2p port (pyOpenSSL: Python's ssl has no exporter)."""

    def __init__(self, port, timeout=5.0):
        from OpenSSL import SSL  # python3-openssl

        self.SSL = SSL
        ctx = SSL.Context(SSL.TLS_METHOD)
        ctx.set_min_proto_version(SSL.TLS1_3_VERSION)
        ctx.set_max_proto_version(SSL.TLS1_3_VERSION)
        ctx.set_verify(SSL.VERIFY_NONE, lambda *a: True)
        self.sock = socket.create_connection((HOST, port), timeout=timeout)
        # Blocking, with OS-level timeouts: pyOpenSSL on a Python-timeout socket would spin on
        # WantReadError. Reads wait in select() (see _recv).
        self.sock.settimeout(None)
        limit = struct.pack("ll", int(timeout), 0)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, limit)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, limit)
        self.conn = SSL.Connection(ctx, self.sock)
        self.conn.set_connect_state()
        self.conn.do_handshake()
        self.exporter = self.conn.export_keying_material(P2P_AUTH_LABEL, 32)
        self.buffer = b""

    def send(self, data):
        self.conn.sendall(data)

    def _recv(self, deadline):
        """More bytes, or None once the node closed the connection; raises TimeoutError."""
        while True:
            if self.conn.pending() == 0:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError
                readable, _, _ = select.select([self.sock], [], [], remaining)
                if not readable:
                    raise TimeoutError
            try:
                data = self.conn.recv(65536)
                return data or None
            except self.SSL.WantReadError:
                continue  # part of a TLS record (or a post-handshake message)
            except (self.SSL.ZeroReturnError, self.SSL.SysCallError, self.SSL.Error,
                    ConnectionError):
                return None

    def read_frame(self, timeout=5.0):
        """The next frame's payload, or None if the node closed the connection first."""
        deadline = time.monotonic() + timeout
        while True:
            if len(self.buffer) >= 4:
                length = int.from_bytes(self.buffer[:4], "big")
                if len(self.buffer) >= 4 + length:
                    payload, self.buffer = self.buffer[4:4 + length], self.buffer[4 + length:]
                    return payload
            data = self._recv(deadline)
            if data is None:
                return None
            self.buffer += data

    def wait_closed(self, timeout=5.0):
        """True once the node closed the connection (frames before that are read and dropped);
        False if it is still open after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                if self._recv(deadline) is None:
                    return True
            except TimeoutError:
                return False

    def read_hello(self, timeout=5.0):
        """The node's hello: (node_key, signature, chain_id, version), or None if closed."""
        payload = self.read_frame(timeout)
        if payload is None:
            return None
        message = parse_fields(payload)
        assert 1 in message, f"first frame is not a hello: fields {sorted(message)}"
        hello = parse_fields(message[1][0])
        return (hello.get(3, [b""])[0], hello.get(4, [b""])[0],
                hello.get(2, [b""])[0].decode(), hello.get(1, [0])[0])

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
