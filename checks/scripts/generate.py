#!/usr/bin/env python3
"""Generate the state x segment matrix of scenario scripts from the table below.

The table (RULES, and the per-state setups) is the specification: every
expected behaviour comes from RFC 9293 Section 3.10.7 (with RFC 5961 and
RFC 1337 where the engine follows them), cited per row; nothing here was
copied from running the engine.

Run from anywhere:  python3 checks/scripts/generate.py
It rewrites checks/scripts/matrix/, checks/scripts/README.md and
checks/scripts/tests.list (the list `cargo test` runs, which also picks up
the hand-written scripts in the other folders).
"""

import os
import re
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))

# ---------------------------------------------------------------------------
# Fixed parameters of every matrix script.
#
# The script (the remote peer) uses ISN 1000, so its first data octet is 1001.
# The engine's numbers are written relative to its ISN (packetdrill's rule).
# The engine is configured so that its segments are predictable: no window
# scaling, timestamps or SACK; ACKs sent at once (RFC 9293 allows a delay,
# MUST-40 bounds it; the scripts ask for none so each ACK has a fixed time);
# a 10000-byte receive buffer, so RCV.WND = 10000 (the setup checks the
# window the engine advertises); TIME-WAIT does not reopen on a new SYN
# (MAY-2 is a separate, optional behaviour with its own script).
# ---------------------------------------------------------------------------

HEADER = """\
--wscale=0
--timestamps=0
--sack=0
--delayed_ack_ms=0
--rcvbuf=10000
--mss=1000
--time_wait_reopen=0
"""

RCV_WND = 10000
WIN = 8000  # the window the script advertises

# The right edge of the receive window, RCV.NXT+RCV.WND, in script numbers.
# It is set by the SYN,ACK (RCV.NXT 1001, RCV.WND 10000) and does not move in
# these scripts: nothing is read by the application, and the total of RCV.NXT
# and RCV.WND should not be reduced (§3.10.7.4 seventh, §3.8.6.2.2). So once
# the peer's FIN has taken one octet, RCV.WND is 9999; the setups check the
# window the engine advertises.
RIGHT_EDGE = 1001 + RCV_WND

# Sequence positions (RFC 9293 §3.10.7.4, Table 6), as functions of RCV.NXT.
POSITIONS = {
    "left": lambda r: r,  # SEG.SEQ = RCV.NXT: the left edge
    "inside": lambda r: r + RCV_WND // 2,  # strictly inside the window
    "right": lambda r: RIGHT_EDGE - 1,  # RCV.NXT+RCV.WND-1: the last octet of the window
    "outside": lambda r: RIGHT_EDGE,  # RCV.NXT+RCV.WND: just past the right edge
    "old": lambda r: r - 200,  # entirely left of the window (an old duplicate)
}
ACCEPTABLE = {"left", "inside", "right"}  # for SEG.LEN 0 and SEG.LEN > 0 alike

TYPES = ["syn", "syn-ack", "ack", "fin", "fin-ack", "rst", "rst-ack", "data"]
FLAGS = {
    "syn": "S",
    "syn-ack": "S.",
    "ack": ".",
    "fin": "F",
    "fin-ack": "F.",
    "rst": "R",
    "rst-ack": "R.",
    "data": "P.",
}
DATA_LEN = 100

# ---------------------------------------------------------------------------
# Setups. Each reaches one state by a passive open (the engine listens on fd
# 3, the connection is fd 4) and records the TCB variables the RFC's rules
# are written in, engine side relative, script side absolute.
# ---------------------------------------------------------------------------

PASSIVE = """\
0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 bind(3, ..., ...) = 0
+0 listen(3, 1) = 0
"""
SYN_RCVD = PASSIVE + """\
+0 < S 1000:1000(0) win 8000 <mss 1000>
+0 > S. 0:0(0) ack 1001 win 10000 <mss 1000>
"""
ESTAB = SYN_RCVD + """\
+0.01 < . 1001:1001(0) ack 1 win 8000
+0 accept(3, ..., ...) = 4
"""
FW1 = ESTAB + """\
+0.01 shutdown(4, SHUT_WR) = 0
+0 > F. 1:1(0) ack 1001
"""
FW2 = FW1 + """\
+0.01 < . 1001:1001(0) ack 2 win 8000
"""
CLOSING = FW1 + """\
+0.01 < F. 1001:1001(0) ack 1 win 8000
+0 > . 2:2(0) ack 1002 win 9999
"""
TIME_WAIT = FW2 + """\
+0.01 < F. 1001:1001(0) ack 2 win 8000
+0 > . 2:2(0) ack 1002 win 9999
"""
CLOSE_WAIT = ESTAB + """\
+0.01 < F. 1001:1001(0) ack 1 win 8000
+0 > . 1:1(0) ack 1002 win 9999
"""
LAST_ACK = CLOSE_WAIT + """\
+0.01 shutdown(4, SHUT_WR) = 0
+0 > F. 1:1(0) ack 1002
"""

