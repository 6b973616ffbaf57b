#!/usr/bin/python3
"""Independent implementation of docs/seed-derivation.md with Debian's
python3-cryptography: prints the uncompressed P-256 public point (hex) that a
seed (and optionally a firmware image's SHA-256) derives.

usage: derive_seed_key.py SEED_HEX [FIRMWARE_SHA256_HEX]
"""
import hashlib
import hmac
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def derive(seed: bytes) -> ec.EllipticCurvePrivateKey:
    for counter in range(256):
        candidate = HKDF(algorithm=hashes.SHA256(), length=32,
                         salt=b"vouchsafe-idevid-seed-v1",
                         info=b"vouchsafe P-256 private key" + bytes([counter])).derive(seed)
        d = int.from_bytes(candidate, "big")
        if 1 <= d < P256_ORDER:
            return ec.derive_private_key(d, ec.SECP256R1())
    raise ValueError("no scalar")


def main() -> int:
    seed = bytes.fromhex(sys.argv[1])
    if len(sys.argv) > 2:
        firmware_hash = bytes.fromhex(sys.argv[2])
        seed = hmac.new(seed, b"vouchsafe-dice-cdi-v1" + firmware_hash, hashlib.sha256).digest()
    key = derive(seed)
    point = key.public_key().public_bytes(serialization.Encoding.X962,
                                          serialization.PublicFormat.UncompressedPoint)
    print(point.hex())
    return 0


if __name__ == "__main__":
    sys.exit(main())
