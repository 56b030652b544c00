#!/usr/bin/env python3
"""Times one API request on two basd builds against copies of the same chain (scripts/bench.sh api).

  api_bench.py --a BIN_DIR --b BIN_DIR --loadgen BAS_LOADGEN [--rounds R] [--requests N]
               [--target PATH] [--txs T] [--batch B] [--members M] [--keep DIR]

Makes a chain once with B's basd fed by bas-loadgen (T votes in batches of B, one connection:
about T/B blocks), stops it, then runs the builds alternately (A B A B ...), each on a fresh
copy of that home: N sequential GETs of --target over one keep-alive connection after 10 warm-up
ones. Prints per run the median and p90 latency and the server's CPU time per request (utime +
stime from /proc), then the medians over runs. Also fetches a list of endpoints from both builds
on the same chain and reports whether their bodies are byte-identical. Only 127.0.0.1.
"""
import argparse, http.client, json, os, shutil, signal, socket, statistics, subprocess, sys
import tempfile, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "functional"))
from chain import b64, tx_id  # noqa: E402 (the functional tests' reading of docs/encoding.md)

TICKS = os.sysconf("SC_CLK_TCK")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def set_rpc(home, port):
    path = os.path.join(home, "config.toml")
    lines = []
    for line in open(path):
        if line.startswith("listen") and ":" in line and "rpc" in current_section(lines):
            line = f'listen = "127.0.0.1:{port}"\n'
        elif line.startswith("rate_limit_per_s"):
            line = "rate_limit_per_s = 100000\n"
        elif line.startswith("log_level"):
            line = 'log_level = "warn"\n'
        lines.append(line)
    open(path, "w").writelines(lines)


def current_section(lines):
    for line in reversed(lines):
        if line.startswith("["):
            return line
    return ""


