"""The auditor on a real ledger (docs/audit.md, docs/export.md): part of the BAS-DC pilot is
played on a dev node through `bas`; the ledger is exported through the API (`bas export --node`)
and, once the node is stopped, from its RocksDB data directory (`bas export --data-dir`); each
export, the data directory itself and the live node audit clean, and the audit's decisions
register is the one GET /v1/decisions serves. The export is then read and tampered with from
this file alone, written from docs/export.md (framing and checksums with hashlib, no code of
the project's): the audit names the first failing height. Finally the annual report.
"""
import datetime
import hashlib
import json
import struct
import subprocess

from conftest import BAS_BIN, b64_to_hex

VP = 8
MAGIC = b"BASEXP1\n"
BLOCK, COMMIT = 3, 4
DISSENT = "LedgerX's assessment is a year old"


def read_records(path):
    """[(type, payload)] of an export, checking the magic and every checksum (docs/export.md)."""
    data = path.read_bytes()
    assert data[:8] == MAGIC
    records, i = [], 8
    while i < len(data):
        (length,) = struct.unpack(">I", data[i:i + 4])
        rtype = data[i + 4]
        payload = data[i + 5:i + 5 + length]
        checksum = data[i + 5 + length:i + 9 + length]
        assert checksum == hashlib.sha256(data[i:i + 5 + length]).digest()[:4], f"byte {i}"
        records.append((rtype, payload))
        i += 9 + length
    return records


def write_records(path, records):
    out = bytearray(MAGIC)
    for rtype, payload in records:
        head = struct.pack(">IB", len(payload), rtype)
        out += head + payload + hashlib.sha256(head + payload).digest()[:4]
    path.write_bytes(bytes(out))


def bas(*args, expect=0):
    p = subprocess.run([BAS_BIN, *map(str, args)], capture_output=True, text=True, timeout=120)
    assert p.returncode == expect, (
        f"bas {' '.join(map(str, args))}: exit {p.returncode}, expected {expect}\n"
        f"stdout: {p.stdout[-3000:]}\nstderr: {p.stderr[-3000:]}")
    return p


def audit_json(genesis, *source):
    p = bas("audit", *source, "--genesis", genesis, "--format", "json")
    report = json.loads(p.stdout)
    assert report["audit"]["verdict"] == "clean", p.stderr
    assert "audit: clean" in p.stderr
    return report


