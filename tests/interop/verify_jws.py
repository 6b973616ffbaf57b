#!/usr/bin/python3
"""An independent JWS voucher verifier, for interop tests of Vouchsafe's output.

Usage: verify_jws.py FILE.json CERT_OR_PUBKEY.pem

Reads a JWS in the General or Flattened JSON Serialization (RFC 7515 §7.2),
checks every signature with the given key (a PEM certificate or
SubjectPublicKeyInfo), checks that x5c[0], when present, carries that same
public key, and prints the payload. Exit codes: 0 verified, 1 rejected
(including usage errors).

Uses only the Python standard library and python3-cryptography (Debian's,
hence /usr/bin/python3) so that it shares no code with the C++ verifier.
"""

import base64
import binascii
import json
import sys

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

# RFC 7518 §3.4: curve, hash and size of r (and of s) for each ECDSA alg.
ECDSA_ALGS = {
    "ES256": (ec.SECP256R1, hashes.SHA256, 32),
    "ES384": (ec.SECP384R1, hashes.SHA384, 48),
    "ES512": (ec.SECP521R1, hashes.SHA512, 66),
}


class Rejected(Exception):
    pass


def b64url_decode(text, what):
    """RFC 7515 §2: base64url without padding."""
    if not isinstance(text, str):
        raise Rejected(f"{what} is not a string")
    if "=" in text:
        raise Rejected(f"{what} carries base64 padding")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as e:
        raise Rejected(f"{what} is not base64url: {e}") from e


def load_key(path):
    with open(path, "rb") as f:
        data = f.read()
    if b"BEGIN CERTIFICATE" in data:
        return x509.load_pem_x509_certificate(data).public_key()
    return serialization.load_pem_public_key(data)


def spki(key):
    return key.public_bytes(serialization.Encoding.DER,
                            serialization.PublicFormat.SubjectPublicKeyInfo)


def no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise Rejected("duplicate JSON member")
    return dict(pairs)


def verify_signature(entry, payload_b64, key):
    protected_b64 = entry.get("protected")
    header = json.loads(b64url_decode(protected_b64, "protected"),
                        object_pairs_hook=no_duplicates)
    if not isinstance(header, dict):
        raise Rejected("the protected header is not an object")
    if "crit" in header:
        raise Rejected("crit header present; no extension is understood")
    alg = header.get("alg")
    signature = b64url_decode(entry.get("signature"), "signature")
    signing_input = (protected_b64 + "." + payload_b64).encode("ascii")

    if alg in ECDSA_ALGS:
        curve, digest, size = ECDSA_ALGS[alg]
        if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, curve):
            raise Rejected(f"alg {alg} does not match the key")
        if len(signature) != 2 * size:
            raise Rejected(f"{alg} signature must be {2 * size} bytes, got {len(signature)}")
        r = int.from_bytes(signature[:size], "big")
        s = int.from_bytes(signature[size:], "big")
        key.verify(encode_dss_signature(r, s), signing_input, ec.ECDSA(digest()))
    elif alg == "EdDSA":
        if not isinstance(key, ed25519.Ed25519PublicKey):
            raise Rejected("alg EdDSA does not match the key")
        key.verify(signature, signing_input)
    else:
        raise Rejected(f"unsupported alg {alg!r}")

    x5c = header.get("x5c")
    if x5c is not None:
        if not isinstance(x5c, list) or not x5c or not isinstance(x5c[0], str):
            raise Rejected("x5c is not a non-empty array of strings")
        # RFC 7515 §4.1.6: standard base64 DER, signer first.
        try:
            der = base64.b64decode(x5c[0], validate=True)
        except (binascii.Error, ValueError) as e:
            raise Rejected(f"x5c[0] is not base64: {e}") from e
        cert = x509.load_der_x509_certificate(der)
        if spki(cert.public_key()) != spki(key):
            raise Rejected("x5c[0] does not hold the verifying key")
    return alg


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 1
    try:
        with open(argv[1], "rb") as f:
            doc = json.loads(f.read(), object_pairs_hook=no_duplicates)
        key = load_key(argv[2])
        if not isinstance(doc, dict):
            raise Rejected("not a JSON object")
        payload_b64 = doc.get("payload")
        payload = b64url_decode(payload_b64, "payload")
        if "signatures" in doc:
            entries = doc["signatures"]
            if not isinstance(entries, list) or not entries:
                raise Rejected("signatures is not a non-empty array")
        elif "signature" in doc:
            entries = [doc]
        else:
            raise Rejected("neither General nor Flattened JWS JSON Serialization")
        # With several signatures, the given key must verify one of them.
        errors = []
        for entry in entries:
            if not isinstance(entry, dict):
                raise Rejected("a signature entry is not an object")
            try:
                alg = verify_signature(entry, payload_b64, key)
                break
            except (Rejected, InvalidSignature) as e:
                errors.append(str(e) or "signature does not verify")
        else:
            raise Rejected("; ".join(errors))
        print(json.dumps(json.loads(payload), indent=2))
        print(f"verified: {alg}", file=sys.stderr)
        return 0
    except (Rejected, InvalidSignature, ValueError, OSError) as e:
        print(f"rejected: {e or 'signature does not verify'}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
