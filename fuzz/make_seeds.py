#!/usr/bin/env python3
"""Writes the seeds of the t0, t1, iso_dep, contact and pn532_frame targets
into seeds/<target>/ (file name: first 16 hex digits of the SHA-1 of the
content). The input layouts are documented in emv_hal::fuzzing (t0, t1,
iso_dep), emv_kernel::fuzzing::contact and common/pn532_frame.rs.

    python3 make_seeds.py
"""
import hashlib
import os

HERE = os.path.dirname(os.path.abspath(__file__))
TIMEOUT, LINE_ERROR = b"\xfe", b"\xff"


def item(bs):
    bs = bytes(bs)
    assert len(bs) < 0xFE
    return bytes([len(bs)]) + bs


def items(*parts):
    out = b""
    for p in parts:
        out += p if p in (TIMEOUT, LINE_ERROR) else item(p)
    return out


def write(target, seeds):
    d = os.path.join(HERE, "seeds", target)
    os.makedirs(d, exist_ok=True)
    for s in seeds:
        name = hashlib.sha1(s).hexdigest()[:16]
        with open(os.path.join(d, name), "wb") as f:
            f.write(s)


# ---- T=0: [flags, max_tpdus, max_idle, cap, case, p3, ins] + items ----
DATA16 = bytes(range(0x10, 0x20))
t0 = [
    # case 2 READ RECORD, Le 16: ACK, data, 90 00
    bytes([0x05, 64, 16, 0, 1, 0x10, 0xB2]) + items([0xB2], DATA16, [0x90, 0x00]),
    # case 4 SELECT, Lc 7: ACK, 61 1C, GET RESPONSE: ACK, 28 bytes, 90 00
    bytes([0x05, 64, 16, 0, 3, 0x07, 0xA4])
    + items([0xA4], [0x61, 0x1C], [0xC0], bytes(range(28)), [0x90, 0x00]),
    # case 2, Le 00: 6C 10, then ACK, 16 bytes, 90 00 (Book 1 §9.3.1)
    bytes([0x05, 64, 16, 0, 1, 0x00, 0xB2]) + items([0x6C, 0x10], [0xB2], DATA16, [0x90, 0x00]),
    # case 3 with NULL bytes and INS xor FF (one byte at a time), chunk size 1
    bytes([0x05, 64, 16, 0, 2, 0x03, 0xDA])
    + items([0x60], [0x60], [0x25], [0x25], [0xDA], [0x90, 0x00]),
    # Annex A7: case 4 answered 62 83; GET RESPONSE with Le 00 answered 6C 04, then the
    # data; the R-APDU carries the warning (transmit chunks of 4)
    bytes([0x35, 64, 16, 0, 3, 0x02, 0xA4])
    + items([0xA4], [0x62, 0x83], [0x6C, 0x04], [0xC0], [1, 2, 3, 4], [0x90, 0x00]),
    # mute card: timeout
    bytes([0x05, 64, 16, 0, 0, 0x00, 0x20]) + TIMEOUT,
    # invalid procedure byte
    bytes([0x05, 64, 16, 0, 1, 0x04, 0xCA]) + items([0x12]),
    # bytes after SW2 in the same chunk
    bytes([0x05, 64, 16, 0, 0, 0x00, 0x84]) + items([0x90, 0x00, 0x00]),
    # 6C with the P3 already sent
    bytes([0x05, 64, 16, 0, 1, 0x08, 0xB2]) + items([0x6C, 0x08]),
    # response longer than a small buffer (cap 6), byte-by-byte chunks
    bytes([0x71, 64, 16, 6, 1, 0x08, 0xB2]) + items(*[[b] for b in [0xB2] + list(range(8)) + [0x90, 0x00]]),
    # 61xx forever against max_tpdus 3
    bytes([0x05, 3, 16, 0, 1, 0x00, 0xC0]) + items([0x61, 0x10], [0x61, 0x10], [0x61, 0x10], [0x61, 0x10]),
    # NULL bytes beyond the idle limit 2
    bytes([0x05, 64, 2, 0, 0, 0x00, 0x70]) + items([0x60, 0x60, 0x60]),
]
write("t0", t0)