SYN_RCVD_ACTIVE = """\
0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0
+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)
+0 > S 0:0(0) win 10000 <mss 1000>
+0.01 < S 1000:1000(0) win 8000 <mss 1000>
+0 > S. 0:0(0) ack 1001 win 10000 <mss 1000>
"""

# name: (setup, RCV.NXT, SND.UNA, SND.NXT, how it was reached)
SYNC_STATES = {
    "syn-received": (SYN_RCVD, 1001, 0, 1, "passive OPEN, SYN received, SYN,ACK sent (§3.10.7.2)"),
    "syn-received-active": (SYN_RCVD_ACTIVE, 1001, 0, 1,
                            "active OPEN, then the peer's SYN without ACK: simultaneous open "
                            "(§3.10.7.3 fourth; MUST-10, MUST-11 keep it apart from a passive one)"),
    "established": (ESTAB, 1001, 1, 1, "three-way handshake completed (§3.10.7.4 fifth)"),
    "fin-wait-1": (FW1, 1001, 1, 2, "CLOSE in ESTABLISHED, FIN sent (§3.10.4)"),
    "fin-wait-2": (FW2, 1001, 2, 2, "our FIN acknowledged (§3.10.7.4 fifth)"),
    "close-wait": (CLOSE_WAIT, 1002, 1, 1, "peer's FIN received in ESTABLISHED (§3.10.7.4 eighth)"),
    "closing": (CLOSING, 1002, 1, 2, "peer's FIN received in FIN-WAIT-1, ours unacknowledged (§3.10.7.4 eighth)"),
    "last-ack": (LAST_ACK, 1002, 1, 2, "CLOSE in CLOSE-WAIT, FIN sent (§3.10.4)"),
    "time-wait": (TIME_WAIT, 1002, 2, 2, "peer's FIN received in FIN-WAIT-2 (§3.10.7.4 eighth)"),
}
RECEIVING = {"established", "fin-wait-1", "fin-wait-2"}  # states that take data (§3.10.7.4 seventh)

# ---------------------------------------------------------------------------
# The rules for the synchronized states and SYN-RECEIVED, first match wins.
# Each row: (states or "*", types, positions, outcome, citation).
#   "drop"      nothing sent, state unchanged
#   "ack"       <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> sent, segment dropped
#   "reset"     the connection is deleted (CLOSED; back to LISTEN for a
#               passive SYN-RECEIVED), nothing sent
#   "process"   steps five to eight below
# ---------------------------------------------------------------------------

RST_TYPES = {"rst", "rst-ack"}
SYN_TYPES = {"syn", "syn-ack"}
BAD = {"outside", "old"}
GOOD = ACCEPTABLE
IN_NOT_LEFT = {"inside", "right"}

RULES = [
    ("*", RST_TYPES, BAD, "drop",
     "§3.10.7.4 first: an unacceptable segment with RST is dropped silently; RFC 5961 §3.2 check 1"),
    ("*", set(TYPES) - RST_TYPES, BAD, "ack",
     "§3.10.7.4 first: an unacceptable segment is answered <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and dropped"),
    ({"time-wait"}, RST_TYPES, GOOD, "drop",
     "RFC 1337 §3 (fix 1): RST is ignored in TIME-WAIT, the engine's default (§3.10.7.4 second would close)"),
    ({"syn-received"}, RST_TYPES, {"left"}, "reset",
     "§3.10.7.4 second: SEQ = RCV.NXT (RFC 5961 §3.2 check 2); from a passive OPEN, back to LISTEN, nothing sent"),
    ({"syn-received-active"}, RST_TYPES, {"left"}, "reset",
     "§3.10.7.4 second: SEQ = RCV.NXT (RFC 5961 §3.2 check 2); from an active OPEN the connection "
     "was refused: CLOSED, nothing sent"),
    ("*", RST_TYPES, {"left"}, "reset",
     "§3.10.7.4 second: SEQ = RCV.NXT (RFC 5961 §3.2 check 2) resets the connection: CLOSED, nothing sent"),
    ("*", RST_TYPES, IN_NOT_LEFT, "ack",
     "§3.10.7.4 second, RFC 5961 §3.2 check 3: RST in the window but not at RCV.NXT gets a challenge ACK"),
    ({"syn-received"}, SYN_TYPES, GOOD, "reset",
     "§3.10.7.4 fourth: a SYN in SYN-RECEIVED reached by a passive OPEN returns it to LISTEN"),
    ("*", SYN_TYPES, GOOD, "ack",
     "§3.10.7.4 fourth, RFC 5961 §4.2: a SYN in a synchronized state gets a challenge ACK, then is "
     "dropped (SYN-RECEIVED from an active OPEN is handled as a synchronized state)"),
    ("*", {"fin"}, GOOD, "drop",
     "§3.10.7.4 fifth: a segment without ACK is dropped (no reply)"),
    ("*", {"ack", "fin-ack", "data"}, GOOD, "process",
     "§3.10.7.4 fifth to eighth (see the steps below)"),
]


