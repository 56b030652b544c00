"""The BAS-DC pilot (scripts/demo.sh) on a real dev node, through `bas`, with its decisions checked
number by number against the voting rules (DESIGN.md section 3, docs/scenarios.md "Precise
rules"; the dev genesis sets only the voting period, so every other rule field is the built-in
default of its action type).

Timeline (voting period VP seconds):
  applicant-1 applies as gov-3 (GOVERNMENT); 3 YES and 1 ABSTAIN     -> bas-dc#1 PASSED
  meanwhile bmm-1 submits a BMM assessment of "ledgerx", civ-1 records a meeting
  after #1 closes (so gov-3 is in the electorates below):
    gov-1 proposes the annual plan 2027 with an IGF workshop; 6 YES, gov-2 NO with a reason,
    civ-1 first NO then YES (the last vote counts), tech-1 signs offline -> bas-dc#2 PASSED
    priv-1 proposes to list ledgerx; 3 YES                             -> bas-dc#3 PASSED
    aca-1 proposes a resolution; 2 YES of 7 eligible                   -> bas-dc#4 REJECTED QUORUM
"""
import calendar
import datetime
import hashlib

from chain import check_chain
from conftest import MEMBERS, b64_to_hex

VP = 8
YEAR = 2027
DISSENT_REASON = "The plan should fund a second IGF session for regulators"
VALID_UNTIL = "2030-12-31"


def tally(yes, no, abstain, eligible, groups):
    """The API's ProposalTally JSON (64-bit integers are strings) from plain numbers; groups:
    [(GROUP, yes, no, abstain, eligible)] in enum order."""
    return {"yes": str(yes), "no": str(no), "abstain": str(abstain), "eligible": str(eligible),
            "groups": [{"group": g, "yes": str(y), "no": str(n), "abstain": str(a),
                        "eligible": str(e)} for g, y, n, a, e in groups]}


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def vote(node, proposal, choice, key, reason=None):
    args = ["vote", proposal, choice, "--key", key]
    if reason is not None:
        args += ["--reason", reason]
    return node.bas_json(*args)["tx_id"]