def test_audit(start_node, tmp_path):
    node = start_node(voting_period=VP)
    home = node.home
    genesis = home / "genesis.json"
    year = datetime.datetime.now(datetime.timezone.utc).year

    # The node serves the genesis it was started from (GET /v1/genesis, docs/api.md).
    served = node.get_json("/v1/genesis")["genesis"]
    written = json.loads(genesis.read_text())
    assert served["chain_id"] == written["chain_id"] == node.chain_id
    assert served["genesis_time"] == written["genesis_time"]
    assert [v["key"] for v in served["validators"]] == [v["key"] for v in written["validators"]]
    assert [m["id"] for m in served["coalitions"][0]["members"]] == \
        [m["id"] for m in written["coalitions"][0]["members"]]

    # ---- part of the pilot ----
    report_doc = tmp_path / "ledgerx-report.txt"
    report_doc.write_text("BMM-1.0 assessment of LedgerX\n")
    assessment = node.bas_json(
        "assess", "--key", "bmm-1", "--solution-id", "ledgerx", "--solution-name", "LedgerX",
        "--bmm-version", "BMM-1.0", "--level", "3", "--element", "Security=4",
        "--valid-until", "2030-12-31", "--report", report_doc)["tx_id"]
    minutes = tmp_path / "minutes.txt"
    minutes.write_text("BAS-DC monthly call\n")
    today = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    node.bas_json("meeting", "--key", "civ-1", "--coalition", "bas-dc", "--date", today,
                  "--minutes", minutes)
    plan_doc = tmp_path / "plan.md"
    plan_doc.write_text(f"# Annual plan {year}\n")
    plan = node.bas_json(
        "propose", "--key", "gov-1", "--coalition", "bas-dc", "--title", f"Annual plan {year}",
        "--annual-plan", year, "--document", plan_doc,
        "--igf-session", f"{year}:WORKSHOP:Assurance in the public sector")["tx_id"]
    for member in ["gov-1", "gov-2", "priv-1", "civ-1", "tech-1", "aca-1"]:
        node.bas_json("vote", plan, "YES", "--key", member)
    listing = node.bas_json("propose", "--key", "priv-1", "--coalition", "bas-dc", "--title",
                            "List LedgerX", "--list-solution", f"ledgerx:{assessment}")["tx_id"]
    for member in ["gov-1", "priv-1", "tech-1"]:
        node.bas_json("vote", listing, "YES", "--key", member)
    node.bas_json("vote", listing, "NO", "--key", "gov-2", "--reason", DISSENT)  # the dissent
    admission = node.bas_json(
        "apply", "--key", "applicant-1", "--coalition", "bas-dc", "--member-id", "gov-3",
        "--group", "GOVERNMENT", "--name", "Kwame Mensah")["tx_id"]
    for member in ["gov-1", "priv-1", "tech-1"]:
        node.bas_json("vote", admission, "YES", "--key", member)
    for proposal in [plan, listing, admission]:
        closed = node.wait_closed(proposal)
        assert closed["proposal"]["status"] == "PASSED", closed["decision"]
    decisions = node.get_json("/v1/decisions")["decisions"]
    assert len(decisions) == 3

    # ---- the live node, and an export through its API ----
    live = audit_json(genesis, "--node", node.url)
    assert live["decisions"] == decisions
    via_api = tmp_path / "via-api.basexp"
    p = bas("export", "--node", node.url, "--out", via_api)
    assert "written to" in p.stderr

    # ---- stopped: the data directory, and an export from it ----
    assert node.stop() == 0
    data_dir = home / "data"
    via_dir = tmp_path / "via-dir.basexp"
    bas("export", "--data-dir", data_dir, "--out", via_dir)

    reports = {}
    for name, source in [("api", ["--export", via_api]), ("dir", ["--export", via_dir]),
                         ("data", ["--data-dir", data_dir])]:
        reports[name] = audit_json(genesis, *source)
        r = reports[name]
        # No decision was taken after GET /v1/decisions: the registers are the same.
        assert r["decisions"] == decisions, name
        assert [b64_to_hex(d["proposal_id"]) for d in r["decisions"]] == [plan, listing,
                                                                           admission]
        assert r["audit"]["txs"] >= 15
        history = r["coalitions"][0]["membership_history"]
        assert history[-1]["member_id"] == "gov-3" and history[-1]["kind"] == "ADMITTED"
        assert [entry["solution_id"] for entry in r["directory"]] == ["ledgerx"]
        assert len(r["coalitions"][0]["meetings"]) == 1
        assert r["evidence"] == []
    # The data directory holds at least what the API export saw, and agrees on it.
    assert reports["dir"]["audit"]["height"] == reports["data"]["audit"]["height"]
    assert reports["api"]["audit"]["height"] <= reports["dir"]["audit"]["height"]
    audited_to = reports["api"]["audit"]["height"]
    again = json.loads(bas("audit", "--export", via_dir, "--genesis", genesis, "--format", "json",
                           "--to-height", audited_to).stdout)
    assert again["audit"]["block_hash"] == reports["api"]["audit"]["block_hash"]

    # csv and md are the same register.
    csv = bas("audit", "--export", via_dir, "--genesis", genesis, "--format", "csv").stdout
    assert f"gov-2: {DISSENT}" in csv and len(csv.splitlines()) == 4  # a header, 3 decisions
    md_file = tmp_path / "audit.md"
    bas("audit", "--export", via_dir, "--genesis", genesis, "--report", md_file)
    md = md_file.read_text()
    assert "| Verdict | CLEAN" in md and f"gov-2: {DISSENT}" in md

    # ---- tampering, with the framing of docs/export.md only ----
    records = read_records(via_dir)
    assert records[0][0] == 1 and records[1][0] == 2
    # The dissenting vote's signature, found in its block's record, one byte flipped, the
    # record's checksum recomputed: a careful forger. The audit names the vote.
    signed = None
    for height_index, (rtype, payload) in enumerate(records):
        if rtype == BLOCK and DISSENT.encode() in payload:
            signed = height_index
    assert signed is not None
    at = records[signed][1].index(DISSENT.encode())
    forged = records[signed][1][:at] + b"X" + records[signed][1][at + 1:]
    tampered = list(records)
    tampered[signed] = (BLOCK, forged)
    tampered_file = tmp_path / "tampered.basexp"
    write_records(tampered_file, tampered)
    height = (signed - 2) // 3 + 1
    p = bas("audit", "--export", tampered_file, "--genesis", genesis, "--format", "json",
            expect=6)
    verdict = json.loads(p.stdout)["audit"]
    assert verdict["verdict"] == "discrepancy"
    assert verdict["discrepancy"]["height"] == height
    assert verdict["discrepancy"]["structure"] == "tx"
    assert "BAD_SIGNATURE" in verdict["discrepancy"]["reason"]
    assert f"DISCREPANCY at height {height}: tx:" in p.stderr
    assert "decisions" not in json.loads(p.stdout)

    # The same byte flipped without the checksum: the file is damaged there.
    raw = bytearray(via_dir.read_bytes())
    raw[raw.index(DISSENT.encode())] ^= 0x01
    damaged = tmp_path / "damaged.basexp"
    damaged.write_bytes(bytes(raw))
    p = bas("audit", "--export", damaged, "--genesis", genesis, expect=6)
    assert f"DISCREPANCY at height {height}: ledger:" in p.stderr and "checksum" in p.stderr

    # Height 1's records removed: the heights no longer follow.
    cut = [r for i, r in enumerate(records) if i not in (2, 3, 4)]  # height 1's records
    write_records(tampered_file, cut)
    p = bas("audit", "--export", tampered_file, "--genesis", genesis, expect=6)
    assert "DISCREPANCY at height 1: header: header.height: 2, expected 1" in p.stderr

    # Another genesis than the one the auditor trusts.
    other = dict(written, genesis_time=str(int(written["genesis_time"]) + 1))
    other_file = tmp_path / "other-genesis.json"
    other_file.write_text(json.dumps(other))
    p = bas("audit", "--export", via_dir, "--genesis", other_file, expect=6)
    assert "DISCREPANCY at height 0: genesis" in p.stderr

    # ---- the annual report, from the audited ledger ----
    annual = bas("report", "annual", "--coalition", "bas-dc", "--year", year, "--export", via_dir,
                 "--genesis", genesis).stdout
    tip = reports["dir"]["audit"]
    assert f"annual report {year}" in annual
    assert tip["block_hash"] in annual and f"height {tip['height']}" in annual
    assert hashlib.sha256(plan_doc.read_bytes()).hexdigest() in annual  # the plan's document
    assert hashlib.sha256(minutes.read_bytes()).hexdigest() in annual   # the minutes
    assert "Assurance in the public sector" in annual                     # the IGF session
    assert f"gov-2: {DISSENT}" in annual                                  # the minority view
    assert "| ADMITTED | gov-3 |" in annual                               # membership change
    assert "| LISTED | ledgerx |" in annual                                # directory change
    html = bas("report", "annual", "--coalition", "bas-dc", "--year", year, "--format", "html",
               "--data-dir", data_dir, "--genesis", genesis).stdout
    assert html.startswith("<!DOCTYPE html>")
    assert f"gov-2: {DISSENT}" in html
    empty = bas("report", "annual", "--coalition", "bas-dc", "--year", year + 1, "--export",
                via_dir, "--genesis", genesis).stdout
    assert f"No decision closed in {year + 1}." in empty
    bas("report", "annual", "--coalition", "no-such-dc", "--year", year, "--export", via_dir,
        "--genesis", genesis, expect=4)