def rule_for(state, typ, pos):
    for states, types, positions, outcome, cite in RULES:
        if (states == "*" or state in states) and typ in types and pos in positions:
            return outcome, cite
    raise SystemExit(f"no rule for {state} {typ} {pos}")


def process(state, typ, pos, rcv_nxt, snd_una, snd_nxt):
    """Steps five to eight of §3.10.7.4 for an acceptable segment with
    ACK = SND.NXT (always within RFC 5961 §5's range). Returns
    (reply_ack or None, optional, new state or None for deleted, rcv_nxt, notes).
    `optional` marks a reply the RFC allows but does not require (`>?`)."""
    notes = []
    st = state
    reply = None
    optional = False
    # Fifth: the ACK field.
    if st in ("syn-received", "syn-received-active"):
        st = "established"
        notes.append("§3.10.7.4 fifth: SND.UNA < SEG.ACK =< SND.NXT, SYN-RECEIVED becomes ESTABLISHED")
    elif st == "fin-wait-1":
        st = "fin-wait-2"
        notes.append("§3.10.7.4 fifth: the ACK covers our FIN, FIN-WAIT-1 becomes FIN-WAIT-2")
    elif st == "closing":
        st = "time-wait"
        notes.append("§3.10.7.4 fifth: the ACK covers our FIN, CLOSING becomes TIME-WAIT")
    elif st == "last-ack":
        notes.append("§3.10.7.4 fifth: the ACK covers our FIN in LAST-ACK: CLOSED, nothing sent")
        return None, False, None, rcv_nxt, notes
    elif st == "time-wait":
        reply, optional = rcv_nxt, True
        notes.append("§3.10.7.4 fifth, TIME-WAIT: only a retransmitted FIN is expected here and is "
                     "acknowledged; whether other acceptable segments are acknowledged too is left "
                     "open, so an ACK is allowed, not required")
    else:
        notes.append("§3.10.7.4 fifth: SEG.ACK = SND.NXT, nothing new acknowledged")
    at_left = pos == "left"
    out_of_order_note = ("§3.10.7.4 first (SHLD-31: hold for later) and RFC 5681 §4.2: "
                         "an out-of-order segment is answered at once with a duplicate ACK")
    may13_note = ("§3.10.7.4 seventh/eighth: past the peer's FIN the segment is ignored; "
                  "an ACK for a segment in the window but not at its left edge is allowed (MAY-13), "
                  "not required")
    # Seventh: segment text.
    if typ == "data":
        if st in RECEIVING:
            if at_left:
                rcv_nxt += DATA_LEN
                reply, optional = rcv_nxt, False
                notes.append("§3.10.7.4 seventh: data at RCV.NXT accepted and acknowledged")
            else:
                reply, optional = rcv_nxt, False
                notes.append(out_of_order_note)
        elif at_left:
            notes.append("§3.10.7.4 seventh: after the peer's FIN, segment text is ignored")
        else:
            reply, optional = rcv_nxt, True
            notes.append(may13_note)
    # Eighth: FIN.
    if typ == "fin-ack":
        if at_left:
            rcv_nxt += 1
            reply, optional = rcv_nxt, False
            nxt = {"established": "close-wait", "fin-wait-2": "time-wait"}.get(st, st)
            notes.append(f"§3.10.7.4 eighth: FIN at RCV.NXT: RCV.NXT advances over it, it is "
                         f"acknowledged, {st.upper()} -> {nxt.upper()}"
                         + (" (literal reading: a FIN past the peer's first FIN is still processed)"
                            if st in ("close-wait", "time-wait") else ""))
            st = nxt
        elif st in RECEIVING:
            reply, optional = rcv_nxt, False
            notes.append(out_of_order_note)
        else:
            reply, optional = rcv_nxt, True
            notes.append(may13_note)
    return reply, optional, st, rcv_nxt, notes


