#!/usr/bin/python3
"""Checks a COSE_Sign1 (RFC 9052 §4.2) with code Vouchsafe did not write.

Usage: verify_cose.py FILE.cose PUBKEY_OR_CERT.pem

Decodes the message with cbor2, rebuilds
Sig_structure = ["Signature1", protected, h'', payload] (RFC 9052 §4.4) and
verifies ES256/ES384/ES512 (raw r||s, RFC 9053 §2.1) or EdDSA (RFC 9053 §2.2)
with python3-cryptography. Prints the decoded payload.

Exit codes: 0 the signature verifies, 1 it does not or the input is not a
COSE_Sign1, 2 usage error. Run it with Debian's /usr/bin/python3, which has
python3-cbor2 and python3-cryptography.
"""

import sys

import cbor2
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, utils

COSE_SIGN1_TAG = 18
ALG_LABEL = 1
# COSE algorithm id -> (hash, bytes of r and of s); None marks EdDSA.
ALGORITHMS = {
    -7: (hashes.SHA256, 32),
    -35: (hashes.SHA384, 48),
    -36: (hashes.SHA512, 66),
    -8: None,
}


class NotVerified(Exception):
    pass


def load_public_key(pem):
    """A public key from a PEM certificate or SubjectPublicKeyInfo."""
    if b"-----BEGIN CERTIFICATE-----" in pem:
        return x509.load_pem_x509_certificate(pem).public_key()
    return serialization.load_pem_public_key(pem)


def split_message(data):
    message = cbor2.loads(data)
    if isinstance(message, cbor2.CBORTag):
        if message.tag != COSE_SIGN1_TAG:
            raise NotVerified(f"tag {message.tag} is not COSE_Sign1 ({COSE_SIGN1_TAG})")
        message = message.value
    if not isinstance(message, list) or len(message) != 4:
        raise NotVerified("a COSE_Sign1 is an array of four items")
    protected, unprotected, payload, signature = message
    if not isinstance(protected, bytes) or not isinstance(unprotected, dict):
        raise NotVerified("bad header types")
    if not isinstance(payload, bytes) or not isinstance(signature, bytes):
        raise NotVerified("payload and signature must be byte strings")
    return protected, unprotected, payload, signature


def check_signature(key, alg, to_be_signed, signature):
    if alg not in ALGORITHMS:
        raise NotVerified(f"unsupported alg {alg!r}")
    params = ALGORITHMS[alg]
    if params is None:
        if not isinstance(key, ed25519.Ed25519PublicKey):
            raise NotVerified("EdDSA message but the key is not Ed25519")
        key.verify(signature, to_be_signed)
        return
    hash_type, size = params
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise NotVerified("ECDSA message but the key is not an EC key")
    if len(signature) != 2 * size:
        raise NotVerified(f"an ECDSA signature for alg {alg} is {2 * size} bytes")
    r = int.from_bytes(signature[:size], "big")
    s = int.from_bytes(signature[size:], "big")
    key.verify(utils.encode_dss_signature(r, s), to_be_signed, ec.ECDSA(hash_type()))


def show(value, indent=""):
    """The payload in a CBOR-diagnostic-like form, byte strings as hex."""
    if isinstance(value, dict):
        print(indent + "{")
        for k, v in value.items():
            if isinstance(v, (dict, list)):
                print(f"{indent}  {k!r}:")
                show(v, indent + "    ")
            else:
                print(f"{indent}  {k!r}: {render(v)}")
        print(indent + "}")
    elif isinstance(value, list):
        print(indent + "[")
        for v in value:
            show(v, indent + "  ")
        print(indent + "]")
    else:
        print(indent + render(value))


def render(value):
    if isinstance(value, bytes):
        return "h'" + value.hex().upper() + "'"
    return repr(value)


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    try:
        with open(argv[1], "rb") as f:
            data = f.read()
        with open(argv[2], "rb") as f:
            key = load_public_key(f.read())
    except (OSError, ValueError) as e:
        print(f"verify_cose: {e}", file=sys.stderr)
        return 2
    try:
        protected, _unprotected, payload, signature = split_message(data)
        headers = cbor2.loads(protected) if protected else {}
        if not isinstance(headers, dict) or ALG_LABEL not in headers:
            raise NotVerified("the protected header names no alg")
        to_be_signed = cbor2.dumps(["Signature1", protected, b"", payload])
        check_signature(key, headers[ALG_LABEL], to_be_signed, signature)
    except InvalidSignature:
        print("verify_cose: signature does NOT verify", file=sys.stderr)
        return 1
    except (NotVerified, cbor2.CBORDecodeError, ValueError) as e:
        print(f"verify_cose: {e}", file=sys.stderr)
        return 1
    print(f"signature OK (alg {headers[ALG_LABEL]})")
    try:
        show(cbor2.loads(payload))
    except (cbor2.CBORDecodeError, ValueError):
        print("payload (not CBOR): " + render(payload))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
