#!/usr/bin/env python3
"""mok-vars.py IN.fd OUT.fd CERT.der: OVMF's variable store IN with MokList holding CERT, as OUT.

What `mokutil --import CERT` and a confirmation in MokManager leave behind, written without the
interactive reboot: shim finds MokList (non-volatile, boot-services only, an EFI_SIGNATURE_LIST
of one X.509 certificate), mirrors it to MokListRT, and the kernel, booted through shim under
Secure Boot, loads the certificate into its machine keyring, which module signatures are
checked against. The store is OVMF's authenticated variable format: a variable is appended
after the last one, where the free space (0xff) starts.
"""
import struct
import sys
import uuid

SHIM_LOCK = uuid.UUID("605dab50-e046-4300-abb6-3dd810dd8b23")
CERT_X509 = uuid.UUID("a5c059a1-94e4-4aa7-87b5-ab155c2bf072")
NV_BS = 0x1 | 0x2
VAR_ADDED = 0x3F


def signature_list(cert):
    data = SHIM_LOCK.bytes_le + cert
    return CERT_X509.bytes_le + struct.pack("<III", 28 + len(data), 0, len(data)) + data


def append_variable(store, name, guid, attrs, data):
    hlen = struct.unpack("<H", store[48:50])[0]
    off = hlen + 28  # past the firmware volume header and the variable store header
    while struct.unpack("<H", store[off:off + 2])[0] == 0x55AA:
        nsize, dsize = struct.unpack("<II", store[off + 36:off + 44])
        off = (off + 60 + nsize + dsize + 3) & ~3
    uname = (name + "\0").encode("utf-16-le")
    var = struct.pack("<HBBIQ16sIII", 0x55AA, VAR_ADDED, 0, attrs, 0, bytes(16), 0, len(uname), len(data))
    var += guid.bytes_le + uname + data
    end = hlen + struct.unpack("<I", store[hlen + 16:hlen + 20])[0]
    if off + len(var) > end or store[off:off + len(var)] != b"\xff" * len(var):
        sys.exit("mok-vars.py: no free space left in the variable store")
    store[off:off + len(var)] = var


def main():
    store = bytearray(open(sys.argv[1], "rb").read())
    if store[40:44] != b"_FVH":
        sys.exit("mok-vars.py: %s is no firmware volume" % sys.argv[1])
    cert = open(sys.argv[3], "rb").read()
    append_variable(store, "MokList", SHIM_LOCK, NV_BS, signature_list(cert))
    open(sys.argv[2], "wb").write(store)


main()