# ---- T=1: [ifsc, flags, retries, ifsd, cmd_len - 1] + items ----
def lrc(bs):
    x = 0
    for b in bs:
        x ^= b
    return x


def crc16(bs):  # the T=1 CRC of hal/src/t1/block.rs: reflected 0x8408, init FFFF, no final XOR
    crc = 0xFFFF
    for b in bs:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
    return crc


def blk(pcb, inf=b"", nad=0, crc=False):
    body = bytes([nad, pcb, len(inf)]) + bytes(inf)
    return body + (crc16(body).to_bytes(2, "big") if crc else bytes([lrc(body)]))


RESP = bytes(range(0x20, 0x40)) + b"\x90\x00"
t1 = [
    # IFSD negotiation, then one I-block each way
    bytes([0x20, 0x10, 2, 0, 4]) + items(blk(0xE1, [0xFE]), blk(0x00, RESP)),
    # chaining both ways, IFSC 16, 60-byte command
    bytes([0x10, 0x00, 2, 0, 59])
    + items(blk(0x90), blk(0x80), blk(0x90), blk(0x20, RESP[:20]), blk(0x40, RESP[20:])),
    # S(WTX request) then the response
    bytes([0x20, 0x00, 2, 0, 4]) + items(blk(0xC3, [0x02]), blk(0x00, b"\x90\x00")),
    # a block with a bad LRC, then the good one again
    bytes([0x20, 0x00, 2, 0, 4]) + items(blk(0x00, b"\x90\x00")[:-1] + b"\x00", blk(0x00, b"\x90\x00")),
    # timeout, parity error, then the block
    bytes([0x20, 0x00, 2, 0, 4]) + TIMEOUT + LINE_ERROR + items(blk(0x00, b"\x6a\x82"), blk(0x00, b"\x6a\x82")),
    # S(ABORT request) from the card
    bytes([0x20, 0x00, 2, 0, 4]) + items(blk(0xC2)),
    # S(IFS request) from the card, then the response
    bytes([0x20, 0x00, 2, 0, 4]) + items(blk(0xC1, [0x20]), blk(0x00, b"\x90\x00")),
    # CRC, IFSD negotiation, two exchanges (N(S) toggles)
    bytes([0x40, 0x31, 2, 0, 10])
    + items(blk(0xE1, [0xFE], crc=True), blk(0x00, RESP, crc=True), blk(0x40, b"\x90\x00", crc=True)),
    # one block delivered byte by byte (after the IFSD negotiation: 34 > 32 bytes of INF)
    bytes([0x20, 0x10, 2, 0, 4]) + items(blk(0xE1, [0xFE]), *[[b] for b in blk(0x00, RESP)]),
    # an INF longer than the IFSD 32 in force before any negotiation: invalid block
    bytes([0x20, 0x00, 2, 0, 4]) + items(blk(0x00, RESP), blk(0x00, RESP), blk(0x00, RESP)),
    # mute card with RESYNCH enabled
    bytes([0x20, 0x02, 2, 0, 4]),
    # mute card, deactivate on BWT timeout
    bytes([0x20, 0x04, 2, 0, 4]),
    # the card asks for a retransmission (R-block N(R) = 0)
    bytes([0x20, 0x00, 2, 0, 4]) + items(blk(0x80), blk(0x00, b"\x90\x00")),
]
write("t1", t1)