def test_pilot(start_node, tmp_path):
    node = start_node(voting_period=VP)

    # ---- 1. applicant-1 applies; the members vote ----
    applicant_key = node.public_key("applicant-1")
    admission = node.bas_json(
        "apply", "--key", "applicant-1", "--coalition", "bas-dc", "--member-id", "gov-3",
        "--group", "GOVERNMENT", "--name", "Kwame Mensah",
        "--organisation", "National IT Development Agency",
        "--statement", "We run the national blockchain sandbox.")["tx_id"]
    for member in ["gov-1", "priv-1", "civ-1"]:
        vote(node, admission, "YES", member, "Welcome")
    vote(node, admission, "ABSTAIN", "aca-1")

    # ---- 2a. bmm-1 submits an assessment (ASSESSOR) while the admission runs ----
    report = tmp_path / "ledgerx-report.txt"
    report.write_text("BMM-1.0 assessment of LedgerX\nGovernance 3, Security 4\n")
    assessment = node.bas_json(
        "assess", "--key", "bmm-1", "--solution-id", "ledgerx", "--solution-name",
        "LedgerX Registry", "--vendor", "LedgerWorks Ltd", "--bmm-version", "BMM-1.0",
        "--level", "3", "--element", "Security=4", "--element", "Governance=3",
        "--valid-until", VALID_UNTIL, "--report", report)["tx_id"]

    # ---- 3. civ-1 (SECRETARIAT) records a meeting; gov-1 (no such role) may not ----
    minutes = tmp_path / "minutes.txt"
    minutes.write_text("BAS-DC monthly call\nAgreed: draft the 2027 plan\n")
    today = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    meeting_tx = node.bas_json("meeting", "--key", "civ-1", "--coalition", "bas-dc",
                               "--date", today, "--minutes", minutes)["tx_id"]
    refused = node.bas("meeting", "--key", "gov-1", "--coalition", "bas-dc", "--date", today,
                       "--minutes", minutes, expect=3)
    assert "NOT_AUTHORIZED" in refused.stderr

    # ---- the admission closes: gov-3 is a member with the applicant's key ----
    closed = node.wait_closed(admission)
    assert closed["proposal"]["is_application"] is True
    assert closed["proposal"]["status"] == "PASSED"
    members = node.bas_json("members", "--coalition", "bas-dc")["members"]
    gov3 = [m for m in members if m["info"]["id"] == "gov-3"]
    assert len(gov3) == 1, members
    assert gov3[0]["info"]["group"] == "GOVERNMENT"
    assert gov3[0]["info"]["roles"] == ["MEMBER"]
    assert b64_to_hex(gov3[0]["info"]["key"]) == applicant_key
    account = node.bas_json("account", "--key", "applicant-1")
    assert {"coalition": "bas-dc", "member_id": "gov-3"} in account["memberships"]

    # ---- 4. the annual plan: every group votes, gov-2 dissents, civ-1 changes its mind ----
    plan_doc = tmp_path / "annual-plan-2027.md"
    plan_doc.write_text("# BAS-DC annual plan 2027\n1. A workshop at IGF 2027.\n")
    plan = node.bas_json(
        "propose", "--key", "gov-1", "--coalition", "bas-dc", "--title", "Annual plan 2027",
        "--annual-plan", YEAR, "--document", plan_doc,
        "--igf-session", f"{YEAR}:WORKSHOP:Blockchain assurance in the public sector")["tx_id"]
    vote(node, plan, "YES", "gov-1", "Proposer")
    vote(node, plan, "YES", "applicant-1", "Good first year")  # gov-3's key
    dissent_tx = vote(node, plan, "NO", "gov-2", DISSENT_REASON)
    vote(node, plan, "YES", "priv-1")
    vote(node, plan, "NO", "civ-1", "Not yet")
    vote(node, plan, "YES", "civ-1", "Convinced by the workshop")
    vote(node, plan, "YES", "aca-1")
    # bmm-1 is a member (ASSESSOR) but not in the electorate (role MEMBER only)
    refused = node.bas("vote", plan, "YES", "--key", "bmm-1", expect=3)
    assert "NOT_ELIGIBLE" in refused.stderr
    # tech-1 signs on an "air-gapped" machine, then the file is broadcast
    nonce = node.bas_json("account", "--key", "tech-1")["next_nonce"]
    signed = tmp_path / "tech-1-vote.hex"
    signed.write_text(node.sign("tech-1", nonce, "vote", plan, "YES", "--reason",
                                "Supports standards work").hex())
    offline_tx = node.bas_json("tx", "broadcast", signed, "--wait")["tx_id"]

    # ---- 2b. priv-1 proposes listing the assessed solution ----
    listing = node.bas_json("propose", "--key", "priv-1", "--coalition", "bas-dc", "--title",
                            "List LedgerX Registry",
                            "--list-solution", f"ledgerx:{assessment}")["tx_id"]
    for member in ["gov-1", "priv-1", "tech-1"]:
        vote(node, listing, "YES", member)

    # ---- a resolution short of quorum ----
    resolution = node.bas_json("propose", "--key", "aca-1", "--coalition", "bas-dc", "--title",
                               "Open data", "--resolution", "Publish all reports")["tx_id"]
    vote(node, resolution, "YES", "aca-1")
    vote(node, resolution, "YES", "tech-1")

    for proposal in [plan, listing, resolution]:
        node.wait_closed(proposal)

    # ---- 5. the decisions register: bas and the API agree ----
    decisions = node.bas_json("decisions")
    assert decisions == node.get_json("/v1/decisions")
    by_id = {b64_to_hex(d["proposal_id"]): d for d in decisions["decisions"]}
    assert [b64_to_hex(d["proposal_id"]) for d in decisions["decisions"]] == \
        [admission, plan, listing, resolution]
    assert [d["number"] for d in decisions["decisions"]] == ["1", "2", "3", "4"]
    assert all(d["coalition"] == "bas-dc" for d in decisions["decisions"])

    # #1: electorate = the 6 MEMBERs (bmm-1 is ASSESSOR only, so PRIVATE_SECTOR has 1).
    # admit_member rule: quorum 334000 ppm: 4 cast * D >= 334000 * 6; support 3 > 0.5 * 3.
    d = by_id[admission]
    assert (d["status"], d["failed_test"], d["title"]) == ("PASSED", "", "Admit gov-3")
    assert d["tally"] == tally(3, 0, 1, 6, [
        ("GOVERNMENT", 1, 0, 0, 2), ("PRIVATE_SECTOR", 1, 0, 0, 1), ("CIVIL_SOCIETY", 1, 0, 0, 1),
        ("TECHNICAL_COMMUNITY", 0, 0, 0, 1), ("ACADEMIA", 0, 0, 1, 1)])
    assert d["dissent"] == []
    assert d["effects"], "an admission that passed must record its effect"

    # #2: electorate 7 (gov-3 in GOVERNMENT). Plan rule (strictest of approve_annual_plan and
    # schedule_igf_session): quorum 50%, support > 50%, every group: quorum 20%, support > 50%.
    # 7 cast of 7; 6 yes of 7; GOVERNMENT 2 yes of 3 (> 1.5); each other group 1 yes of 1.
    d = by_id[plan]
    assert (d["status"], d["failed_test"]) == ("PASSED", "")
    assert d["tally"] == tally(6, 1, 0, 7, [
        ("GOVERNMENT", 2, 1, 0, 3), ("PRIVATE_SECTOR", 1, 0, 0, 1), ("CIVIL_SOCIETY", 1, 0, 0, 1),
        ("TECHNICAL_COMMUNITY", 1, 0, 0, 1), ("ACADEMIA", 1, 0, 0, 1)])
    # civ-1's NO was replaced by its YES: only gov-2 dissents, with its reason
    assert d["dissent"] == [{"member_id": "gov-2", "reason": DISSENT_REASON}]

    # #3: list_solution rule: quorum 334000: 3 * D >= 334000 * 7 = 2338000; 3 yes, 0 no.
    d = by_id[listing]
    assert (d["status"], d["failed_test"]) == ("PASSED", "")
    assert d["tally"] == tally(3, 0, 0, 7, [
        ("GOVERNMENT", 1, 0, 0, 3), ("PRIVATE_SECTOR", 1, 0, 0, 1), ("CIVIL_SOCIETY", 0, 0, 0, 1),
        ("TECHNICAL_COMMUNITY", 1, 0, 0, 1), ("ACADEMIA", 0, 0, 0, 1)])

    # #4: resolution rule: quorum 334000: 2 * D < 2338000 -> QUORUM, nothing applied.
    d = by_id[resolution]
    assert (d["status"], d["failed_test"]) == ("REJECTED", "QUORUM")
    assert d["tally"] == tally(2, 0, 0, 7, [
        ("GOVERNMENT", 0, 0, 0, 3), ("PRIVATE_SECTOR", 0, 0, 0, 1), ("CIVIL_SOCIETY", 0, 0, 0, 1),
        ("TECHNICAL_COMMUNITY", 1, 0, 0, 1), ("ACADEMIA", 1, 0, 0, 1)])
    assert d["effects"] == []

    # Closing: at the first block whose time is >= the end; the end is creation + VP.
    for pid, d in by_id.items():
        p = node.get_json(f"/v1/proposals/{pid}")
        prop = p["proposal"]
        assert prop["status"] == d["status"]
        assert prop["rule"]["voting_period_s"] == str(VP)
        assert int(prop["end_time"]) == int(prop["created_time"]) + VP
        assert int(d["close_time"]) >= int(prop["end_time"])
        assert int(d["close_height"]) > int(prop["created_height"])
        assert p["decision"] == d
        assert p["tally"] == d["tally"]
        electorate = sorted(e["member_id"] for e in p["electorate"])
        assert electorate == sorted(MEMBERS + ([] if pid == admission else ["gov-3"]))
    plan_rule = node.get_json(f"/v1/proposals/{plan}")["proposal"]["rule"]
    assert plan_rule == {"voting_period_s": str(VP), "mode": "MAJORITY", "quorum_ppm": 500000,
                         "threshold_ppm": 500000, "groups_required": True,
                         "group_quorum_ppm": 200000, "group_threshold_ppm": 500000,
                         "objection_ppm": 0}

    # Every vote is kept; the last one of each member counts.
    votes = node.get_json(f"/v1/proposals/{plan}/votes")
    assert len(votes["history"]) == 8
    last = {v["member_id"]: (v["choice"], v["reason"]) for v in votes["votes"]}
    assert len(votes["votes"]) == 7
    assert last["civ-1"] == ("YES", "Convinced by the workshop")
    assert last["gov-2"] == ("NO", DISSENT_REASON)
    assert last["gov-3"] == ("YES", "Good first year")
    assert last["tech-1"] == ("YES", "Supports standards work")
    shown = node.bas_json("proposal", plan)  # the API's answer plus the last votes
    assert shown.pop("votes") == votes["votes"]
    assert shown == node.get_json(f"/v1/proposals/{plan}")

    csv = node.bas("decisions", "--format", "csv").stdout
    assert f"gov-2: {DISSENT_REASON}" in csv

    # ---- the records the decisions produced ----
    coalition = node.get_json("/v1/coalitions/bas-dc")
    plans = coalition["annual_plans"]
    assert len(plans) == 1 and plans[0]["year"] == YEAR
    assert b64_to_hex(plans[0]["document"]["sha256"]) == sha256(plan_doc)
    assert b64_to_hex(plans[0]["proposal_id"]) == plan
    assert [s["title"] for s in coalition["igf_sessions"]] == \
        ["Blockchain assurance in the public sector"]
    assert coalition.get("resolutions", []) == []  # the rejected one applied nothing

    directory = node.bas_json("directory")
    assert directory == node.get_json("/v1/directory")
    assert len(directory["listings"]) == 1
    entry = directory["listings"][0]
    valid_until = calendar.timegm((2030, 12, 31, 23, 59, 59))
    assert (entry["solution_id"], entry["status"], entry["level"], entry["bmm_version"]) == \
        ("ledgerx", "ACTIVE", 3, "BMM-1.0")
    assert b64_to_hex(entry["assessment_id"]) == assessment
    assert b64_to_hex(entry["listed_by_proposal"]) == listing
    assert entry["valid_until"] == str(valid_until)

    assessments = node.get_json("/v1/assessments")["assessments"]
    assert len(assessments) == 1
    a = assessments[0]
    assert (b64_to_hex(a["id"]), a["assessor_member_id"], a["level"]) == (assessment, "bmm-1", 3)
    assert [(e["element"], e["level"]) for e in a["elements"]] == \
        [("Governance", 3), ("Security", 4)]  # sent sorted by name
    assert b64_to_hex(a["report"]["sha256"]) == sha256(report)

    meetings = node.bas_json("meetings")["meetings"]
    assert len(meetings) == 1  # gov-1's was refused
    m = meetings[0]
    assert (m["coalition"], m["date"], m["recorded_by"]) == ("bas-dc", today, "civ-1")
    assert b64_to_hex(m["minutes"]["sha256"]) == sha256(minutes)
    assert b64_to_hex(m["tx_id"]) == meeting_tx

    # ---- gov-2 proves its dissenting vote was counted; so does tech-1's offline one ----
    for tx in [dissent_tx, offline_tx]:
        node.bas("verify-vote", tx)
        proof = node.bas_json("verify-vote", tx)
        assert proof["verified"] is True and proof["is_vote"] is True
        assert all(c["ok"] for c in proof["checks"]) and len(proof["checks"]) == 6
    node.bas("verify-vote", "00" * 32, expect=4)

    # ---- a stop (SIGTERM, exit 0) and a restart on the same home keep every record ----
    records = ["/v1/decisions", "/v1/directory", "/v1/assessments", "/v1/meetings",
               "/v1/coalitions/bas-dc", "/v1/coalitions/bas-dc/members",
               f"/v1/proposals/{plan}/votes"]
    before = {path: node.get_json(path) for path in records}
    head = node.status()
    assert node.stop() == 0
    node.start()
    assert {path: node.get_json(path) for path in records} == before
    after = node.status()
    assert after["height"] >= head["height"]
    if after["height"] == head["height"]:
        assert (after["latest_block_hash"], after["app_hash"]) == \
            (head["latest_block_hash"], head["app_hash"])
    node.bas("verify-vote", dissent_tx)

    # ---- the whole chain checks independently (chain.py), and holds every tx above ----
    _, chain_txs = check_chain(node)
    for tx in [admission, assessment, meeting_tx, plan, dissent_tx, offline_tx, listing,
               resolution]:
        assert tx in chain_txs, tx