class Node:
    def __init__(self, bin_dir, home, port):
        self.port = port
        self.log = open(os.path.join(home, "basd.log"), "w")
        self.proc = subprocess.Popen([os.path.join(bin_dir, "basd"), "start", "--home", home],
                                     stdout=self.log, stderr=self.log)
        for _ in range(200):
            try:
                if self.get("/v1/status")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("basd did not start; see " + self.log.name)

    def get(self, target, conn=None):
        c = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        c.request("GET", target)
        r = c.getresponse()
        body = r.read()
        if conn is None:
            c.close()
        return r.status, body

    def cpu_seconds(self):
        fields = open(f"/proc/{self.proc.pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def make_chain(args, work):
    home = os.path.join(work, "chain")
    port = free_port()
    basd = os.path.join(args.b, "basd")
    out = subprocess.run([basd, "init", "--home", home, "--rpc", f"127.0.0.1:{port}"],
                         check=True, capture_output=True, text=True).stdout
    key = next(l.split()[2] for l in out.splitlines() if l.startswith("node key"))
    subprocess.run([args.loadgen, "genesis", "--members", str(args.members), "--validator", key,
                    "--out", os.path.join(home, "genesis.json")], check=True)
    set_rpc(home, port)
    node = Node(args.b, home, port)
    try:
        subprocess.run([args.loadgen, "run", "--node", f"http://127.0.0.1:{port}", "--members",
                        str(args.members), "--txs", str(args.txs), "--batch", str(args.batch),
                        "--connections", "1"], check=True, stdout=subprocess.DEVNULL)
        height = json.loads(node.get("/v1/status")[1])["height"]
    finally:
        node.stop()
    print(f"chain: {height} blocks, {args.txs} votes in batches of {args.batch}, "
          f"{args.members} members", flush=True)
    return home


def endpoints(node):
    """Endpoints whose answers carry records, with ids taken from the chain."""
    out = ["/v1/status", "/v1/genesis", "/v1/blocks?from=1&to=100", "/v1/blocks/2",
           "/v1/coalitions", "/v1/coalitions/bas-dc", "/v1/coalitions/bas-dc/members",
           "/v1/coalitions/bas-dc/history", "/v1/proposals", "/v1/decisions", "/v1/directory",
           "/v1/assessments", "/v1/meetings", "/v1/bmm-models", "/v1/validators"]
    block = json.loads(node.get("/v1/blocks/2")[1])["block"]
    if block["txs"]:
        out.append("/v1/txs/" + tx_id(b64(block["txs"][0])))
    proposals = json.loads(node.get("/v1/proposals")[1])["proposals"]
    if proposals:
        out += ["/v1/proposals/" + proposals[0]["id"], f"/v1/proposals/{proposals[0]['id']}/votes"]
    return out


def fresh_copy(chain, work, name):
    home = os.path.join(work, name)
    shutil.rmtree(home, ignore_errors=True)
    shutil.copytree(chain, home)
    port = free_port()
    set_rpc(home, port)
    return home, port


def run_once(bin_dir, chain, work, args):
    home, port = fresh_copy(chain, work, "run")
    node = Node(bin_dir, home, port)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for _ in range(10):
            status, body = node.get(args.target, conn)
            if status != 200:
                raise RuntimeError(f"{args.target}: HTTP {status}")
        times = []
        cpu0 = node.cpu_seconds()
        for _ in range(args.requests):
            t0 = time.perf_counter()
            node.get(args.target, conn)
            times.append(time.perf_counter() - t0)
        cpu = (node.cpu_seconds() - cpu0) / args.requests
        conn.close()
    finally:
        node.stop()
        shutil.rmtree(home, ignore_errors=True)
    times.sort()
    return statistics.median(times) * 1e3, times[int(0.9 * len(times))] * 1e3, cpu * 1e3, len(body)


def compare(args, chain, work):
    bodies = {}
    for name, bin_dir in (("a", args.a), ("b", args.b)):
        home, port = fresh_copy(chain, work, "compare-" + name)
        node = Node(bin_dir, home, port)
        try:
            targets = bodies.get("targets") or endpoints(node)
            bodies["targets"] = targets
            bodies[name] = [node.get(t) for t in targets]
        finally:
            node.stop()
    same = 0
    for t, (sa, ba), (sb, bb) in zip(bodies["targets"], bodies["a"], bodies["b"]):
        if sa == sb and ba == bb:
            same += 1
            print(f"  identical  {sa} {len(ba):8d} B  {t}")
        else:
            print(f"  DIFFERENT  {sa}/{sb} {len(ba)}/{len(bb)} B  {t}")
    print(f"byte-identical: {same} of {len(bodies['targets'])}", flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--a", required=True, help="bin dir of build A (the baseline)")
    p.add_argument("--b", required=True, help="bin dir of build B")
    p.add_argument("--loadgen", required=True)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--requests", type=int, default=200)
    p.add_argument("--target", default="/v1/blocks?from=1&to=100")
    p.add_argument("--txs", type=int, default=5000)
    p.add_argument("--batch", type=int, default=25)
    p.add_argument("--members", type=int, default=100)
    p.add_argument("--keep", help="reuse (or make and keep) the chain in this directory")
    args = p.parse_args()

    work = tempfile.mkdtemp(prefix="bas-bench-api.")
    try:
        if args.keep and os.path.isdir(os.path.join(args.keep, "chain")):
            chain = os.path.join(args.keep, "chain")
        else:
            chain = make_chain(args, args.keep or work)
        compare(args, chain, work)
        results = {"a": [], "b": []}
        print(f"GET {args.target}: {args.requests} sequential requests, keep-alive, per run",
              flush=True)
        for r in range(args.rounds):
            for name in ("a", "b"):
                med, p90, cpu, size = run_once(getattr(args, name), chain, work, args)
                results[name].append((med, p90, cpu))
                print(f"  round {r + 1} {name}: median {med:7.2f} ms  p90 {p90:7.2f} ms  "
                      f"server CPU {cpu:7.2f} ms/request  body {size} B", flush=True)
        for name in ("a", "b"):
            meds, p90s, cpus = zip(*results[name])
            print(f"{name} ({getattr(args, name)}): median of run medians "
                  f"{statistics.median(meds):.2f} ms, p90 {statistics.median(p90s):.2f} ms, "
                  f"server CPU {statistics.median(cpus):.2f} ms/request")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
