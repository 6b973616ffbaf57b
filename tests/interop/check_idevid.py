#!/usr/bin/python3
"""Independent check of an IDevID against the profile of SPEC.md section 5,
with Debian's python3-cryptography and a small DER reader of its own (so that
encodings, not only values, are checked).

usage: check_idevid.py IDEVID_PEM ISSUING_CA_PEM --serial S --hw-type OID
           --masa-url AUTHORITY --organization O --organizational-unit OU
           --common-name CN

An empty --masa-url, --organization, --organizational-unit or --common-name
means the extension or attribute must be absent. Exit status: 0 when every
field holds, 1 (with one line per failure on stderr) otherwise, 2 for usage.
"""
import argparse
import datetime
import sys

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtensionOID, NameOID

OID_HARDWARE_MODULE_NAME = "1.3.6.1.5.5.7.8.4"  # RFC 4108 section 5
OID_MASA_URL = "1.3.6.1.5.5.7.1.32"  # RFC 8995 section 2.3.2
OID_SERIAL_NUMBER = "2.5.4.5"
ECDSA_SIGNATURES = {"1.2.840.10045.4.3.2", "1.2.840.10045.4.3.3"}

TAG_INTEGER, TAG_OCTET_STRING, TAG_OID = 0x02, 0x04, 0x06
TAG_PRINTABLE_STRING, TAG_IA5_STRING = 0x13, 0x16
TAG_UTC_TIME, TAG_GENERALIZED_TIME = 0x17, 0x18
TAG_SEQUENCE, TAG_SET = 0x30, 0x31


class DerError(ValueError):
    pass


def read_tlv(data, pos=0):
    """One DER element at pos: (tag, contents, position after it)."""
    if pos + 2 > len(data):
        raise DerError("truncated element at offset %d" % pos)
    tag = data[pos]
    if tag & 0x1F == 0x1F:
        raise DerError("high tag number at offset %d" % pos)
    length = data[pos + 1]
    pos += 2
    if length == 0x80:
        raise DerError("indefinite length")
    if length > 0x80:
        count = length & 0x7F
        if count > 4 or pos + count > len(data) or data[pos] == 0:
            raise DerError("bad long-form length")
        length = int.from_bytes(data[pos:pos + count], "big")
        if length < 0x80:
            raise DerError("non-minimal length")
        pos += count
    if pos + length > len(data):
        raise DerError("length runs past the end")
    return tag, data[pos:pos + length], pos + length


def single(data, tag, what):
    """The contents of the one element of this tag that fills data."""
    found, contents, end = read_tlv(data)
    if found != tag:
        raise DerError("%s: tag 0x%02x, expected 0x%02x" % (what, found, tag))
    if end != len(data):
        raise DerError("%s: trailing bytes" % what)
    return contents


def children(contents):
    out, pos = [], 0
    while pos < len(contents):
        tag, value, pos = read_tlv(contents, pos)
        out.append((tag, value))
    return out