def seg_line(typ, seq, ack):
    flags = FLAGS[typ]
    length = DATA_LEN if typ == "data" else 0
    s = f"{flags} {seq}:{seq + length}({length})"
    if "." in flags:
        s += f" ack {ack}"
    return s + f" win {WIN}"


def probe(state_after, rcv_nxt, snd_nxt):
    """An out-of-window ACK shows whether the connection still exists and
    where RCV.NXT and SND.NXT stand (§3.10.7.4 first, or §3.10.7.1/§3.10.7.2
    when it is gone: a RST with SEQ = SEG.ACK)."""
    seq = rcv_nxt + 2 * RCV_WND
    lines = [
        "// Probe: an ACK far outside the window.",
        f"+0.01 < . {seq}:{seq}(0) ack {snd_nxt} win {WIN}",
    ]
    if state_after is None:
        lines.insert(0, "// The connection is gone: a segment with ACK gets <SEQ=SEG.ACK><CTL=RST> "
                        "(§3.10.7.1, or §3.10.7.2 from the listener).")
        lines.append(f"+0 > R {snd_nxt}:{snd_nxt}(0)")
    else:
        lines.insert(0, f"// The connection is still there ({state_after.upper()}): "
                        "the unacceptable ACK is answered with an ACK (§3.10.7.4 first).")
        lines.append(f"+0 > . {snd_nxt}:{snd_nxt}(0) ack {rcv_nxt}")
    return "\n".join(lines) + "\n"


def sync_cell(state, typ, pos):
    setup, rcv_nxt, snd_una, snd_nxt, how = SYNC_STATES[state]
    seq = POSITIONS[pos](rcv_nxt)
    ack = snd_nxt
    outcome, cite = rule_for(state, typ, pos)
    cites = [cite]
    reply = None
    optional = False
    st = state
    r = rcv_nxt
    if outcome == "drop":
        pass
    elif outcome == "ack":
        reply = rcv_nxt
    elif outcome == "reset":
        st = None
    elif outcome == "process":
        reply, optional, st, r, notes = process(state, typ, pos, rcv_nxt, snd_una, snd_nxt)
        cites += notes
    if reply is not None:
        arrow = ">?" if optional else ">"
        expect = f"+0 {arrow} . {snd_nxt}:{snd_nxt}(0) ack {reply}"
        if optional:
            expect = "// Allowed, not required (`>?`: sent here or not at all).\n" + expect
    else:
        expect = "// (nothing is sent)"
    # Summary for the README.
    if reply is not None:
        summary = f"ACK({reply})" + ("?" if optional else "")
    else:
        summary = "-"
    if st is None:
        summary += " → " + ("LISTEN" if state == "syn-received" else "CLOSED")
    elif st != state:
        summary += f" → {st.upper()}"
    body = [
        f"// Matrix cell: {state.upper()} x {typ.upper()} with SEG.SEQ at the {pos} position "
        f"(SEG.SEQ = {seq} = RCV.NXT{seq - rcv_nxt:+d}).",
        f"// State reached by: {how}. RCV.NXT={rcv_nxt} (script numbers), "
        f"SND.UNA={snd_una}, SND.NXT={snd_nxt} (engine numbers, relative to its ISN), "
        f"RCV.WND={RIGHT_EDGE - rcv_nxt}.",
        "// Expected, per RFC:",
    ] + [f"//   {c}" for c in cites] + [
        "// Generated by checks/scripts/generate.py from its table; edit the table, not this file.",
        HEADER.rstrip("\n"),
        setup.rstrip("\n"),
        f"// The segment under test.",
        f"+0.01 < {seg_line(typ, seq, ack)}",
        expect,
        probe(st, r, snd_nxt).rstrip("\n"),
    ]
    return "\n".join(body) + "\n", summary


# Unacceptable acknowledgment numbers, for the segments whose ACK field is
# reached (§3.10.7.4 fifth: not RST, not SYN), sent at SEG.SEQ = RCV.NXT.
BAD_ACKS = {
    # SEG.ACK > SND.NXT: acknowledges something not yet sent.
    "ack-beyond": lambda una, nxt: (nxt + 1000) % 2**32,
    # SEG.ACK < SND.UNA - MAX.SND.WND (the script's window is 8000).
    "ack-ancient": lambda una, nxt: (una - 20000) % 2**32,
}
BAD_ACK_TYPES = ["ack", "fin-ack", "data"]


