#!/usr/bin/python3
"""Opens a Vouchsafe ECIES value with Python's cryptography, not our code.

Usage: ecies_open.py PRIVATE_KEY.pem SEALED_HEX AAD_HEX INFO
Sealed form (src/crypto/ecies.h): E (65) || nonce (12) || ciphertext || tag
(16); key = HKDF-SHA-256(ECDH x-coordinate, salt = E || R, info = INFO),
AES-256-GCM with AAD. Prints the plaintext as hex; exit 1 if it does not
open.
"""

import sys

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def main():
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    key = serialization.load_pem_private_key(open(sys.argv[1], "rb").read(), password=None)
    sealed, aad, info = bytes.fromhex(sys.argv[2]), bytes.fromhex(sys.argv[3]), sys.argv[4]
    e_point, nonce, body = sealed[:65], sealed[65:77], sealed[77:]
    ephemeral = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), e_point)
    shared = key.exchange(ec.ECDH(), ephemeral)
    recipient = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    aes_key = HKDF(algorithm=hashes.SHA256(), length=32, salt=e_point + recipient,
                   info=info.encode()).derive(shared)
    try:
        print(AESGCM(aes_key).decrypt(nonce, body, aad).hex())
    except InvalidTag:
        print("does not open", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