# ---- ISO-DEP: [fsc - 16, fsd - 16, fwi, flags, retries, cmd_len - 1] + items ----
iso = [
    bytes([240, 240, 4, 0, 2, 4]) + items(b"\x02" + RESP),
    # PCD chaining, FSC 16, 30-byte command
    bytes([0, 240, 4, 0, 2, 29]) + items([0xA2], [0xA3], b"\x02\x90\x00"),
    # PICC chaining
    bytes([240, 240, 4, 0, 2, 7]) + items([0x12, 1, 2, 3], [0x13, 4, 5], [0x02, 0x90, 0x00]),
    # S(WTX) then the answer
    bytes([240, 240, 4, 0, 2, 4]) + items([0xF2, 0x83], [0x02, 0x90, 0x00]),
    # time-out, transmission error, then the answer (R(NAK) twice)
    bytes([240, 240, 4, 0, 2, 4]) + TIMEOUT + LINE_ERROR + items([0x02, 0x90, 0x00]),
    # invalid WTXM
    bytes([240, 240, 4, 0, 2, 4]) + items([0xF2, 0x00]),
    # CID 1 in use
    bytes([240, 240, 4, 0x11, 2, 4]) + items([0x0A, 0x01, 0x90, 0x00]),
    # answer, then S(DESELECT)
    bytes([240, 240, 4, 0x08, 2, 4]) + items([0x02, 0x90, 0x00], [0xC2]),
    # mute card
    bytes([240, 240, 14, 0, 2, 4]),
    # R(ACK) with the other block number: retransmission
    bytes([0, 240, 4, 0, 2, 29]) + items([0xA3], [0xA2], [0xA3], [0x02, 0x90, 0x00]),
    # frame longer than FSD (16)
    bytes([240, 0, 4, 0, 2, 4]) + items(b"\x02" + RESP),
]
write("iso_dep", iso)

# ---- contact: [flags, tac_online byte 1] + R-APDUs (length, bytes) ----
FCI = bytes([0x6F, 0x09, 0x84, 0x07, 0xA0, 0, 0, 0, 3, 0x10, 0x10, 0x90, 0x00])
GPO = bytes([0x80, 0x06, 0x7C, 0x00, 0x08, 0x01, 0x01, 0x01, 0x90, 0x00])
REC = bytes([0x70, 0x1C, 0x5A, 0x02, 0x47, 0x61, 0x5F, 0x24, 0x03, 0x30, 0x12, 0x31, 0x8C, 0x03,
             0x9F, 0x37, 0x04, 0x8D, 0x02, 0x8A, 0x02, 0x8E, 0x0A, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
             0x00, 0x90, 0x00])


def genac(cid):
    return bytes([0x80, 0x0B, cid, 0x00, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 0x90, 0x00])


def contact_items(*responses):
    """R-APDUs for the contact target: 1-byte length below FF, else FF + 2 bytes."""
    out = b""
    for r in responses:
        r = bytes(r)
        out += (bytes([len(r)]) if len(r) < 0xFF else b"\xff" + len(r).to_bytes(2, "big")) + r
    return out


NOT_FOUND = b"\x6a\x82"
REF_NOT_FOUND = b"\x6a\x88"
LIST = [NOT_FOUND, FCI, NOT_FOUND, NOT_FOUND]  # PSE, then the three terminal AIDs
contact = [
    bytes([0, 0]) + contact_items(*LIST, FCI, GPO, REC, REF_NOT_FOUND, REF_NOT_FOUND, genac(0x40), genac(0x40)),
    bytes([1, 0xFF]) + contact_items(*LIST, FCI, GPO, REC, REF_NOT_FOUND, REF_NOT_FOUND, genac(0x80), genac(0x40), genac(0x40)),
    bytes([0, 0xFF]) + contact_items(*LIST, FCI, GPO, REC, REF_NOT_FOUND, REF_NOT_FOUND, genac(0x80), genac(0x40), genac(0x40)),
    bytes([0, 0]) + contact_items(*LIST, FCI, GPO, REC, REF_NOT_FOUND, REF_NOT_FOUND, genac(0x00)),
    bytes([2, 0]) + contact_items(*LIST, FCI, GPO, REC, b"\x63\xc2", b"\x90\x00", genac(0x40), genac(0x40)),
    bytes([0, 0]) + contact_items(b"\x6a\x81"),
    bytes([0, 0]) + contact_items(*LIST, b"\x69\x85"),
    bytes([0, 0]),
]