def sync_bad_ack_cell(state, typ, col):
    setup, rcv_nxt, snd_una, snd_nxt, how = SYNC_STATES[state]
    seq = rcv_nxt
    ack = BAD_ACKS[col](snd_una, snd_nxt)
    if state.startswith("syn-received"):
        expect = f"+0 > R {ack}:{ack}(0)"
        cite = ("§3.10.7.4 fifth, SYN-RECEIVED: an unacceptable ACK (not SND.UNA < SEG.ACK =< SND.NXT) "
                "gets <SEQ=SEG.ACK><CTL=RST>; the connection stays as it is (§3.5.2 group 2)")
        summary = "RST(seq=SEG.ACK)"
    else:
        expect = f"+0 > . {snd_nxt}:{snd_nxt}(0) ack {rcv_nxt}"
        cite = ("§3.10.7.4 fifth with RFC 5961 §5.2 (MAY-12, which the engine follows): SEG.ACK outside "
                "SND.UNA-MAX.SND.WND =< SEG.ACK =< SND.NXT: discard the segment (its data and FIN too) "
                "and send an ACK"
                + ("; without RFC 5961 the same holds for SEG.ACK > SND.NXT" if col == "ack-beyond" else ""))
        summary = f"ACK({rcv_nxt})"
    body = [
        f"// Matrix cell: {state.upper()} x {typ.upper()} at SEG.SEQ = RCV.NXT with an unacceptable "
        f"acknowledgment ({col}: SEG.ACK = {ack}, engine numbers).",
        f"// State reached by: {how}. RCV.NXT={rcv_nxt} (script numbers), "
        f"SND.UNA={snd_una}, SND.NXT={snd_nxt} (engine numbers, relative to its ISN).",
        f"// Expected, per RFC: {cite}.",
        "// Generated by checks/scripts/generate.py from its table; edit the table, not this file.",
        HEADER.rstrip("\n"),
        setup.rstrip("\n"),
        "// The segment under test.",
        f"+0.01 < {seg_line(typ, seq, ack)}",
        expect,
        probe(state, rcv_nxt, snd_nxt).rstrip("\n"),
    ]
    return "\n".join(body) + "\n", summary


# ---------------------------------------------------------------------------
# CLOSED, LISTEN and SYN-SENT: no receive window yet, so the position
# dimension does not apply; SYN-SENT instead varies the acknowledgment
# number (acceptable: SND.UNA < SEG.ACK =< SND.NXT, or not).
# ---------------------------------------------------------------------------

BAD_ACK = 5000  # neither =< ISS nor... > SND.NXT = ISS+1: unacceptable (§3.10.7.3)


def closed_cell(typ):
    # No socket at all: the segment finds no TCB (§3.10.7.1).
    seq = 1000
    if typ in RST_TYPES:
        exp, cite, summary = "// (nothing is sent)", "§3.10.7.1: an incoming RST is discarded", "-"
    elif "." in FLAGS[typ]:
        exp = f"+0 > R {BAD_ACK}:{BAD_ACK}(0)"
        cite = "§3.10.7.1: with ACK, the reply is <SEQ=SEG.ACK><CTL=RST>"
        summary = "RST(seq=SEG.ACK)"
    else:
        exp = f"+0 > R. 0:0(0) ack {seq + 1}"
        cite = "§3.10.7.1: without ACK, the reply is <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK> (SYN and FIN count 1)"
        summary = "RST,ACK(ack=SEG.SEQ+SEG.LEN)"
    body = [
        f"// Matrix cell: CLOSED x {typ.upper()}: nothing listens and no connection exists.",
        f"// Expected, per RFC: {cite}.",
        "// Engine numbers are absolute here: the engine has sent no SYN to learn its ISN from.",
        "// Generated by checks/scripts/generate.py from its table; edit the table, not this file.",
        HEADER.rstrip("\n"),
        "// The segment under test.",
        f"0 < {seg_line(typ, seq, BAD_ACK)}",
        exp,
    ]
    return "\n".join(body) + "\n", summary


