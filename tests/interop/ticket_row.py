#!/usr/bin/python3
"""Seals and opens a Vouchsafe session-ticket key row (format 1, under a
passphrase) with Python's cryptography, not our code.

Usage: ticket_row.py open PASSPHRASE SLOT ROW_HEX   prints the key as hex
       ticket_row.py seal PASSPHRASE SLOT KEY_HEX   prints the row as hex
Row (src/service/ticket_seal.cpp): 0x01, log2 N, r, p, salt (16), nonce
(12), tag (16), ciphertext; key = scrypt(passphrase, salt, N, r, p, 32),
AES-256-GCM with AAD "vouchsafe tls-ticket-key slot <SLOT>". Exit 1 if the
row does not open.
"""

import os
import sys

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt


def aad(slot):
    return f"vouchsafe tls-ticket-key slot {slot}".encode()


def open_row(passphrase, slot, row):
    if row[0] != 1:
        print("not format 1", file=sys.stderr)
        return 1
    log2_n, r, p = row[1], row[2], row[3]
    salt, nonce, tag, body = row[4:20], row[20:32], row[32:48], row[48:]
    key = Scrypt(salt=salt, length=32, n=1 << log2_n, r=r, p=p).derive(passphrase.encode())
    try:
        print(AESGCM(key).decrypt(nonce, body + tag, aad(slot)).hex())
    except InvalidTag:
        print("does not open", file=sys.stderr)
        return 1
    return 0


def seal_row(passphrase, slot, material):
    salt, nonce = os.urandom(16), os.urandom(12)
    key = Scrypt(salt=salt, length=32, n=1 << 15, r=8, p=1).derive(passphrase.encode())
    sealed = AESGCM(key).encrypt(nonce, material, aad(slot))
    body, tag = sealed[:-16], sealed[-16:]
    print((bytes([1, 15, 8, 1]) + salt + nonce + tag + body).hex())
    return 0


def main():
    if len(sys.argv) != 5 or sys.argv[1] not in ("open", "seal"):
        print(__doc__, file=sys.stderr)
        return 2
    passphrase, slot, data = sys.argv[2], int(sys.argv[3]), bytes.fromhex(sys.argv[4])
    return (open_row if sys.argv[1] == "open" else seal_row)(passphrase, slot, data)


if __name__ == "__main__":
    sys.exit(main())
