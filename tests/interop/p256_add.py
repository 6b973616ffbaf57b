#!/usr/bin/python3
"""Adds two P-256 points with arithmetic written here, not Vouchsafe's.

Usage: p256_add.py X_HEX Y_HEX   (uncompressed points, 04 || x || y)
Prints X + Y as uncompressed hex. Python's cryptography has no point
addition; the affine group law is short enough to write out (SEC 1 §2.2.1),
with the curve's constants from SEC 2 §2.4.2. Exit 1 if a point is not on
the curve or the sum is at infinity.
"""

import sys

P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
A = P - 3
B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B


def point(text):
    raw = bytes.fromhex(text)
    if len(raw) != 65 or raw[0] != 4:
        raise ValueError("not an uncompressed point")
    x, y = int.from_bytes(raw[1:33], "big"), int.from_bytes(raw[33:], "big")
    if (y * y - (x * x * x + A * x + B)) % P != 0:
        raise ValueError("not on P-256")
    return x, y


def add(p, q):
    (x1, y1), (x2, y2) = p, q
    if x1 == x2 and (y1 + y2) % P == 0:
        raise ValueError("the sum is the point at infinity")
    if p == q:
        slope = (3 * x1 * x1 + A) * pow(2 * y1, -1, P) % P
    else:
        slope = (y2 - y1) * pow(x2 - x1, -1, P) % P
    x3 = (slope * slope - x1 - x2) % P
    return x3, (slope * (x1 - x3) - y1) % P


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        x3, y3 = add(point(sys.argv[1]), point(sys.argv[2]))
    except ValueError as e:
        print(e, file=sys.stderr)
        return 1
    print("04" + x3.to_bytes(32, "big").hex() + y3.to_bytes(32, "big").hex())
    return 0


if __name__ == "__main__":
    sys.exit(main())