def listen_cell(typ):
    seq = 1000
    follow = ""
    if typ in RST_TYPES:
        exp, cite, summary = "// (nothing is sent)", "§3.10.7.2 first: a RST is ignored in LISTEN", "-"
    elif "." in FLAGS[typ]:
        exp = f"+0 > R {BAD_ACK}:{BAD_ACK}(0)"
        cite = "§3.10.7.2 second: any ACK in LISTEN is bad: <SEQ=SEG.ACK><CTL=RST>"
        summary = "RST(seq=SEG.ACK)"
    elif typ == "syn":
        exp = f"+0 > S. 0:0(0) ack {seq + 1} win 10000 <mss 1000>"
        cite = "§3.10.7.2 third: SYN: RCV.NXT = SEG.SEQ+1, <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>, SYN-RECEIVED"
        summary = "SYN,ACK → SYN-RECEIVED"
    else:
        exp = "// (nothing is sent)"
        cite = "§3.10.7.2 fourth: neither RST, ACK nor SYN: dropped"
        summary = "-"
    if typ != "syn":
        follow = (
            "// The listener is still there: a new SYN gets a SYN,ACK (§3.10.7.2 third).\n"
            "+0.01 < S 2000:2000(0) win 8000 <mss 1000>\n"
            "+0 > S. 0:0(0) ack 2001 win 10000 <mss 1000>\n"
        )
    body = [
        f"// Matrix cell: LISTEN x {typ.upper()}.",
        f"// Expected, per RFC: {cite}.",
        "// Engine numbers are absolute until its first SYN,ACK (no ISN known yet).",
        "// Generated by checks/scripts/generate.py from its table; edit the table, not this file.",
        HEADER.rstrip("\n"),
        PASSIVE.rstrip("\n"),
        "// The segment under test.",
        f"+0.01 < {seg_line(typ, seq, BAD_ACK)}",
        exp,
        follow.rstrip("\n"),
    ]
    return "\n".join(b for b in body if b) + "\n", summary


SYN_SENT_SETUP = """\
0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0
+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)
+0 > S 0:0(0) win 10000 <mss 1000>
"""


def syn_sent_cell(typ, ack_ok):
    """§3.10.7.3. ISS is the engine's 0; SND.UNA = 0, SND.NXT = 1."""
    has_ack = "." in FLAGS[typ]
    ack = 1 if ack_ok else BAD_ACK
    seq = 0 if typ in RST_TYPES else 1000
    after = "connect(3, ..., ...) = -1 EALREADY"  # still SYN-SENT
    if has_ack and not ack_ok:
        if typ in RST_TYPES:
            exp, cite = "// (nothing is sent)", "§3.10.7.3 first: unacceptable ACK with RST: drop"
            summary = "-"
        else:
            exp = f"+0 > R {BAD_ACK}:{BAD_ACK}(0)"
            cite = "§3.10.7.3 first: SEG.ACK > SND.NXT: <SEQ=SEG.ACK><CTL=RST>, drop"
            summary = "RST(seq=SEG.ACK)"
    elif typ == "rst":
        exp, cite, summary = "// (nothing is sent)", "§3.10.7.3 second: RST without ACK: drop", "-"
    elif typ == "rst-ack":
        exp = "// (nothing is sent)"
        cite = "§3.10.7.3 second: RST with an acceptable ACK: connection refused, CLOSED"
        summary = "- → CLOSED"
        after = "connect(3, ..., ...) = -1 ECONNREFUSED (Connection refused)"
    elif typ == "syn":
        exp = "+0 > S. 0:0(0) ack 1001 <...>"
        cite = "§3.10.7.3 fourth: SYN without ACK (simultaneous open): <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>, SYN-RECEIVED"
        summary = "SYN,ACK → SYN-RECEIVED"
    elif typ == "syn-ack":
        exp = "+0 > . 1:1(0) ack 1001"
        cite = "§3.10.7.3 fourth: SYN with acceptable ACK: ESTABLISHED, <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>"
        summary = "ACK → ESTABLISHED"
        after = "connect(3, ..., ...) = 0"
    else:
        exp = "// (nothing is sent)"
        cite = "§3.10.7.3 fifth: neither SYN nor RST: drop"
        summary = "-"
    label = ("ack-ok" if ack_ok else "ack-bad") if has_ack else "no-ack"
    body = [
        f"// Matrix cell: SYN-SENT x {typ.upper()} ({label}: SEG.ACK={ack if has_ack else 'none'};"
        f" acceptable is SND.UNA < SEG.ACK =< SND.NXT, i.e. 1).",
        "// State reached by: active OPEN, SYN sent (§3.10.1). ISS = 0 (engine numbers), SND.NXT = 1.",
        f"// Expected, per RFC: {cite}.",
        "// Generated by checks/scripts/generate.py from its table; edit the table, not this file.",
        HEADER.rstrip("\n"),
        SYN_SENT_SETUP.rstrip("\n"),
        "// The segment under test.",
        f"+0.01 < {seg_line(typ, seq, ack)}",
        exp,
        "// What the socket says afterwards.",
        f"+0.01 {after}",
    ]
    return "\n".join(body) + "\n", label, summary