def oid_text(contents):
    arcs, value = [], 0
    for i, byte in enumerate(contents):
        if value == 0 and byte == 0x80:
            raise DerError("non-minimal OID arc")
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
        elif i == len(contents) - 1:
            raise DerError("OID ends inside an arc")
    if not arcs:
        raise DerError("empty OID")
    first = min(arcs[0] // 40, 2)
    return ".".join(str(a) for a in [first, arcs[0] - 40 * first] + arcs[1:])


class Checker:
    def __init__(self):
        self.failures = []

    def expect(self, condition, message):
        if not condition:
            self.failures.append(message)
        return condition


def check_tbs_encoding(cert, issuing, args, check):
    """Field encodings read from the TBSCertificate DER (RFC 5280 section 4.1)."""
    fields = children(single(cert.tbs_certificate_bytes, TAG_SEQUENCE, "TBSCertificate"))
    check.expect(len(fields) == 8, "TBSCertificate has %d fields, expected 8 "
                 "(version .. extensions)" % len(fields))
    version, serial, signature, issuer, validity, subject = fields[:6]
    check.expect(version == (0xA0, bytes([TAG_INTEGER, 1, 2])), "version is not v3")

    # SPEC.md section 5: random 8..19 octet positive serials (RFC 5280 4.1.2.2).
    check.expect(serial[0] == TAG_INTEGER, "serialNumber is not an INTEGER")
    octets = serial[1]
    check.expect(8 <= len(octets) <= 19,
                 "certificate serial is %d octets, expected 8..19" % len(octets))
    check.expect(octets and octets[0] & 0x80 == 0, "certificate serial is negative")
    check.expect(not (len(octets) > 1 and octets[0] == 0 and octets[1] & 0x80 == 0),
                 "certificate serial is not minimally encoded")

    # RFC 5758 section 3.2: ecdsa-with-SHA* with the parameters absent.
    algorithm = children(signature[1])
    check.expect(len(algorithm) == 1 and algorithm[0][0] == TAG_OID
                 and oid_text(algorithm[0][1]) in ECDSA_SIGNATURES,
                 "signature AlgorithmIdentifier is not ECDSA with absent parameters")

    check.expect(issuer[1] == single(issuing.subject.public_bytes(), TAG_SEQUENCE, "CA name"),
                 "issuer is not byte-for-byte the issuing CA's subject")

    times = children(validity[1])
    check.expect(len(times) == 2 and times[0][0] in (TAG_UTC_TIME, TAG_GENERALIZED_TIME),
                 "validity is not two times")
    if len(times) == 2:
        # 802.1AR section 8.5: notAfter 99991231235959Z as GeneralizedTime.
        check.expect(times[1] == (TAG_GENERALIZED_TIME, b"99991231235959Z"),
                     "notAfter is not GeneralizedTime 99991231235959Z: tag 0x%02x %r"
                     % (times[1][0], times[1][1]))

    serial_numbers = []
    for tag, rdn in children(subject[1]):
        check.expect(tag == TAG_SET, "subject RDN is not a SET")
        for _, attribute in children(rdn):
            parts = children(attribute)
            if parts[0][0] == TAG_OID and oid_text(parts[0][1]) == OID_SERIAL_NUMBER:
                serial_numbers.append(parts[1])
    check.expect(serial_numbers == [(TAG_PRINTABLE_STRING, args.serial.encode())],
                 "subject serialNumber is not one PrintableString %r: %r"
                 % (args.serial, serial_numbers))


def check_subject(cert, args, check):
    expected = [(NameOID.ORGANIZATION_NAME, args.organization, "O"),
                (NameOID.ORGANIZATIONAL_UNIT_NAME, args.organizational_unit, "OU"),
                (NameOID.COMMON_NAME, args.common_name, "CN")]
    for oid, value, label in expected:
        found = [a.value for a in cert.subject.get_attributes_for_oid(oid)]
        check.expect(found == ([value] if value else []),
                     "subject %s is %r, expected %r" % (label, found, value or "absent"))
    serial = cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
    if check.expect(len(serial) == 1, "subject has %d serialNumber attributes" % len(serial)):
        check.expect(serial[0].value == args.serial,
                     "subject serialNumber is %r, expected %r" % (serial[0].value, args.serial))
        check.expect(serial[0]._type.name == "PrintableString",
                     "subject serialNumber is a %s" % serial[0]._type.name)


def extension(cert, oid, check, label):
    try:
        return cert.extensions.get_extension_for_oid(oid)
    except x509.ExtensionNotFound:
        check.expect(False, "no %s extension" % label)
        return None


def check_extensions(cert, issuing, args, check):
    bc = extension(cert, ExtensionOID.BASIC_CONSTRAINTS, check, "basicConstraints")
    if bc:
        check.expect(bc.critical and not bc.value.ca and bc.value.path_length is None,
                     "basicConstraints is not critical CA:FALSE")

    ku = extension(cert, ExtensionOID.KEY_USAGE, check, "keyUsage")
    if ku:
        v = ku.value
        check.expect(ku.critical, "keyUsage is not critical")
        check.expect(v.digital_signature and v.key_encipherment and not
                     (v.content_commitment or v.data_encipherment or v.key_agreement
                      or v.key_cert_sign or v.crl_sign),
                     "keyUsage is not exactly digitalSignature, keyEncipherment")

    ski = extension(cert, ExtensionOID.SUBJECT_KEY_IDENTIFIER, check, "subjectKeyIdentifier")
    if ski:
        expected = x509.SubjectKeyIdentifier.from_public_key(cert.public_key()).digest
        check.expect(ski.value.digest == expected,
                     "subjectKeyIdentifier is not the SHA-1 of the public key (RFC 5280 "
                     "4.2.1.2 method 1)")

    aki = extension(cert, ExtensionOID.AUTHORITY_KEY_IDENTIFIER, check,
                    "authorityKeyIdentifier")
    if aki:
        ca_ski = issuing.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
        check.expect(aki.value.key_identifier == ca_ski.value.digest,
                     "authorityKeyIdentifier keyid is not the issuing CA's SKI")

    san = extension(cert, ExtensionOID.SUBJECT_ALTERNATIVE_NAME, check, "subjectAltName")
    if san:
        names = [n for n in san.value if isinstance(n, x509.OtherName)
                 and n.type_id.dotted_string == OID_HARDWARE_MODULE_NAME]
        if check.expect(len(names) == 1, "not one hardwareModuleName otherName in the SAN"):
            # RFC 4108 section 5: HardwareModuleName ::= SEQUENCE {
            #   hwType OBJECT IDENTIFIER, hwSerialNum OCTET STRING }
            fields = children(single(names[0].value, TAG_SEQUENCE, "HardwareModuleName"))
            check.expect(len(fields) == 2 and fields[0][0] == TAG_OID
                         and fields[1][0] == TAG_OCTET_STRING,
                         "HardwareModuleName is not { OID, OCTET STRING }")
            if len(fields) == 2:
                hw_type = oid_text(fields[0][1])
                check.expect(hw_type == args.hw_type,
                             "hwType is %s, expected %s" % (hw_type, args.hw_type))
                check.expect(fields[1][1] == args.serial.encode(),
                             "hwSerialNum is %r, expected %r" % (fields[1][1], args.serial))

    masa_oid = x509.ObjectIdentifier(OID_MASA_URL)
    if args.masa_url:
        masa = extension(cert, masa_oid, check, "id-pe-masa-url")
        if masa:
            check.expect(not masa.critical, "id-pe-masa-url is critical")
            value = single(masa.value.value, TAG_IA5_STRING, "MASAURLSyntax")
            check.expect(value == args.masa_url.encode(),
                         "MASA URL is %r, expected %r" % (value, args.masa_url))
    else:
        check.expect(all(e.oid != masa_oid for e in cert.extensions),
                     "id-pe-masa-url present, expected absent")


def check_validity_and_signature(cert, issuing, check):
    check.expect(cert.not_valid_after == datetime.datetime(9999, 12, 31, 23, 59, 59),
                 "notAfter is %s" % cert.not_valid_after)
    check.expect(cert.serial_number > 0, "certificate serial is not positive")
    check.expect(cert.version == x509.Version.v3, "not an X.509 v3 certificate")
    try:
        issuing.public_key().verify(cert.signature, cert.tbs_certificate_bytes,
                                    ec.ECDSA(cert.signature_hash_algorithm))
    except (InvalidSignature, TypeError, ValueError) as error:
        check.expect(False, "signature does not verify with the issuing CA's key (%r)" % error)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("idevid")
    parser.add_argument("issuing_ca")
    parser.add_argument("--serial", required=True)
    parser.add_argument("--hw-type", required=True)
    parser.add_argument("--masa-url", default="")
    parser.add_argument("--organization", default="")
    parser.add_argument("--organizational-unit", default="")
    parser.add_argument("--common-name", default="")
    args = parser.parse_args()

    check = Checker()
    try:
        with open(args.idevid, "rb") as f:
            cert = x509.load_pem_x509_certificate(f.read())
        with open(args.issuing_ca, "rb") as f:
            issuing = x509.load_pem_x509_certificate(f.read())
        check_tbs_encoding(cert, issuing, args, check)
        check_subject(cert, args, check)
        check_extensions(cert, issuing, args, check)
        check_validity_and_signature(cert, issuing, check)
    except (DerError, ValueError, IndexError, OSError) as error:
        check.expect(False, "cannot read the certificates: %s" % error)

    for failure in check.failures:
        print("check_idevid: FAIL: " + failure, file=sys.stderr)
    if check.failures:
        return 1
    print("check_idevid: every profile field holds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