def trace_responses(name):
    """The R-APDUs (every second line) of a public trace in vectors/traces/binaryfoo."""
    path = os.path.join(HERE, "..", "vectors", "traces", "binaryfoo", name)
    out = []
    for line in open(path):
        b = bytes.fromhex(line.strip())
        # These traces have no case 1 commands; a 4-byte line is a response.
        is_command = len(b) >= 5 and b[0] in (0x00, 0x80, 0x84) and (
            len(b) == 5 or len(b) in (5 + b[4], 6 + b[4]))
        if b and not is_command:
            out.append(b)
    return out


# Without a PSE the kernel SELECTs the terminal AIDs in order (Visa, Mastercard, UnionPay),
# then the chosen one again (final selection): the trace's FCI where its AID is asked for,
# "not found" elsewhere, then the whole trace. The UnionPay card has a PSE.
for trace, slot in [("contact-visa-in.txt", 0), ("contact-mastercard-in.txt", 1),
                    ("contact-upi-in.txt", None)]:
    whole = trace_responses(trace)
    # Some traces hold a failed attempt and a second one from the same FCI: seed both.
    last = max(i for i, r in enumerate(whole) if r == whole[0])
    for responses in {tuple(whole), tuple(whole[last:])}:
        responses = list(responses)
        if slot is not None:
            listing = [NOT_FOUND] * 3
            listing[slot] = responses[0]
            responses = [NOT_FOUND] + listing + responses
        for flags in (0, 1, 2):
            contact.append(bytes([flags, 0]) + contact_items(*responses))
write("contact", contact)


# ---- PN532 frames ----
def pn532(tfi, pd, extended=None):
    ln = len(pd) + 1
    if extended is None:
        extended = len(pd) > 254
    if extended:
        m, l = ln >> 8, ln & 0xFF
        head = bytes([0, 0, 0xFF, 0xFF, 0xFF, m, l, (-(m + l)) & 0xFF])
    else:
        head = bytes([0, 0, 0xFF, ln, (-ln) & 0xFF])
    dcs = (-(tfi + sum(pd))) & 0xFF
    return head + bytes([tfi]) + bytes(pd) + bytes([dcs, 0])


frames = [
    bytes([0, 0, 0xFF, 0, 0xFF, 0]),  # ACK
    bytes([0, 0, 0xFF, 0xFF, 0, 0]),  # NACK
    bytes([0, 0, 0xFF, 1, 0xFF, 0x7F, 0x81, 0]),  # syntax error
    pn532(0xD5, [0x03, 0x32, 0x01, 0x06, 0x07]),  # GetFirmwareVersion response
    pn532(0xD5, [0x4B, 0x01, 0x01, 0x00, 0x04, 0x08, 0x04, 0x01, 0x02, 0x03, 0x04]),
    pn532(0xD5, [0x41, 0x00] + list(range(250))),  # InDataExchange, 252-byte PD
    pn532(0xD5, [0x41, 0x00] + list(range(256)) + [0x90, 0x00]),  # extended frame
    pn532(0xD5, [0x41, 0x00, 0x90, 0x00], extended=True),  # extended form of a short PD
    b"\xff\xff\x55" + pn532(0xD4, [0x02]),  # garbage before the preamble
    pn532(0xD5, [0x03, 0x32])[:-2] + b"\x00\x00",  # bad DCS
    pn532(0xD5, [0x03, 0x32])[:6],  # truncated
    bytes([0, 0, 0xFF, 0x05, 0xFA]),  # header only
    # found by the fuzzer: the syntax-error frame in the extended form (the check assumed the
    # normal form)
    bytes.fromhex("00007908000000ffffff0001ff7f81"),
]
write("pn532_frame", frames)