# ---------------------------------------------------------------------------

def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def main():
    matrix = os.path.join(HERE, "matrix")
    if os.path.isdir(matrix):
        shutil.rmtree(matrix)
    readme_rows = {}

    for typ in TYPES:
        text, summary = closed_cell(typ)
        write(os.path.join(matrix, "closed", f"{typ}.pkt"), text)
        readme_rows.setdefault("closed", {})[typ] = {"n/a": summary}
        text, summary = listen_cell(typ)
        write(os.path.join(matrix, "listen", f"{typ}.pkt"), text)
        readme_rows.setdefault("listen", {})[typ] = {"n/a": summary}
        for ack_ok in ([True, False] if "." in FLAGS[typ] else [True]):
            text, label, summary = syn_sent_cell(typ, ack_ok)
            write(os.path.join(matrix, "syn-sent", f"{typ}-{label}.pkt"), text)
            readme_rows.setdefault("syn-sent", {}).setdefault(typ, {})[label] = summary
    for state in SYNC_STATES:
        for typ in TYPES:
            for pos in POSITIONS:
                text, summary = sync_cell(state, typ, pos)
                write(os.path.join(matrix, state, f"{typ}-{pos}.pkt"), text)
                readme_rows.setdefault(state, {}).setdefault(typ, {})[pos] = summary
            if typ in BAD_ACK_TYPES:
                for col in BAD_ACKS:
                    text, summary = sync_bad_ack_cell(state, typ, col)
                    write(os.path.join(matrix, state, f"{typ}-{col}.pkt"), text)
                    readme_rows[state][typ][col] = summary

    write_readme(readme_rows)
    write_test_list()


def write_readme(rows):
    order = ["closed", "listen", "syn-sent"] + list(SYNC_STATES)
    out = [README_HEAD]
    total = 0
    for state in order:
        cols = []
        for typ in TYPES:
            for c in rows[state][typ]:
                if c not in cols:
                    cols.append(c)
        out.append(f"\n### {state.upper()}\n")
        out.append("| segment | " + " | ".join(cols) + " |")
        out.append("|---|" + "---|" * len(cols))
        for typ in TYPES:
            cells = []
            for c in cols:
                v = rows[state][typ].get(c)
                if v is None:
                    cells.append("n/a")
                else:
                    total += 1
                    name = f"{typ}-{c}" if c != "n/a" else typ
                    cells.append(f"[{v}](matrix/{state}/{name}.pkt)")
            out.append(f"| {typ.upper()} | " + " | ".join(cells) + " |")
    out.append(f"\n{total} matrix scripts in all.\n")
    out.append(README_TAIL)
    for folder in sorted(os.listdir(HERE)):
        path = os.path.join(HERE, folder)
        if folder == "matrix" or not os.path.isdir(path):
            continue
        out.append(f"\n### {folder}/\n")
        for f in sorted(os.listdir(path)):
            if not f.endswith(".pkt"):
                continue
            with open(os.path.join(path, f)) as fh:
                first = fh.readline().strip().lstrip("/").strip()
            out.append(f"- [{f}]({folder}/{f}): {first}")
    out.append("")
    write(os.path.join(HERE, "README.md"), "\n".join(out))


def write_test_list():
    paths = []
    for root, _dirs, files in os.walk(HERE):
        for f in files:
            if f.endswith(".pkt"):
                paths.append(os.path.relpath(os.path.join(root, f), HERE))
    paths.sort()
    lines = ["// Generated by checks/scripts/generate.py: one test per script under checks/scripts/."]
    seen = set()
    for p in paths:
        name = re.sub(r"[^a-z0-9]+", "_", p[:-4].lower()).strip("_")
        if name in seen or name[0].isdigit():
            raise SystemExit(f"script name clash or bad name: {p}")
        seen.add(name)
        lines.append(f'script_test!({name}, "{p}");')
    write(os.path.join(HERE, "tests.list"), "\n".join(lines) + "\n")


README_HEAD = """\
# synack's scenario scripts

Scripts in packetdrill's syntax, run against the engine on virtual time by
`synack script checks/scripts` and by `cargo test -p synack-checks --test scripts`
(one test per script, named after its path).

- `matrix/`: the state x arriving-segment matrix, **generated** by
  `generate.py` from its rule table (the table is the specification; each
  script's comment cites the RFC rule it checks). Do not edit by hand:
  change the table and run `python3 checks/scripts/generate.py`.
- `rfc9293/`: the worked examples of RFC 9293 §3.5 and §3.6, with the engine
  as one of the peers.
- `timers/`: retransmission, keep-alive, TIME-WAIT expiry.
- `variants/`: behaviour that depends on an engine setting (RFC 1337 vs
  RFC 9293 for RST in TIME-WAIT, MAY-2 reopening).

## How the matrix scripts work

Each script drives the engine into a state (a passive open for all
synchronized states: the engine listens on fd 3, the connection is fd 4;
SYN-SENT and the active SYN-RECEIVED of a simultaneous open start from a
non-blocking `connect` on fd 3), injects one
segment, checks the reply (or that nothing is sent), and then sends an ACK far
outside the window: if the connection still exists it must answer with
`<SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>` (§3.10.7.4 first), which also shows
where RCV.NXT ended up; if it is gone, the listener or the closed port answers
`<SEQ=SEG.ACK><CTL=RST>` (§3.10.7.1/§3.10.7.2).

The script's ISN is 1000; the engine's numbers are relative to its ISN.
The engine is configured without window scaling, timestamps and SACK, with
immediate ACKs, a 10000-byte receive buffer (RCV.WND = 10000) and no MAY-2
reopening of TIME-WAIT. Segments carry ACK = SND.NXT when they carry ACK.

Positions of SEG.SEQ (synchronized states and SYN-RECEIVED): `left` =
RCV.NXT, `inside` = RCV.NXT+5000, `right` = RCV.NXT+RCV.WND-1 (the last octet
of the window), `outside` = RCV.NXT+RCV.WND (just past the right edge), `old`
= RCV.NXT-200. The right edge stays at 11001 (script numbers): RCV.WND is
10000 before the peer's FIN and 9999 after it, since the total of RCV.NXT and
RCV.WND should not be reduced (§3.10.7.4 seventh) and nothing is read. DATA
carries 100 octets with PSH,ACK.

Two more columns test the acknowledgment field instead, with SEG.SEQ =
RCV.NXT: `ack-beyond` (SEG.ACK = SND.NXT+1000) and `ack-ancient` (SEG.ACK =
SND.UNA-20000, below SND.UNA-MAX.SND.WND); they apply to the segments whose
ACK field is reached (ACK, FIN-ACK, DATA). In SYN-SENT the column is the
acknowledgment: `ack-ok` = ISS+1, `ack-bad` = beyond SND.NXT, `no-ack` for
segments without ACK. CLOSED (nothing listening) and LISTEN have no window:
one script per type.

A cell reads: the reply (`ACK(n)` acknowledges n, script numbers; `-` is no
reply; `ACK(n)?` is allowed but not required, written `>?` in the script, a
synack extension of packetdrill's syntax) and, after `→`, the state it leads
to when that changes.

## Readings

Where RFC 9293 leaves room, the table takes these readings (each is cited in
the scripts it affects):

- Out-of-order segments in states that receive data get an immediate
  duplicate ACK: RFC 9293 allows it (MAY-13) and RFC 5681 §4.2 says SHOULD.
- RST in TIME-WAIT is ignored (RFC 1337), which the engine follows by default
  instead of §3.10.7.4's close.
- A FIN at RCV.NXT after the peer's FIN (CLOSE-WAIT, CLOSING, TIME-WAIT) is
  processed as step eight says: RCV.NXT advances over it and it is
  acknowledged.
- In TIME-WAIT, §3.10.7.4 fifth expects only a retransmitted FIN and says to
  acknowledge it; for other acceptable segments with ACK an acknowledgment is
  allowed, not required (`>?`). A segment without ACK is still dropped
  (§3.10.7.4 fifth).
- After the peer's FIN, text at RCV.NXT is ignored without reply (§3.10.7.4
  seventh); for a segment in the window but not at its left edge an ACK is
  allowed (MAY-13), not required (`>?`).

## The matrix
"""

README_TAIL = """\
## Other scripts

Hand-written; the comment at the top of each names the RFC rules it checks
(first line shown here).
"""

if __name__ == "__main__":
    main()
